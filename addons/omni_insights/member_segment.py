# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The members' lifetime value by segment (omnichannel, online only, store
only): spend, orders, frequency and retention"""

from dateutil.relativedelta import relativedelta
from sql import Column, Literal, Null, Window
from sql.aggregate import Count, Max, Sum
from sql.conditionals import Case
from sql.functions import Round
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

from trytond.modules.currency.fields import Monetary

from .reporting import (
    ONLINE_CHANNELS,
    STORE_CHANNELS,
    CompanyCurrencyMixin,
    DrillDownMixin,
    context_currency,
    period,
    sql_ratio,
)
from .summary import by_month

SEGMENTS = [
    ('omnichannel', "Omnichannel"),
    ('online_only', "Online Only"),
    ('store_only', "Store Only"),
    ]


class MemberSegment(
        CompanyCurrencyMixin, DrillDownMixin, ModelSQL, ModelView):
    "Member Lifetime Value"
    __name__ = 'insights.member_segment'

    company = fields.Many2One('company.company', "Company")
    segment = fields.Selection(SEGMENTS, "Segment",
        help="Omnichannel members bought in the mall and in a store over "
        "the 12 months up to the context's last day, the others in one "
        "of them only; the mall is delivery and pickup, the store is the "
        "POS and the endless aisle.")
    segment_string = segment.translated('segment')
    # sao draws a selection's key on a graph's axis, so the graph shows
    # the segment's name
    segment_name = fields.Function(fields.Char("Segment"), 'get_segment_name')
    members = fields.Integer("Members")
    spend = Monetary(
        "Spend", currency='currency', digits='currency',
        help="What the segment's members spent over the 12 months.")
    orders = fields.Integer("Orders")
    active_months = fields.Integer("Active Months")
    retained = fields.Integer(
        "Retained", help="The members who bought in at least two months.")
    average_spend = Monetary(
        "Average 12-Month Spend", currency='currency', digits='currency')
    average_orders = fields.Float("Orders per Member", digits=(16, 2))
    frequency = fields.Float(
        "Frequency", digits=(16, 2),
        help="The average number of months with a purchase, of 12.")
    retention = fields.Float(
        "Retention", digits=(1, 4),
        help="The share of members who bought in at least two different "
        "months of the 12.")
    uplift = fields.Float(
        "Omnichannel Uplift", digits=(16, 2),
        help="The average spend of the omnichannel members divided by the "
        "average spend of the members who bought in one channel.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'ASC')]

    @classmethod
    def get_segment_name(cls, segments, name):
        "Return the translated segment of each row, which its id gives"
        names = dict(cls.fields_get(['segment'])['segment']['selection'])
        return {s.id: names[SEGMENTS[s.id - 1][0]] for s in segments}

    @classmethod
    def window(cls):
        "Return the first and last day of the 12 months"
        _, to_date, _ = period()
        return to_date - relativedelta(years=1) + relativedelta(days=1), (
            to_date)

    @classmethod
    def purchases(cls):
        """Return a query of month, party, channel, revenue and orders of
        the 12 months, by month where summarized unless a store or channel
        is chosen"""
        pool = Pool()
        Line = pool.get('insights.line')
        MemberMonth = pool.get('insights.member.month')
        context = Transaction().context
        company = context.get('company')
        start, end = cls.window()
        if not (context.get('store') or context.get('channel')):
            return MemberMonth.rows(company, start, end)
        return by_month(Line.lines(company, start, end))

    @classmethod
    def members_query(cls):
        "Return a query of the members who bought, their figures and segment"
        Party = Pool().get('party.party')
        company = Transaction().context.get('company')
        purchases = cls.purchases()
        party = Party.__table__()

        def bought_in(channels):
            return Max(Case((purchases.channel.in_(channels), 1), else_=0))
        online, store = bought_in(ONLINE_CHANNELS), bought_in(STORE_CHANNELS)
        return purchases.join(party,
            condition=purchases.party == party.id).select(
                purchases.party.as_('member'),
                Literal(company).as_('company'),
                Case(((online == 1) & (store == 1), 'omnichannel'),
                    (online == 1, 'online_only'),
                    else_='store_only').as_('segment'),
                Sum(purchases.revenue).as_('spend'),
                Sum(purchases.orders).as_('orders'),
                Count(purchases.month, distinct=True).as_('active_months'),
                where=(party.member_number != Null)
                & purchases.channel.in_(ONLINE_CHANNELS + STORE_CHANNELS),
                group_by=[purchases.party])

    @classmethod
    def table_query(cls):
        members = cls.members_query()
        query = members.select(
            Case(*((members.segment == s, i)
                    for i, (s, _) in enumerate(SEGMENTS, 1))).as_('id'),
            members.company,
            members.segment,
            Count().as_('members'),
            cls.spend.sql_cast(Sum(members.spend)).as_('spend'),
            cls.orders.sql_cast(Sum(members.orders)).as_('orders'),
            cls.active_months.sql_cast(
                Sum(members.active_months)).as_('active_months'),
            cls.retained.sql_cast(Sum(
                    Case((members.active_months >= 2, 1), else_=0))).as_(
                'retained'),
            group_by=[members.segment, members.company])
        # The averages in SQL: the list reads them without another query
        single = query.segment != 'omnichannel'
        everything = Window([])
        single_spend = Sum(Case((single, query.spend), else_=0),
            window=everything)
        single_members = Sum(Case((single, query.members), else_=0),
            window=everything)
        currency = context_currency()
        return query.select(
            *(Column(query, n) for n in ['id', 'company', 'segment',
                    'members', 'spend', 'orders', 'active_months',
                    'retained']),
            Round(cls.average_spend.sql_cast(query.spend / query.members),
                currency.digits if currency else 2).as_('average_spend'),
            sql_ratio(cls.average_orders, query.orders, query.members).as_(
                'average_orders'),
            sql_ratio(cls.frequency, query.active_months,
                query.members).as_('frequency'),
            sql_ratio(cls.retention, query.retained, query.members).as_(
                'retention'),
            Case((~single, sql_ratio(cls.uplift,
                        query.spend * single_members,
                        query.members * single_spend)),
                else_=Null).as_('uplift'))

    def get_document_domain(self):
        members = self.members_query()
        cursor = Transaction().connection.cursor()
        cursor.execute(*members.select(
                members.member, where=members.segment == self.segment))
        start, end = self.window()
        return self.period_domain(start, end) + [
            ('party', 'in', [m for m, in cursor])]
