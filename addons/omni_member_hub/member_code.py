# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Rotating member codes: the mini-program shows a code that identifies the
member at the POS for at most 60 seconds and only once."""
import hashlib
import hmac
import secrets
import time

from trytond.i18n import gettext
from trytond.model import ModelSQL, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import inactive_records, without_check_access

from .exceptions import MemberError
from .secret import SecretMixin

STEP = 30
# A code is accepted during its step and the next one
STEPS_VALID = 2
ID_DIGITS = 9
OTP_DIGITS = 9


def one_time_password(secret, member_id, step):
    message = b'%d:%d' % (member_id, step)
    digest = hmac.new(bytes.fromhex(secret), message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], 'big') % 10 ** OTP_DIGITS


class MemberCodeSecret(SecretMixin, ModelSQL):
    "Member Code Secret"
    __name__ = 'party.member_code_secret'
    _secret_fields = {'secret'}

    party = fields.Many2One(
        'party.party', "Member", required=True, ondelete='CASCADE')
    secret = fields.Char("Secret", required=True, strip=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('party_unique', Unique(t, t.party),
                'omni_member_hub.msg_member_code_secret_unique'),
            ]

    @classmethod
    @without_check_access
    def secret_of(cls, member):
        "Return the member's secret, created on first use"
        records = cls.search([('party', '=', member.id)], limit=1)
        if not records:
            records = cls.create([{
                        'party': member.id,
                        'secret': secrets.token_hex(32)}])
        return records[0].get_secret('secret')


class MemberCodeUse(ModelSQL):
    "Member Code Use"
    __name__ = 'party.member_code_use'

    party = fields.Many2One(
        'party.party', "Member", required=True, ondelete='CASCADE')
    step = fields.Integer("Step", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('party_step_unique', Unique(t, t.party, t.step),
                'omni_member_hub.msg_member_code_replayed'),
            ]


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    def member_code(self, at=None):
        """Return the member's current code and the time it expires at,
        as seconds since the epoch"""
        Secret = Pool().get('party.member_code_secret')
        if not self.member_number:
            raise MemberError(gettext(
                    'omni_member_hub.msg_not_member', party=self.rec_name))
        at = time.time() if at is None else at
        step = int(at // STEP)
        otp = one_time_password(Secret.secret_of(self), self.id, step)
        code = '%0*d%0*d' % (ID_DIGITS, self.id, OTP_DIGITS, otp)
        return code, (step + STEPS_VALID) * STEP

    @classmethod
    def is_rotating_code(cls, code):
        "Whether code has the shape of a rotating member code"
        code = (code or '').strip()
        return code.isdigit() and len(code) == ID_DIGITS + OTP_DIGITS

    @classmethod
    def identify_member(cls, code, at=None):
        """Return the member of a rotating code, which is then used up, or
        of a static member number, or raise MemberError"""
        pool = Pool()
        Secret = pool.get('party.member_code_secret')
        Use = pool.get('party.member_code_use')
        code = (code or '').strip()
        if not code.isdigit():
            with inactive_records():
                members = cls.search([('member_number', '=', code.upper())])
            if not members or not code:
                raise MemberError(gettext(
                        'omni_member_hub.msg_member_code_invalid'))
            return cls.member_replaced_by(members)[0]
        if len(code) != ID_DIGITS + OTP_DIGITS:
            raise MemberError(gettext(
                    'omni_member_hub.msg_member_code_invalid'))
        member_id, otp = int(code[:ID_DIGITS]), code[ID_DIGITS:]
        with inactive_records():
            members = cls.search([
                    ('id', '=', member_id),
                    ('member_number', '!=', None),
                    ])
        if not members:
            raise MemberError(gettext(
                    'omni_member_hub.msg_member_code_invalid'))
        member, = members
        secret = Secret.secret_of(member)
        now = int((time.time() if at is None else at) // STEP)
        for step in range(now, now - STEPS_VALID, -1):
            expected = '%0*d' % (
                OTP_DIGITS, one_time_password(secret, member.id, step))
            if hmac.compare_digest(expected, otp):
                with without_check_access():
                    if Use.search([
                                ('party', '=', member.id),
                                ('step', '=', step),
                                ]):
                        raise MemberError(gettext(
                                'omni_member_hub.msg_member_code_replayed'))
                    Use.create([{'party': member.id, 'step': step}])
                return cls.member_replaced_by([member])[0]
        raise MemberError(gettext(
                'omni_member_hub.msg_member_code_invalid'))
