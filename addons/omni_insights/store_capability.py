# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The store's digital capability: the members it acquired and bound, the
online orders, pickups, endless-aisle orders and coupons it served"""
import datetime

from sql import Literal, Null, Union
from sql.aggregate import Count, Min, Sum
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

from trytond.modules.currency.fields import Monetary

from .reporting import (
    ONLINE_CHANNELS,
    SALE_STATES,
    CompanyCurrencyMixin,
    DrillDownMixin,
    day_start,
    period,
)


class StoreCapability(
        CompanyCurrencyMixin, DrillDownMixin, ModelSQL, ModelView):
    "Store Digital Capability"
    __name__ = 'insights.store'

    company = fields.Many2One('company.company', "Company")
    store = fields.Many2One('stock.location', "Store")
    members_acquired = fields.Integer(
        "Members Acquired", help="The members who joined at the store.")
    members_bound = fields.Integer(
        "Members Bound",
        help="The store's members who bound the mini-program with WeChat.")
    online_orders = fields.Integer(
        "Online Orders",
        help="The mall orders (delivery or pickup) of the store's members.")
    pickups = fields.Integer(
        "Pickups Handled",
        help="The mall orders handed over at the store.")
    endless_aisle_orders = fields.Integer(
        "Endless-Aisle Orders",
        help="The orders the store took for another location.")
    coupons_redeemed = fields.Integer(
        "Coupons Redeemed", help="The coupons used at the store.")
    online_revenue = Monetary(
        "Online Revenue Driven", currency='currency', digits='currency',
        help="The revenue of the mall orders of the members who joined at "
        "the store, wherever they are delivered or collected, plus the "
        "revenue of the endless-aisle orders the store took.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('online_revenue', 'DESC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        Location = Pool().get('stock.location')
        context = Transaction().context
        company = context.get('company')
        from_date, to_date, _ = period()
        events = Union(*cls._events(company, from_date, to_date), all_=True)
        location = Location.__table__()
        where = location.type == 'warehouse'
        if context.get('store'):
            where &= location.id == context['store']
        return events.join(location,
            condition=events.store == location.id).select(
                events.store.as_('id'),
                Literal(company).as_('company'),
                events.store,
                *(getattr(cls, n).sql_cast(Sum(getattr(events, n))).as_(n)
                    for n in cls._counters()),
                cls.online_revenue.sql_cast(Sum(events.revenue)).as_(
                    'online_revenue'),
                where=where,
                group_by=[events.store])

    @classmethod
    def _counters(cls):
        return ['members_acquired', 'members_bound', 'online_orders',
            'pickups', 'endless_aisle_orders', 'coupons_redeemed']

    @classmethod
    def _event(cls, query_from, store, where, counter=None, revenue=None):
        "Return a select of store, the counters and revenue by store"
        events = query_from.select(
            store.as_('store'),
            (revenue if revenue is not None else Literal(0)).as_('revenue'),
            where=where)
        return events.select(
            events.store,
            *((Count() if n == counter else Literal(0)).as_(n)
                for n in cls._counters()),
            Sum(events.revenue).as_('revenue'),
            group_by=[events.store])

    @classmethod
    def _events(cls, company, from_date, to_date):
        pool = Pool()
        Identity = pool.get('party.wechat_identity')
        Line = pool.get('insights.line')
        MemberMonth = pool.get('insights.member.month')
        Party = pool.get('party.party')
        Redemption = pool.get('sale.promotion.coupon.redemption')
        Sale = pool.get('sale.sale')
        start, end = day_start(from_date), day_start(
            to_date + datetime.timedelta(days=1))
        party = Party.__table__()
        yield cls._event(party, party.member_join_store,
            (party.member_joined_at >= start) & (party.member_joined_at < end),
            'members_acquired')

        identity = Identity.__table__()
        party = Party.__table__()
        bound = identity.select(
            identity.party, Min(identity.create_date).as_('bound_at'),
            group_by=[identity.party])
        yield cls._event(
            bound.join(party, condition=bound.party == party.id),
            party.member_join_store,
            (bound.bound_at >= start) & (bound.bound_at < end),
            'members_bound')

        sale = Sale.__table__()
        party = Party.__table__()
        channel = Line.sale_channel(sale)
        dated = (sale.company == company) & sale.state.in_(SALE_STATES) & (
            sale.sale_date >= from_date) & (sale.sale_date <= to_date)
        yield cls._event(
            sale.join(party, condition=sale.party == party.id),
            party.member_join_store, dated & channel.in_(ONLINE_CHANNELS),
            'online_orders')

        sale = Sale.__table__()
        yield cls._event(sale, sale.pickup_store,
            (sale.company == company) & (sale.pickup_state == 'picked_up')
            & (sale.pickup_handed_over_at >= start)
            & (sale.pickup_handed_over_at < end),
            'pickups')

        sale = Sale.__table__()
        yield cls._event(sale, sale.credited_store,
            (sale.company == company) & sale.state.in_(SALE_STATES)
            & (sale.sale_date >= from_date) & (sale.sale_date <= to_date)
            & (sale.credited_store != Null),
            'endless_aisle_orders')

        redemption = Redemption.__table__()
        yield cls._event(redemption, redemption.store,
            (redemption.state == 'done') & (redemption.date >= start)
            & (redemption.date < end),
            'coupons_redeemed')

        purchases = MemberMonth.rows(company, from_date, to_date)
        party = Party.__table__()
        yield cls._event(
            purchases.join(party, condition=purchases.party == party.id),
            party.member_join_store,
            purchases.channel.in_(ONLINE_CHANNELS),
            revenue=purchases.revenue)

        lines = Line.lines(company, from_date, to_date, filtered=False)
        yield cls._event(lines, lines.store,
            lines.channel == 'endless_aisle', revenue=lines.revenue)

    def get_document_domain(self):
        from_date, to_date, _ = period()
        return self.period_domain(from_date, to_date) + [['OR', [
                    ('channel', '=', 'endless_aisle'),
                    ('store', '=', self.store.id),
                    ], [
                    ('channel', 'in', ONLINE_CHANNELS),
                    ('party.member_join_store', '=', self.store.id),
                    ]]]
