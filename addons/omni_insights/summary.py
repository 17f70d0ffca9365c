# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Monthly summaries of the recorded tables, for reports over long periods.

The cron summarizes each closed month (before the current one) once. A
report reads the summary for the summarized months that lie wholly in its
period and the recorded rows for the other days. Recording rows of a
summarized month again summarizes that month again."""
import datetime
from functools import reduce
from operator import or_

from dateutil.relativedelta import relativedelta
from sql import Column, Literal, Null, Union
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import DateTrunc
from trytond.model import Index, ModelSQL, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from trytond.modules.omni_member_hub.model import FormerTableMixin


def first_day(date):
    if isinstance(date, str):
        date = datetime.date.fromisoformat(date[:10])
    return date.replace(day=1)


def whole_months(from_date, to_date):
    "Return the first days of the months that lie wholly between the dates"
    month = first_day(from_date)
    if month < from_date:
        month += relativedelta(months=1)
    months = []
    while month + relativedelta(months=1, days=-1) <= to_date:
        months.append(month)
        month += relativedelta(months=1)
    return months


def other_days(from_date, to_date, months):
    "Return the periods (first, last day) between the dates not in months"
    periods, start = [], from_date
    for month in sorted(months):
        if start < month:
            periods.append((start, month - datetime.timedelta(days=1)))
        start = month + relativedelta(months=1)
    if start <= to_date:
        periods.append((start, to_date))
    return periods


def by_month(lines):
    """Return the query of month, party, channel, revenue and orders of the
    query of lines"""
    month = lines.select(
        DateTrunc('month', lines.date).as_('month'), lines.party,
        lines.channel, lines.revenue, lines.order)
    return month.select(
        month.month, month.party, month.channel,
        Sum(month.revenue).as_('revenue'),
        Count(month.order, distinct=True).as_('orders'),
        group_by=[month.month, month.party, month.channel])


class SummarizedMonth(FormerTableMixin, ModelSQL):
    "Insights Summarized Month"
    __name__ = 'insights.summarized_month'
    _former_table = 'omni_insights_summarized_month'

    summary = fields.Char("Summary", required=True)
    company = fields.Many2One(
        'company.company', "Company", required=True, ondelete='CASCADE')
    month = fields.Date("Month", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('summary_month_unique',
                Unique(t, t.summary, t.company, t.month),
                'omni_insights.msg_summarized_month_unique'),
            ]

    @classmethod
    def summaries(cls, recorded=None):
        "Return the summary models, of the recorded model if given"
        pool = Pool()
        names = ['insights.line.month', 'insights.member.month',
            'insights.shipped.month']
        return [pool.get(n) for n in names
            if recorded is None or pool.get(n)._recorded == recorded]

    @classmethod
    def summarize(cls):
        "Summarize the closed months that are not yet summarized"
        Date = Pool().get('ir.date')
        current = first_day(Date.today())
        for Summary in cls.summaries():
            done = cls.months(Summary)
            new = [(c, m) for c, m in Summary.recorded_months()
                if m < current and (c, m) not in done]
            for company, month in new:
                Summary.summarize_month(company, month)
            cls.create([{
                        'summary': Summary.__name__,
                        'company': c,
                        'month': m,
                        } for c, m in new])

    @classmethod
    def months(cls, Summary, company=None):
        "Return the summarized (company, month) of the summary"
        table = cls.__table__()
        where = table.summary == Summary.__name__
        if company is not None:
            where &= table.company == company
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.company, table.month, where=where))
        return {(c, first_day(m)) for c, m in cursor}

    @classmethod
    def summarize_again(cls, recorded, company_dates):
        """Summarize again the summarized months of the (company, date) of
        rows of the recorded model"""
        # Only closed months are summarized: spare the current month's
        # writes the look-up
        current = first_day(Pool().get('ir.date').today())
        touched = {(c, first_day(d)) for c, d in company_dates if d}
        touched = {(c, m) for c, m in touched if m < current}
        if not touched:
            return
        for Summary in cls.summaries(recorded):
            for company, month in touched & cls.months(Summary):
                Summary.summarize_month(company, month)

    @classmethod
    def forget(cls, recorded):
        "Drop the summaries of the recorded model, which was rebuilt"
        for Summary in cls.summaries(recorded):
            cursor = Transaction().connection.cursor()
            cursor.execute(*Summary.__table__().delete())
            cls.delete(cls.search([('summary', '=', Summary.__name__)]))


class SummaryMixin:
    "The sums of a recorded table by company, month and keys"
    __slots__ = ()
    _recorded = None

    company = fields.Many2One('company.company', "Company", readonly=True)
    month = fields.Date("Month", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.company, Index.Equality()),
                (t.month, Index.Range())))

    @classmethod
    def _keys(cls):
        "Return the names of the recorded columns summed by"
        raise NotImplementedError

    @classmethod
    def _sums(cls, recorded):
        "Return the names and aggregates of the summed columns"
        raise NotImplementedError

    @classmethod
    def recorded_months(cls):
        "Return the (company, month) that have recorded rows"
        recorded = Pool().get(cls._recorded).__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*recorded.select(
                recorded.company, Min(recorded.date), Max(recorded.date),
                where=recorded.date != Null,
                group_by=[recorded.company]))
        result = []
        for company, first, last in cursor:
            month, last = first_day(first), first_day(last)
            while month <= last:
                result.append((company, month))
                month += relativedelta(months=1)
        return result

    @classmethod
    def summarize_month(cls, company, month):
        "Write the sums of the month"
        table = cls.__table__()
        recorded = Pool().get(cls._recorded).__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.delete(
                where=(table.company == company) & (table.month == month)))
        keys = [Column(recorded, k) for k in cls._keys()]
        sums = cls._sums(recorded)
        cursor.execute(*table.insert(
                [table.company, table.month]
                + [Column(table, k) for k in cls._keys()]
                + [Column(table, n) for n, _ in sums],
                recorded.select(
                    recorded.company, Literal(month), *keys,
                    *(s for _, s in sums),
                    where=(recorded.company == company)
                    & (recorded.date >= month)
                    & (recorded.date < month + relativedelta(months=1)),
                    group_by=[recorded.company] + keys)))

    @staticmethod
    def _months_where(table, company, months):
        if not months:
            return Literal(False)
        return (table.company == company) & table.month.in_(months)

    @classmethod
    def split(cls, company, from_date, to_date):
        """Return the summarized months that lie wholly between the dates
        and the condition of the recorded rows of the other days"""
        pool = Pool()
        Month = pool.get('insights.summarized_month')
        recorded = pool.get(cls._recorded).__table__()
        done = {m for _, m in Month.months(cls, company)}
        months = [m for m in whole_months(from_date, to_date) if m in done]
        periods = other_days(from_date, to_date, months)
        where = reduce(or_, (
                (recorded.date >= f) & (recorded.date <= t)
                for f, t in periods), Literal(False))
        return months, recorded, (recorded.company == company) & where


class LineMonth(FormerTableMixin, SummaryMixin, ModelSQL):
    "Insights Sale Lines by Month"
    __name__ = 'insights.line.month'
    _former_table = 'omni_insights_line_month'
    _recorded = 'insights.line'

    channel = fields.Char("Channel", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    quantity = fields.Float("Quantity", readonly=True)
    revenue = fields.Numeric("Revenue", readonly=True)

    @classmethod
    def _keys(cls):
        return ['channel', 'product']

    @classmethod
    def _sums(cls, recorded):
        return [
            ('quantity', Sum(recorded.quantity)),
            ('revenue', Sum(recorded.revenue)),
            ]

    @classmethod
    def rows(cls, company, from_date, to_date):
        """Return the query of date, channel, product, quantity and revenue
        between the dates, a row per month where summarized"""
        months, recorded, where = cls.split(company, from_date, to_date)
        table = cls.__table__()
        return Union(
            table.select(
                table.month.as_('date'), table.channel, table.product,
                table.quantity, table.revenue,
                where=cls._months_where(table, company, months)),
            recorded.select(
                recorded.date, recorded.channel, recorded.product,
                recorded.quantity, recorded.revenue, where=where),
            all_=True)


class MemberMonth(FormerTableMixin, SummaryMixin, ModelSQL):
    "Insights Customer Purchases by Month"
    __name__ = 'insights.member.month'
    _former_table = 'omni_insights_member_month'
    _recorded = 'insights.line'

    party = fields.Many2One('party.party', "Party", readonly=True)
    channel = fields.Char("Channel", readonly=True)
    revenue = fields.Numeric("Revenue", readonly=True)
    orders = fields.Integer("Orders", readonly=True)

    @classmethod
    def _keys(cls):
        return ['party', 'channel']

    @classmethod
    def _sums(cls, recorded):
        return [
            ('revenue', Sum(recorded.revenue)),
            ('orders', Count(recorded.order, distinct=True)),
            ]

    @classmethod
    def rows(cls, company, from_date, to_date):
        """Return the query of month, party, channel, revenue and orders
        between the dates"""
        months, recorded, where = cls.split(company, from_date, to_date)
        table = cls.__table__()
        return Union(
            table.select(
                table.month, table.party, table.channel, table.revenue,
                table.orders,
                where=cls._months_where(table, company, months)),
            by_month(recorded.select(
                    recorded.date, recorded.party, recorded.channel,
                    recorded.revenue, recorded.order, where=where)),
            all_=True)


class ShippedMonth(FormerTableMixin, SummaryMixin, ModelSQL):
    "Insights Shipped Goods by Month"
    __name__ = 'insights.shipped.month'
    _former_table = 'omni_insights_shipped_month'
    _recorded = 'insights.shipped'

    warehouse = fields.Many2One('stock.location', "Warehouse", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    quantity = fields.Float("Quantity", readonly=True)
    cost = fields.Numeric(
        "Cost", readonly=True, help="Of the moves with a cost price.")
    quantity_unpriced = fields.Float(
        "Quantity Unpriced", readonly=True,
        help="Of the moves without a cost price.")

    @classmethod
    def _keys(cls):
        return ['warehouse', 'product']

    @classmethod
    def _sums(cls, recorded):
        return [
            ('quantity', Sum(recorded.quantity)),
            ('cost', Sum(recorded.quantity * Coalesce(
                        recorded.cost_price, 0))),
            ('quantity_unpriced', Sum(Case(
                        (recorded.cost_price == Null, recorded.quantity),
                        else_=0))),
            ]

    @classmethod
    def rows(cls, company, from_date, to_date):
        """Return the query of warehouse, product, quantity, cost and
        quantity unpriced between the dates"""
        months, recorded, where = cls.split(company, from_date, to_date)
        table = cls.__table__()
        return Union(
            table.select(
                table.warehouse, table.product, table.quantity, table.cost,
                table.quantity_unpriced,
                where=cls._months_where(table, company, months)),
            recorded.select(
                recorded.warehouse, recorded.product,
                *(s for _, s in cls._sums(recorded)),
                where=where,
                group_by=[recorded.warehouse, recorded.product]),
            all_=True)


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('insights.summarized_month|summarize',
                "Summarize the Closed Months for the Reports"))
