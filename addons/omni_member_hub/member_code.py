# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Rotating member codes: the mini-program shows a code that identifies the
member at the POS for at most 60 seconds and only once."""
import hashlib
import hmac
import secrets

from trytond.model import ModelSQL, Unique, fields
from trytond.transaction import without_check_access

from .model import FormerTableMixin
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


class MemberCodeSecret(FormerTableMixin, SecretMixin, ModelSQL):
    "Member Code Secret"
    __name__ = 'member.code_secret'
    _former_table = 'party_member_code_secret'
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


class MemberCodeUse(FormerTableMixin, ModelSQL):
    "Member Code Use"
    __name__ = 'member.code_use'
    _former_table = 'party_member_code_use'

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
