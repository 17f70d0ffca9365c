# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The members' points ledger.

Entries are append-only.  Each award (a positive earn or adjust entry)
expires on its own date; an entry that takes points (redeem, expire, a
negative reverse or adjust) is allocated to the awards it consumed, oldest
expiry first, and an entry that gives points back (the reverse of a
redemption) allocates negative points to the same awards.  So the
balance, the sum of the entries, is always the sum of what remains of the
awards, and never negative.

Every operation on a member's points first locks the member's party row
and every entry written updates that row.  On PostgreSQL, whose
transactions read a snapshot (repeatable read), a concurrent operation
waits for the lock, and one whose snapshot is older than the last entry
written for the member fails with a serialization error, which Tryton's
dispatcher and routes retry in a new transaction that sees the new
balance; a refused redemption writes nothing and fails no one.  So the
check of the balance and the insert are atomic per member."""
import datetime
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from dateutil.relativedelta import relativedelta
from sql import For, Null
from sql.aggregate import Sum
from sql.conditionals import Case, Coalesce
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction, without_check_access

from .exceptions import PointsError

CHANNELS = [
    ('pos', "Store POS"),
    ('mall', "Mini-Program Mall"),
    ('back_office', "Back Office"),
    ]
AWARD_TYPES = ['earn', 'adjust']


class AppendOnlyMixin:
    "Records that are written once and never changed nor deleted"
    __slots__ = ()

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if mode in {'write', 'delete'}:
            raise AccessError(gettext(
                    'omni_member_hub.msg_points_append_only'))


class PointsEntry(AppendOnlyMixin, ModelSQL, ModelView):
    "Member Points Entry"
    __name__ = 'member.points.entry'

    member = fields.Many2One(
        'party.party', "Member", required=True, readonly=True,
        ondelete='RESTRICT')
    type = fields.Selection([
            ('earn', "Earn"),
            ('redeem', "Redeem"),
            ('expire', "Expire"),
            ('reverse', "Reverse"),
            ('adjust', "Adjust"),
            ], "Type", required=True, readonly=True)
    points = fields.Integer(
        "Points", required=True, readonly=True,
        help="Positive when the member gets points, negative when they "
        "are taken.")
    channel = fields.Selection(
        CHANNELS, "Channel", required=True, readonly=True)
    store = fields.Many2One(
        'stock.location', "Store", readonly=True, ondelete='RESTRICT',
        domain=[('type', '=', 'warehouse')])
    origin = fields.Reference(
        "Origin", selection='get_origins', readonly=True)
    date = fields.DateTime("Date", required=True, readonly=True)
    expires_on = fields.Date(
        "Expires on", readonly=True,
        states={
            'invisible': ~Eval('expires_on'),
            })
    description = fields.Char("Description", readonly=True)
    bonus_reason = fields.Selection([
            (None, ""),
            ('sign_in', "Sign-in"),
            ('share', "Share"),
            ], "Bonus", readonly=True)
    bonus_day = fields.Date("Bonus Day", readonly=True)
    reverses = fields.Many2One(
        'member.points.entry', "Reverses", readonly=True,
        ondelete='RESTRICT',
        states={
            'invisible': ~Eval('reverses'),
            })
    remaining = fields.Function(
        fields.Integer("Remaining",
            help="The points of the award not yet used or expired."),
        'get_remaining')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.member, Index.Equality())),
                Index(t, (t.origin, Index.Equality()),
                    where=t.origin != Null),
                Index(t, (t.reverses, Index.Equality()),
                    where=t.reverses != Null),
                Index(t, (t.expires_on, Index.Range()),
                    where=t.expires_on != Null),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls.__rpc__.update({
                'balance': RPC(instantiate=0, result=int),
                'redeemable': RPC(instantiate=0, result=int),
                'points_value': RPC(),
                'points_for': RPC(),
                })

    @classmethod
    def _get_origins(cls):
        "Return the models that entries may come from"
        return ['sale.sale', 'sale.point.sale', 'sale.point.payment']

    @classmethod
    def get_origins(cls):
        IrModel = Pool().get('ir.model')
        return [(None, '')] + [
            (m, IrModel.get_name(m)) for m in cls._get_origins()]

    @classmethod
    def get_remaining(cls, entries, name):
        Allocation = Pool().get('member.points.allocation')
        allocation = Allocation.__table__()
        cursor = Transaction().connection.cursor()
        remaining = {
            e.id: e.points if e.points > 0 and e.type in AWARD_TYPES else 0
            for e in entries}
        cursor.execute(*allocation.select(
                allocation.award, Sum(allocation.points),
                where=allocation.award.in_(list(remaining)),
                group_by=[allocation.award]))
        for award, used in cursor:
            remaining[award] -= used
        return remaining

    # Configuration helpers

    @classmethod
    def _config(cls):
        return Pool().get('member.configuration')(1)

    @classmethod
    def points_value(cls, points):
        "Return the yuan that the points pay"
        rate = cls._config().points_redeem_rate
        return (Decimal(points) / rate).quantize(
            Decimal('0.01'), rounding=ROUND_DOWN)

    @classmethod
    def points_for(cls, amount):
        "Return the points that pay the amount in yuan"
        rate = cls._config().points_redeem_rate
        return int((Decimal(amount) * rate).quantize(
                Decimal(1), rounding=ROUND_UP))

    @classmethod
    def redeem_cap(cls, order_amount):
        "Return the most yuan that points may pay of the order"
        cap = cls._config().points_redeem_cap
        return (Decimal(order_amount) * cap / 100).quantize(
            Decimal('0.01'), rounding=ROUND_DOWN)

    @classmethod
    def check_cap(cls, amount, order_amount):
        "Raise PointsError when points may not pay amount of the order"
        cap = cls.redeem_cap(order_amount)
        if amount > cap:
            raise PointsError(gettext(
                    'omni_member_hub.msg_points_cap',
                    amount=Decimal(amount).quantize(Decimal('0.01')),
                    cap=cap))

    @classmethod
    def redeemable(cls, member, order_amount):
        """Return the most points the member may spend on an order of
        order_amount yuan"""
        rate = cls._config().points_redeem_rate
        capped = int(cls.redeem_cap(order_amount) * rate)
        return max(min(cls.balance(member), capped), 0)

    # Reading the ledger

    @classmethod
    def balance(cls, member):
        "Return the member's points balance"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                Coalesce(Sum(table.points), 0),
                where=table.member == int(member)))
        return int(cursor.fetchone()[0])

    @classmethod
    def _awards(cls, member, first=None):
        """Return [(award id, remaining)] of the member's awards with
        points left, first the one of id first, then oldest expiry first"""
        pool = Pool()
        Allocation = pool.get('member.points.allocation')
        table = cls.__table__()
        allocation = Allocation.__table__()
        cursor = Transaction().connection.cursor()
        used = allocation.select(
            allocation.award, Sum(allocation.points).as_('points'),
            group_by=[allocation.award])
        remaining = table.points - Coalesce(used.points, 0)
        cursor.execute(*table.join(used, 'LEFT',
                condition=used.award == table.id).select(
                table.id, remaining,
                where=(table.member == int(member))
                & table.type.in_(AWARD_TYPES)
                & (table.points > 0)
                & (remaining > 0),
                order_by=[
                    Case((table.id == (first or 0), 0), else_=1).asc,
                    Coalesce(table.expires_on, datetime.date.max).asc,
                    table.id.asc]))
        return list(cursor)

    @classmethod
    def points_of(cls, origin):
        "Return the points that the entries of origin add up to"
        return sum(e.points for e in cls.search([
                    ('origin', '=', str(origin)),
                    ]))

    @classmethod
    def _active(cls, origin, types):
        "Return the entries of origin of types that are not reversed"
        reversing = cls.search([
                ('origin', '=', str(origin)),
                ('reverses', '!=', None),
                ])
        reversed_ = {e.reverses for e in reversing}
        return [e for e in cls.search([
                    ('origin', '=', str(origin)),
                    ('type', 'in', types),
                    ('reverses', '=', None),
                    ], order=[('id', 'ASC')])
            if e not in reversed_]

    # Writing the ledger

    @classmethod
    def lock_member(cls, member):
        """Serialize the points operations of the member until the end of
        the transaction, see the module's docstring; return the member who
        holds the points now: the survivor when member was merged"""
        Party = Pool().get('party.party')
        party = Party.__table__()
        transaction = Transaction()
        if not member:
            return member
        if transaction.database.has_select_for():
            cursor = transaction.connection.cursor()
            cursor.execute(*party.select(
                    party.id, where=party.id == int(member),
                    for_=For('UPDATE')))
        survivor, = Party.member_replaced_by([int(member)])
        if survivor.id != int(member):
            return cls.lock_member(survivor)
        return survivor

    @classmethod
    def _touch_member(cls, member):
        "Make the operations of the member that wait fail and retry"
        Party = Pool().get('party.party')
        party = Party.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*party.update(
                [party.write_date], [party.write_date],
                where=party.id == int(member)))

    @classmethod
    def _check_member(cls, member):
        if not member or not member.is_member:
            raise PointsError(gettext(
                    'omni_member_hub.msg_points_not_member',
                    party=member.rec_name if member else ''))

    @classmethod
    def _new(cls, member, type_, points, channel, **values):
        entry = cls(
            member=member, type=type_, points=points, channel=channel,
            date=datetime.datetime.now(), **values)
        entry.save()
        cls._touch_member(member)
        return entry

    @classmethod
    def _take(cls, entry, first=None):
        "Allocate the points the entry takes to the awards, oldest first"
        Allocation = Pool().get('member.points.allocation')
        wanted, allocations = -entry.points, []
        for award, remaining in cls._awards(entry.member, first=first):
            if wanted <= 0:
                break
            used = min(wanted, remaining)
            allocations.append(Allocation(
                    entry=entry, award=award, points=used))
            wanted -= used
        assert wanted == 0, "allocations do not cover the entry"
        Allocation.save(allocations)

    @classmethod
    def _give_back(cls, entry, taken):
        "Allocate the entry's points back to the awards taken consumed"
        Allocation = Pool().get('member.points.allocation')
        Allocation.save([Allocation(
                    entry=entry, award=a.award, points=-a.points)
                for a in Allocation.search([('entry', '=', taken.id)])])

    @classmethod
    def _award(cls, member, points, channel, store=None, origin=None,
            type_='earn', **values):
        Date = Pool().get('ir.date')
        validity = cls._config().points_validity
        return cls._new(
            member, type_, points, channel, store=store,
            origin=str(origin) if origin else None,
            expires_on=Date.today() + relativedelta(months=validity),
            **values)

    @classmethod
    def _deduct(cls, member, points, type_, channel, store=None,
            origin=None, **values):
        "Take points from the member, who must have them"
        entry = cls._new(
            member, type_, -points, channel, store=store,
            origin=str(origin) if origin else None, **values)
        cls._take(entry)
        return entry

    @classmethod
    @without_check_access
    def earn(cls, member, amount, channel, store=None, origin=None,
            lines=None):
        """Award the points that amount yuan paid earns the member on the
        channel, applying the channel's rule, its excluded products when
        lines ((product, amount) pairs) are given and the tier multiplier;
        return the entry, the one of origin already written or None when
        it earns nothing"""
        pool = Pool()
        Rule = pool.get('member.points.rule')
        Tier = pool.get('member.tier')
        if not member:
            return
        rule = Rule.of_channel(channel)
        if not rule or amount <= 0:
            return
        member = cls.lock_member(member)
        if not member.is_member:
            return
        points = rule.points(
            rule.eligible(Decimal(amount), lines), Tier.multiplier_of(member))
        if origin:
            active = cls._active(origin, ['earn'])
            if active:
                return active[0]
        if points <= 0:
            return
        return cls._award(member, points, channel, store, origin)

    @classmethod
    @without_check_access
    def deduct_return(cls, member, amount, channel, store=None, origin=None,
            lines=None):
        """Take back from the member the points that a return of amount
        yuan had earned, as much as the balance allows; return the adjust
        entry or None"""
        pool = Pool()
        Rule = pool.get('member.points.rule')
        Tier = pool.get('member.tier')
        if not member:
            return
        rule = Rule.of_channel(channel)
        if not rule:
            return
        member = cls.lock_member(member)
        if not member.is_member:
            return
        points = rule.points(
            rule.eligible(abs(Decimal(amount)), lines and [
                    (p, abs(a)) for p, a in lines]),
            Tier.multiplier_of(member))
        if origin and cls._active(origin, ['adjust']):
            return
        points = min(points, cls.balance(member))
        if points <= 0:
            return
        return cls._deduct(
            member, points, 'adjust', channel, store, origin,
            description=gettext('omni_member_hub.msg_points_return'))

    @classmethod
    @without_check_access
    def redeem(cls, member, points, channel, store=None, origin=None):
        """Spend the member's points, oldest expiry first, and return the
        redeem entry (the one of origin if already written); raise
        PointsError when the balance is short"""
        if points <= 0:
            raise PointsError(gettext(
                    'omni_member_hub.msg_points_redeem_positive',
                    points=points))
        member = cls.lock_member(member)
        cls._check_member(member)
        if origin:
            active = cls._active(origin, ['redeem'])
            if active:
                return active[0]
        balance = cls.balance(member)
        if balance < points:
            raise PointsError(gettext(
                    'omni_member_hub.msg_points_insufficient',
                    member=member.rec_name, balance=balance,
                    points=points))
        return cls._deduct(member, points, 'redeem', channel, store, origin)

    @classmethod
    @without_check_access
    def bonus(cls, member, reason, day):
        """Award the mini-program's bonus of reason, 'sign_in' (once per
        member per day) or 'share' (up to the daily cap), for the day;
        return the entry or None when nothing more is due"""
        config = cls._config()
        if reason not in {'sign_in', 'share'}:
            raise PointsError(gettext(
                    'omni_member_hub.msg_points_bonus_reason',
                    reason=reason))
        member = cls.lock_member(member)
        cls._check_member(member)
        given = cls.search([
                ('member', '=', member.id),
                ('bonus_reason', '=', reason),
                ('bonus_day', '=', day),
                ])
        if reason == 'sign_in':
            points = 0 if given else config.sign_in_points
        else:
            points = min(
                config.share_points,
                config.share_daily_cap - sum(e.points for e in given))
        if points <= 0:
            return
        return cls._award(
            member, points, 'mall', bonus_reason=reason, bonus_day=day)

    @classmethod
    @without_check_access
    def adjust(cls, member, points, description, channel='back_office',
            store=None, origin=None):
        """Give (positive) or take (negative, at most the balance) points
        by hand and return the entry"""
        member = cls.lock_member(member)
        if points > 0:
            return cls._award(
                member, points, channel, store, origin, type_='adjust',
                description=description)
        balance = cls.balance(member)
        if balance < -points:
            raise PointsError(gettext(
                    'omni_member_hub.msg_points_insufficient',
                    member=member.rec_name, balance=balance,
                    points=-points))
        return cls._deduct(
            member, -points, 'adjust', channel, store, origin,
            description=description)

    @classmethod
    @without_check_access
    def reverse(cls, origin):
        """Undo what origin earned (as far as the balance allows) and give
        back what it redeemed or took, each once; return the new entries"""
        entries = cls.search([('origin', '=', str(origin))], limit=1)
        if not entries:
            return []
        member = cls.lock_member(entries[0].member)
        reversing = []
        for entry in cls._active(origin, ['earn', 'redeem', 'adjust']):
            values = {
                'store': entry.store,
                'origin': str(origin),
                'reverses': entry,
                }
            if entry.points < 0:
                reverse = cls._new(
                    member, 'reverse', -entry.points, entry.channel, **values)
                cls._give_back(reverse, entry)
            else:
                points = min(entry.points, cls.balance(member))
                reverse = cls._new(
                    member, 'reverse', -points, entry.channel, **values)
                cls._take(reverse, first=entry.id)
            reversing.append(reverse)
        return reversing

    @classmethod
    @without_check_access
    def expire(cls, date=None):
        """Cron: write an expire entry for what remains of the awards
        expired on date (today)"""
        pool = Pool()
        Allocation = pool.get('member.points.allocation')
        Date = pool.get('ir.date')
        Party = pool.get('party.party')
        today = date or Date.today()
        members = {e.member for e in cls.search([
                    ('expires_on', '<', today),
                    ('type', 'in', AWARD_TYPES),
                    ('points', '>', 0),
                    ])}
        for member in Party.browse(sorted(members, key=lambda m: m.id)):
            member = cls.lock_member(member)
            expired = cls.search([
                    ('member', '=', member.id),
                    ('expires_on', '<', today),
                    ('type', 'in', AWARD_TYPES),
                    ('points', '>', 0),
                    ])
            for award in expired:
                if award.remaining > 0:
                    entry = cls._new(
                        member, 'expire', -award.remaining, award.channel,
                        store=award.store,
                        description=gettext(
                            'omni_member_hub.msg_points_expired',
                            date=award.expires_on))
                    Allocation.save([Allocation(
                                entry=entry, award=award,
                                points=-entry.points)])


class PointsAllocation(AppendOnlyMixin, ModelSQL, ModelView):
    "Member Points Allocation"
    __name__ = 'member.points.allocation'

    entry = fields.Many2One(
        'member.points.entry', "Entry", required=True, readonly=True,
        ondelete='RESTRICT',
        help="The entry that takes points from the award or gives them "
        "back.")
    award = fields.Many2One(
        'member.points.entry', "Award", required=True, readonly=True,
        ondelete='RESTRICT')
    points = fields.Integer(
        "Points", required=True, readonly=True,
        help="Positive when taken from the award, negative when given "
        "back.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.award, Index.Equality())),
                Index(t, (t.entry, Index.Equality())),
                })
