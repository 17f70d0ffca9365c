# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime
import hmac
import time

import phonenumbers
from sql import Null
from sql.aggregate import Sum
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, Id
from trytond.rpc import RPC
from trytond.transaction import (
    Transaction,
    inactive_records,
    without_check_access,
)

from trytond.modules.product import round_price

from .exceptions import MemberError, MobileError
from .member_code import (
    ID_DIGITS,
    OTP_DIGITS,
    STEP,
    STEPS_VALID,
    one_time_password,
)

DEFAULT_REGION = 'CN'


def normalize_mobile(value, region=DEFAULT_REGION):
    """Return the mobile number in E.164, read as a number of region unless
    it starts with + and a country code, or raise MobileError"""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise MobileError(gettext(
                'omni_member_hub.msg_mobile_invalid', mobile=value,
                region=region))
    if phonenumbers.number_type(number) not in {
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}:
        raise MobileError(gettext(
                'omni_member_hub.msg_mobile_not_mobile', mobile=value))
    return phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.E164)


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    member_number = fields.Char(
        "Member Number", readonly=True, strip=False,
        help="The static number printed on the member's card.")
    member_mobile = fields.Char(
        "Member Mobile",
        states={
            'required': Bool(Eval('member_number')),
            },
        help="The mobile number that identifies the member in every "
        "channel, in international format (E.164).")
    member_join_channel = fields.Selection([
            (None, ''),
            ('pos', "Store POS"),
            ('mall', "Mini-Program Mall"),
            ('back_office', "Back Office"),
            ], "Join Channel", readonly=True)
    member_join_store = fields.Many2One(
        'stock.location', "Join Store", readonly=True,
        domain=[('type', '=', 'warehouse')],
        help="The store where the member joined, credited in the reports.")
    member_joined_at = fields.DateTime("Joined at", readonly=True)
    wechat_identities = fields.One2Many(
        'party.wechat_identity', 'party', "WeChat Identities", readonly=True)
    member_tier = fields.Many2One(
        'member.tier', "Tier", readonly=True, ondelete='RESTRICT')
    member_tier_history = fields.One2Many(
        'member.tier.history', 'member', "Tier History", readonly=True)
    points_balance = fields.Function(
        fields.Integer("Points Balance"), 'get_points_balance')
    points_entries = fields.One2Many(
        'member.points.entry', 'member', "Points Entries", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('member_number_unique',
                Unique(t, t.member_number),
                'omni_member_hub.msg_member_number_unique'),
            ('member_mobile_unique',
                Unique(t, t.member_mobile),
                'omni_member_hub.msg_member_mobile_unique'),
            ]
        cls._sql_indexes.add(Index(
                t, (t.member_mobile, Index.Equality()),
                where=t.member_mobile != Null))
        cls.__rpc__.update({
                'register_member': RPC(readonly=False, result=int),
                })

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default else {}
        for name in ['member_number', 'member_mobile', 'member_join_channel',
                'member_join_store', 'member_joined_at', 'wechat_identities',
                'member_tier', 'member_tier_history', 'points_entries']:
            default.setdefault(name)
        return super().copy(parties, default=default)

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('member_mobile'):
            values['member_mobile'] = normalize_mobile(values['member_mobile'])
        return values

    @property
    def is_member(self):
        return bool(self.member_number)

    @classmethod
    def register_member(
            cls, mobile, name=None, channel='back_office', store=None):
        """Return the member of the mobile number, made a member of the
        channel and store if new; the same person registering in another
        channel lands on the same member"""
        ContactMechanism = Pool().get('party.contact_mechanism')
        mobile = normalize_mobile(mobile)
        # Registrations are rare: one at a time keeps one member per number
        cls.lock()
        with inactive_records():
            parties = cls.search([('member_mobile', '=', mobile)], limit=1)
        parties = cls.member_replaced_by(parties)
        if not parties:
            # A customer known by the mobile before the member programme
            parties = cls.search([
                    ('contact_mechanisms', 'where', [
                            ('type', '=', 'mobile'),
                            ('value_compact', '=', mobile),
                            ]),
                    ], order=[('id', 'ASC')], limit=1)
        if parties:
            party, = parties
            if not party.member_number:
                party.member_mobile = mobile
                party._make_member(channel, store)
                party.save()
            return party
        member = cls(name=name or mask_mobile(mobile), member_mobile=mobile)
        member.contact_mechanisms = [
            ContactMechanism(type='mobile', value=mobile)]
        member._make_member(channel, store)
        member.save()
        return member

    def _make_member(self, channel, store):
        Configuration = Pool().get('party.configuration')
        self.member_number = Configuration(1).member_sequence.get()
        self.member_join_channel = channel
        self.member_join_store = store
        self.member_joined_at = datetime.datetime.now()

    def member_price(self, price):
        "Return the price after the member's tier discount"
        Tier = Pool().get('member.tier')
        if price is None:
            return price
        return round_price(price * (1 - Tier.discount_of(self)))

    @classmethod
    def get_points_balance(cls, parties, name):
        Entry = Pool().get('member.points.entry')
        table = Entry.__table__()
        cursor = Transaction().connection.cursor()
        balances = dict.fromkeys([p.id for p in parties], 0)
        cursor.execute(*table.select(
                table.member, Sum(table.points),
                where=table.member.in_(list(balances)),
                group_by=[table.member]))
        balances.update((m, int(b)) for m, b in cursor)
        return balances

    def member_code(self, at=None):
        """Return the member's current code and the time it expires at,
        as seconds since the epoch"""
        Secret = Pool().get('member.code_secret')
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
        Secret = pool.get('member.code_secret')
        Use = pool.get('member.code_use')
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

    @classmethod
    def merge_members(cls, source, survivor):
        """Merge source into survivor through party.replace and return the
        audit record; merging the same pair again changes nothing"""
        pool = Pool()
        Merge = pool.get('member.merge')
        Replace = pool.get('party.replace', type='wizard')
        done = Merge.search([('source', '=', source.id)], limit=1)
        if done:
            if done[0].survivor != survivor:
                raise MemberError(gettext(
                        'omni_member_hub.msg_member_merged_elsewhere',
                        party=source.rec_name,
                        survivor=done[0].survivor.rec_name))
            return done[0]
        # The session is written in this transaction: a failure rolls it
        # back with the rest
        session_id, _, _ = Replace.create()
        replace = Replace(session_id)
        replace.ask.source = source
        replace.ask.destination = survivor
        with Transaction().set_context(_member_merge=True):
            replace.transition_replace()
        Replace.delete(session_id)
        merge, = Merge.search([('source', '=', source.id)])
        return merge

    @classmethod
    def member_replaced_by(cls, parties):
        "Return each party, or the active party that replaced it"
        result = []
        with inactive_records():
            for party in cls.browse(parties):
                seen = set()
                while party.replaced_by and party.id not in seen:
                    seen.add(party.id)
                    party = party.replaced_by
                result.append(party)
        return result


def mask_mobile(mobile):
    "Return the number with its middle digits hidden, as a default name"
    return mobile[:-8] + '****' + mobile[-4:]


class WeChatIdentity(ModelSQL, ModelView):
    "WeChat Identity"
    __name__ = 'party.wechat_identity'

    party = fields.Many2One(
        'party.party', "Member", required=True, ondelete='CASCADE')
    appid = fields.Char("App ID", required=True, strip=False)
    openid = fields.Char("OpenID", required=True, strip=False)
    unionid = fields.Char(
        "UnionID", strip=False,
        help="The identifier shared by the apps of the same WeChat "
        "Open Platform account.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('app_openid_unique', Unique(t, t.appid, t.openid),
                'omni_member_hub.msg_wechat_identity_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.unionid, Index.Equality()),
                    where=t.unionid != Null),
                Index(t, (t.party, Index.Equality())),
                })

    def get_rec_name(self, name):
        return '%s @ %s' % (self.openid, self.appid)

    @classmethod
    def member_of(cls, appid, openid, unionid=None):
        """Return the member of the WeChat identity, or of another app's
        identity with the same unionid, or None"""
        identities = cls.search([
                ('appid', '=', appid),
                ('openid', '=', openid),
                ], limit=1)
        if not identities and unionid:
            identities = cls.search([('unionid', '=', unionid)], limit=1)
        if identities:
            return identities[0].party

    @classmethod
    def bind(cls, member, appid, openid, unionid=None):
        """Link the identity to the member and return it; an identity that
        belongs to another member raises MemberError.  Binding a WeChat
        account other than those the member has queues a notice to the
        member"""
        Notification = Pool().get('member.notification')
        identities = cls.search([
                ('appid', '=', appid),
                ('openid', '=', openid),
                ], limit=1)
        if identities:
            identity, = identities
            if identity.party != member:
                raise MemberError(gettext(
                        'omni_member_hub.msg_wechat_identity_taken',
                        member=identity.party.rec_name))
            if unionid and identity.unionid != unionid:
                identity.unionid = unionid
                identity.save()
            return identity
        others = cls.search([('party', '=', member.id)])
        identity = cls(
            party=member, appid=appid, openid=openid, unionid=unionid)
        identity.save()
        if any(o.unionid != unionid or not unionid for o in others):
            # Another WeChat account now opens the member's account: tell
            # the member, who may not be the one who bound it
            Notification.queue(member, 'wechat_bound', {
                    'appid': appid,
                    'accounts': len(others) + 1,
                    }, key='wechat_bound:%s' % identity.id, origin=identity)
        return identity


class Configuration(metaclass=PoolMeta):
    __name__ = 'party.configuration'

    member_sequence = fields.Many2One(
        'ir.sequence', "Member Sequence", required=True,
        domain=[
            ('sequence_type', '=',
                Id('omni_member_hub', 'sequence_type_member')),
            ],
        help="Numbers the members' cards.")

    @classmethod
    def default_member_sequence(cls):
        ModelData = Pool().get('ir.model.data')
        try:
            return ModelData.get_id('omni_member_hub', 'sequence_member')
        except KeyError:
            return None


class Replace(metaclass=PoolMeta):
    __name__ = 'party.replace'

    @classmethod
    def fields_to_replace(cls):
        return super().fields_to_replace() + [
            ('member.points.entry', 'member'),
            ('member.tier.history', 'member'),
            ]
