# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Revenue, cost, margin, share and change against the previous period of
each product and category, by channel"""
import datetime

from sql import Column, Literal, Union, Window
from sql.aggregate import Sum
from sql.conditionals import Case, Coalesce
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

from trytond.modules.currency.fields import Monetary

from .reporting import (
    CHANNELS,
    CompanyCurrencyMixin,
    DrillDownMixin,
    category_of_products,
    channel_index,
    cost_prices,
    period,
    sql_ratio,
)


class ChannelContributionMixin(CompanyCurrencyMixin, DrillDownMixin):
    __slots__ = ()

    company = fields.Many2One('company.company', "Company")
    channel = fields.Selection(CHANNELS, "Channel")
    quantity = fields.Float("Quantity")
    revenue = Monetary("Revenue", currency='currency', digits='currency')
    cost = Monetary("Cost", currency='currency', digits='currency')
    total_revenue = Monetary(
        "Total Revenue", currency='currency', digits='currency',
        help="The revenue of every channel together.")
    previous_revenue = Monetary(
        "Previous Revenue", currency='currency', digits='currency',
        help="The revenue of the same-length period before.")
    margin = Monetary("Margin", currency='currency', digits='currency')
    margin_rate = fields.Float("Margin Rate", digits=(1, 4))
    share = fields.Float(
        "Share", digits=(1, 4),
        help="The channel's part of the revenue of every channel.")
    revenue_change = fields.Float(
        "Revenue Change", digits=(1, 4),
        help="The change from the previous revenue.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('revenue', 'DESC'), ('id', 'ASC')]

    @classmethod
    def _group_key(cls, lines, tables):
        "Return the from item, the group column and its name"
        raise NotImplementedError

    @classmethod
    def _lines(cls, company, from_date, to_date, previous):
        """Return the query of company, date, channel, product, quantity,
        revenue and cost of the two periods, by month where summarized
        unless a store or channel is chosen"""
        pool = Pool()
        Line = pool.get('insights.line')
        LineMonth = pool.get('insights.line.month')
        context = Transaction().context
        if context.get('store') or context.get('channel'):
            return Line.lines(company, previous, to_date)
        rows = Union(
            *LineMonth.rows(company, previous,
                from_date - datetime.timedelta(days=1)).queries,
            *LineMonth.rows(company, from_date, to_date).queries,
            all_=True)
        costs = cost_prices(company)
        return rows.join(costs, 'LEFT',
            condition=rows.product == costs.product).select(
                Literal(company).as_('company'), rows.date, rows.channel,
                rows.product, rows.quantity, rows.revenue,
                (rows.quantity * Coalesce(costs.cost_price, 0)).as_('cost'))

    @classmethod
    def table_query(cls):
        context = Transaction().context
        from_date, to_date, previous = period()
        lines = cls._lines(
            context.get('company'), from_date, to_date, previous)
        from_item, key, name = cls._group_key(lines)
        current = lines.date >= from_date

        def in_period(value):
            return Sum(Case((current, value), else_=0))
        revenue = in_period(lines.revenue)
        query = from_item.select(
            (key * (len(CHANNELS) + 1) + channel_index(lines.channel)
                ).as_('id'),
            key.as_(name),
            lines.company,
            lines.channel,
            cls.quantity.sql_cast(in_period(lines.quantity)).as_('quantity'),
            cls.revenue.sql_cast(revenue).as_('revenue'),
            cls.cost.sql_cast(in_period(lines.cost)).as_('cost'),
            cls.total_revenue.sql_cast(
                Sum(revenue, window=Window([key]))).as_('total_revenue'),
            cls.previous_revenue.sql_cast(Sum(
                    Case((current, 0), else_=lines.revenue))
                ).as_('previous_revenue'),
            group_by=[key, lines.company, lines.channel])
        # The ratios in SQL: the list reads them without another query
        margin = query.revenue - query.cost
        return query.select(
            *(Column(query, n) for n in ['id', name, 'company', 'channel',
                    'quantity', 'revenue', 'cost', 'total_revenue',
                    'previous_revenue']),
            cls.margin.sql_cast(margin).as_('margin'),
            sql_ratio(cls.margin_rate, margin, query.revenue).as_(
                'margin_rate'),
            sql_ratio(cls.share, query.revenue, query.total_revenue).as_(
                'share'),
            sql_ratio(cls.revenue_change,
                query.revenue - query.previous_revenue,
                query.previous_revenue).as_('revenue_change'))

    def get_document_domain(self):
        from_date, to_date, _ = period()
        return self.period_domain(from_date, to_date) + [
            ('channel', '=', self.channel)]


class ProductChannel(ChannelContributionMixin, ModelSQL, ModelView):
    "Product Channel Contribution"
    __name__ = 'insights.product_channel'

    product = fields.Many2One('product.product', "Product")

    @classmethod
    def _group_key(cls, lines):
        return lines, lines.product, 'product'

    def get_document_domain(self):
        return super().get_document_domain() + [
            ('product', '=', self.product.id)]


class CategoryChannel(ChannelContributionMixin, ModelSQL, ModelView):
    "Category Channel Contribution"
    __name__ = 'insights.category_channel'

    category = fields.Many2One('product.category', "Category")

    @classmethod
    def _group_key(cls, lines):
        from_item, category = category_of_products(lines, lines.product)
        return from_item, category, 'category'

    def get_document_domain(self):
        return super().get_document_domain() + [
            ('product.template.categories', '=', self.category.id)]
