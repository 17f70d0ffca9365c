# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Coupons issued to members and redeemed once in any channel.

A campaign is a `sale.promotion` with a coupon: the promotion's amount is
the order's minimum and the coupon's discount is taken off the order
(满100减20: amount 100, discount 20).  A live redemption per number is
what makes a coupon used at most once: the exclusion constraint on live
redemptions refuses the second one, even from a concurrent transaction."""
import datetime
import secrets
from decimal import Decimal

from sql import Literal, Null, Union
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Case
from sql.operators import Equal
from trytond import backend
from trytond.i18n import gettext
from trytond.model import Exclude, Index, ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.model.modelsql import SQLConstraintError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from trytond.modules.currency.fields import Monetary
from trytond.modules.product import round_price

from .exceptions import CouponError

CHANNELS = [
    ('pos', "POS"),
    ('mall', "Mall"),
    ('back_office', "Back Office"),
    ]


class SaleConfiguration(metaclass=PoolMeta):
    __name__ = 'sale.configuration'

    coupon_discount_product = fields.Many2One(
        'product.product', "Coupon Discount Product",
        domain=[('type', '=', 'service')],
        help="The service product of the negative line that carries "
        "a coupon's discount on a POS sale.")


class Promotion(metaclass=PoolMeta):
    __name__ = 'sale.promotion'

    def get_coupon_discount(self):
        "Return the fixed discount of the promotion's coupons"
        return max(
            (c.discount_amount or 0 for c in self.coupons), default=0)

    def apply(self, sale):
        discount = self.get_coupon_discount()
        if not discount:
            return super().apply(sale)
        # Spread the fixed discount over the lines in proportion
        lines = [
            line for line in sale.lines
            if line.type == 'line' and self.is_valid_sale_line(line)]
        total = sum(line.amount for line in lines)
        if not total:
            return
        ratio = max(1 - discount / total, Decimal(0))
        for line in lines:
            line.unit_price = round_price(line.unit_price * ratio)
            line.promotion = self
        sale.lines = sale.lines


class PromotionCoupon(metaclass=PoolMeta):
    __name__ = 'sale.promotion.coupon'

    discount_amount = Monetary(
        "Discount", currency='currency', digits='currency',
        help="Taken off an order that reaches the promotion's amount.")
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    limit_per_member = fields.Integer(
        "Limit per Member",
        help="How many numbers a member can hold, 0 for no limit.")
    channels = fields.MultiSelection(
        CHANNELS, "Channels", help="Where the coupon is accepted; "
        "leave empty for everywhere.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'claim': RPC(readonly=False, result=int),
                'push': RPC(
                    readonly=False, result=lambda r: list(map(int, r))),
                })

    @classmethod
    def default_limit_per_member(cls):
        return 1

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    @classmethod
    def claim(cls, member, coupon):
        """Issue a number of the coupon to the member who claims it in the
        mall and return it"""
        pool = Pool()
        Party = pool.get('party.party')
        member, coupon = Party(int(member)), cls(int(coupon))
        coupon.check_issue(member)
        number, = coupon.issue([member], 'claim')
        return number

    @classmethod
    def push(cls, coupon, members, how='push'):
        """Issue a number of the coupon to each member, skipping the members
        at their limit; return the numbers issued"""
        pool = Pool()
        Party = pool.get('party.party')
        coupon = cls(int(coupon))
        members = Party.browse(list(map(int, members)))
        coupon.check_dates()
        held = coupon.held_by(members)
        limit = coupon.limit_per_member
        members = [
            m for m in members if not limit or held.get(m.id, 0) < limit]
        return coupon.issue(members, how)

    def held_by(self, members):
        "Return the number of numbers of the coupon each member holds"
        Number = Pool().get('sale.promotion.coupon.number')
        number = Number.__table__()
        cursor = Transaction().connection.cursor()
        held = {}
        for sub_ids in grouped_slice(
                [m.id for m in members], backend.MAX_QUERY_PARAMS):
            cursor.execute(*number.select(
                    number.party, Count(number.id),
                    where=(number.coupon == self.id)
                    & fields.SQL_OPERATORS['in'](number.party, list(sub_ids)),
                    group_by=[number.party]))
            held.update(cursor)
        return held

    def check_dates(self):
        Date = Pool().get('ir.date')
        promotion = self.promotion
        today = Date.today()
        if promotion.end_date and promotion.end_date < today:
            raise CouponError(gettext(
                    'omni_member_hub.msg_coupon_campaign_ended',
                    coupon=self.rec_name))
        if not promotion.active:
            raise CouponError(gettext(
                    'omni_member_hub.msg_coupon_campaign_ended',
                    coupon=self.rec_name))

    def check_issue(self, member):
        self.check_dates()
        limit = self.limit_per_member
        if limit and self.held_by([member]).get(member.id, 0) >= limit:
            raise CouponError(gettext(
                    'omni_member_hub.msg_coupon_limit_reached',
                    coupon=self.rec_name, limit=limit))

    def issue(self, members, how):
        pool = Pool()
        Number = pool.get('sale.promotion.coupon.number')
        now = datetime.datetime.now()
        numbers = []
        for member in members:
            if not member.member_number:
                raise CouponError(gettext(
                        'omni_member_hub.msg_not_member',
                        party=member.rec_name))
            number = Number(
                coupon=self, company=self.company, party=member,
                number=Number.generate_number(), issued_at=now,
                issued_how=how)
            number.on_change_coupon()
            numbers.append(number)
        Number.save(numbers)
        return numbers


class PromotionCouponNumber(metaclass=PoolMeta):
    __name__ = 'sale.promotion.coupon.number'

    party = fields.Many2One(
        'party.party', "Member", ondelete='RESTRICT',
        domain=[('member_number', '!=', None)],
        help="The member the number was issued to; "
        "anyone can use a number without member.")
    issued_at = fields.DateTime("Issued at", readonly=True)
    issued_how = fields.Selection([
            (None, ""),
            ('claim', "Claimed"),
            ('push', "Pushed"),
            ('campaign', "Targeted Campaign"),
            ], "Issued by", readonly=True)
    redemption = fields.Function(fields.Many2One(
            'sale.promotion.coupon.redemption', "Redemption"),
        'get_redemption')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.party, Index.Equality())),
                Index(t, (t.number, Index.Equality())),
                })

    @classmethod
    def generate_number(cls):
        "Return a new random code to print or show as a barcode"
        return 'C' + secrets.token_hex(6).upper()

    @classmethod
    def get_redemption(cls, numbers, name):
        Redemption = Pool().get('sale.promotion.coupon.redemption')
        result = dict.fromkeys(map(int, numbers))
        for redemption in Redemption.search([
                    ('number', 'in', list(map(int, numbers))),
                    ('state', '=', 'done'),
                    ]):
            result[redemption.number.id] = redemption.id
        return result

    @classmethod
    def usable_by(cls, member, channel, amount=None):
        "Return the member's numbers usable in the channel for the amount"
        numbers = cls.search([
                ('party', '=', member.id),
                ('active', '=', True),
                ], order=[('end_date', 'ASC NULLS LAST'), ('id', 'ASC')])
        usable = []
        for number in numbers:
            try:
                number.check_use(member, channel, amount)
            except CouponError:
                continue
            usable.append(number)
        return usable

    @classmethod
    def find(cls, code):
        "Return the number with the code, the one valid today first"
        Date = Pool().get('ir.date')
        today = Date.today()
        code = (code or '').strip().upper()
        numbers = cls.search([
                ('number', '=', code),
                ('active', 'in', [True, False]),
                ], order=[('start_date', 'DESC NULLS LAST')])
        if not numbers:
            raise CouponError(gettext(
                    'omni_member_hub.msg_coupon_unknown', code=code))
        for number in numbers:
            if ((number.start_date or datetime.date.min) <= today
                    <= (number.end_date or datetime.date.max)):
                return number
        return numbers[0]

    def check_use(self, member, channel, amount=None):
        "Raise CouponError unless the member can use the number"
        pool = Pool()
        Date = pool.get('ir.date')
        Lang = pool.get('ir.lang')
        Redemption = pool.get('sale.promotion.coupon.redemption')
        lang = Lang.get()
        today = Date.today()
        coupon = self.coupon
        promotion = coupon.promotion
        if self.start_date and self.start_date > today:
            raise CouponError(gettext(
                    'omni_member_hub.msg_coupon_not_yet_valid',
                    code=self.number, date=lang.strftime(self.start_date)))
        if ((self.end_date and self.end_date < today)
                or not promotion.active):
            raise CouponError(gettext(
                    'omni_member_hub.msg_coupon_expired', code=self.number))
        if self.party and self.party != member:
            raise CouponError(gettext(
                    'omni_member_hub.msg_coupon_foreign', code=self.number))
        if Redemption.search([
                    ('number', '=', self.id),
                    ('state', '=', 'done'),
                    ], limit=1):
            raise CouponError(gettext(
                    'omni_member_hub.msg_coupon_already_used',
                    code=self.number))
        if coupon.channels and channel not in coupon.channels:
            raise CouponError(gettext(
                    'omni_member_hub.msg_coupon_channel', code=self.number))
        if (amount is not None and promotion.amount
                and amount < promotion.amount):
            raise CouponError(gettext(
                    'omni_member_hub.msg_coupon_below_minimum',
                    code=self.number,
                    minimum=lang.currency(promotion.amount, coupon.currency)))

    def get_discount(self, amount):
        "Return the discount the number gives on the amount"
        return min(self.coupon.discount_amount or Decimal(0), amount)


class Redemption(Workflow, ModelSQL, ModelView):
    "Coupon Redemption"
    __name__ = 'sale.promotion.coupon.redemption'

    number = fields.Many2One(
        'sale.promotion.coupon.number', "Number", required=True,
        readonly=True, ondelete='RESTRICT')
    coupon = fields.Function(
        fields.Many2One('sale.promotion.coupon', "Coupon"),
        'get_coupon', searcher='search_coupon')
    member = fields.Many2One(
        'party.party', "Member", readonly=True, ondelete='RESTRICT')
    channel = fields.Selection(CHANNELS, "Channel", required=True,
        readonly=True)
    store = fields.Many2One(
        'stock.location', "Store", readonly=True, ondelete='RESTRICT',
        domain=[('type', '=', 'warehouse')])
    origin = fields.Reference(
        "Origin", selection='get_origins', readonly=True)
    date = fields.DateTime("Date", required=True, readonly=True)
    state = fields.Selection([
            ('done', "Redeemed"),
            ('reversed', "Reversed"),
            ], "State", required=True, readonly=True, sort=False)
    reversed_at = fields.DateTime(
        "Reversed at", readonly=True,
        states={'invisible': Eval('state') != 'reversed'})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('number_live_exclude',
                Exclude(t, (t.number, Equal), where=t.state == 'done'),
                'omni_member_hub.msg_coupon_redemption_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.origin, Index.Equality())),
                Index(t, (t.member, Index.Equality())),
                })
        cls._order.insert(0, ('date', 'DESC'))
        cls._transitions |= {('done', 'reversed')}

    @classmethod
    def default_state(cls):
        return 'done'

    @classmethod
    def default_date(cls):
        return datetime.datetime.now()

    @classmethod
    def get_origins(cls):
        IrModel = Pool().get('ir.model')
        models = ['sale.sale', 'sale.point.sale']
        return [(None, '')] + [(m, IrModel.get_name(m)) for m in models]

    def get_coupon(self, name):
        return self.number.coupon.id

    @classmethod
    def search_coupon(cls, name, clause):
        return [('number.coupon' + clause[0][len(name):], *clause[1:])]

    @classmethod
    def check_modification(cls, mode, redemptions, values=None,
            external=False):
        super().check_modification(
            mode, redemptions, values=values, external=external)
        if mode == 'delete':
            raise AccessError(gettext(
                    'omni_member_hub.msg_coupon_redemption_delete'))

    @classmethod
    @without_check_access
    def redeem(cls, number, member, channel, store=None, origin=None,
            amount=None):
        "Use the number once for origin; raise CouponError when it cannot"
        number.check_use(member, channel, amount)
        code = number.number
        try:
            redemption, = cls.create([{
                        'number': number.id,
                        'member': member.id if member else None,
                        'channel': channel,
                        'store': store.id if store else None,
                        'origin': str(origin) if origin else None,
                        }])
        except SQLConstraintError as exception:
            # A concurrent transaction redeemed it first; this one is
            # aborted, so the message is read in another
            with Transaction().new_transaction():
                message = gettext(
                    'omni_member_hub.msg_coupon_already_used', code=code)
            raise CouponError(message) from exception
        return redemption

    @classmethod
    @Workflow.transition('reversed')
    def reverse(cls, redemptions):
        cls.write(redemptions, {'reversed_at': datetime.datetime.now()})

    @classmethod
    @without_check_access
    def restore(cls, origins):
        "Make the numbers redeemed by the origins usable again"
        redemptions = cls.search([
                ('origin', 'in', [str(o) for o in origins]),
                ('state', '=', 'done'),
                ])
        cls.reverse(redemptions)


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    @classmethod
    def quote(cls, sales):
        # Use the coupons before the promotions discount the lines
        cls.redeem_coupons(sales)
        super().quote(sales)

    @classmethod
    def draft(cls, sales):
        Pool().get('sale.promotion.coupon.redemption').restore(sales)
        super().draft(sales)

    @classmethod
    def cancel(cls, sales):
        Pool().get('sale.promotion.coupon.redemption').restore(sales)
        super().cancel(sales)

    @classmethod
    def redeem_coupons(cls, sales):
        "Redeem the coupons of the sales that they did not redeem yet"
        Redemption = Pool().get('sale.promotion.coupon.redemption')
        redeemed = {(r.number, r.origin) for r in Redemption.search([
                    ('origin', 'in', [str(s) for s in sales]),
                    ('state', '=', 'done'),
                    ])}
        for sale in sales:
            for number in sale.coupons:
                if (number, sale) in redeemed:
                    continue
                Redemption.redeem(
                    number, sale.party, 'mall', sale.warehouse, sale,
                    sale.coupon_base_amount)

    @property
    def coupon_base_amount(self):
        "The amount of the sale that a coupon's minimum applies to"
        return self.total_amount


class CampaignStatistic(ModelSQL, ModelView):
    """Coupon Campaign Statistics

    Of the numbers issued and the redemptions between the context's
    from_date and to_date, when given"""
    __name__ = 'sale.promotion.coupon.statistic'

    coupon = fields.Many2One(
        'sale.promotion.coupon', "Campaign", required=True)
    company = fields.Many2One('company.company', "Company")
    issued = fields.Integer("Issued")
    claimed = fields.Integer("Claimed")
    redeemed = fields.Integer("Redeemed")
    rate = fields.Function(fields.Float("Redemption Rate", digits=(1, 4)),
        'get_rate')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('coupon')
        cls._order.insert(0, ('coupon', 'DESC'))

    @staticmethod
    def _in_period(column):
        """Return the condition of the timestamp column between the
        context's from_date and to_date, when given"""
        context = Transaction().context
        where = Literal(True)
        if context.get('from_date'):
            where &= column >= datetime.datetime.combine(
                context['from_date'], datetime.time())
        if context.get('to_date'):
            where &= column < datetime.datetime.combine(
                context['to_date'] + datetime.timedelta(days=1),
                datetime.time())
        return where

    @classmethod
    def _events(cls):
        """Return a query of coupon, store, issued, claimed and redeemed
        counts: numbers by their member's join store and redemptions by
        the store where they were used"""
        pool = Pool()
        Number = pool.get('sale.promotion.coupon.number')
        Party = pool.get('party.party')
        Redemption = pool.get('sale.promotion.coupon.redemption')
        number = Number.__table__()
        party = Party.__table__()
        redemption = Redemption.__table__()
        number_r = Number.__table__()
        issued = number.join(party, 'LEFT',
            condition=number.party == party.id).select(
                (number.id * 2).as_('event'), number.coupon, number.company,
                party.member_join_store.as_('store'),
                Literal(1).as_('issued'),
                Case((number.issued_how == 'claim', 1),
                    else_=0).as_('claimed'),
                Literal(0).as_('redeemed'),
                where=(number.party != Null)
                & cls._in_period(number.issued_at))
        redeemed = redemption.join(number_r,
            condition=redemption.number == number_r.id).select(
                redemption.id * 2 + 1, number_r.coupon, number_r.company,
                redemption.store,
                Literal(0), Literal(0), Literal(1),
                where=(redemption.state == 'done')
                & cls._in_period(redemption.date))
        # Number and redemption ids made disjoint identify each group
        return Union(issued, redeemed, all_=True)

    @classmethod
    def table_query(cls):
        events = cls._events()
        return events.select(
            events.coupon.as_('id'), events.coupon, events.company,
            *cls._counts(events),
            group_by=[events.coupon, events.company])

    @classmethod
    def _counts(cls, events):
        "Return the sums of the issued, claimed and redeemed events"
        return [getattr(cls, n).sql_cast(Sum(getattr(events, n))).as_(n)
            for n in ['issued', 'claimed', 'redeemed']]

    def get_rate(self, name):
        if self.issued:
            return self.redeemed / self.issued


class CampaignStoreStatistic(CampaignStatistic):
    "Coupon Campaign Statistics per Store"
    __name__ = 'sale.promotion.coupon.statistic.store'

    store = fields.Many2One('stock.location', "Store")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(1, ('store', 'ASC'))

    @classmethod
    def table_query(cls):
        events = cls._events()
        return events.select(
            Min(events.event).as_('id'), events.coupon, events.company,
            events.store,
            *cls._counts(events),
            group_by=[events.coupon, events.company, events.store])


class PartyReplace(metaclass=PoolMeta):
    __name__ = 'party.replace'

    @classmethod
    def fields_to_replace(cls):
        return super().fields_to_replace() + [
            ('sale.promotion.coupon.number', 'party'),
            ('sale.promotion.coupon.redemption', 'member'),
            ]
