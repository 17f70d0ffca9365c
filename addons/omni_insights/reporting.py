# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The owner's reports, each one SQL query over the recorded sale lines
(omni.insights.line) or the base tables.

Every sale line of a POS sale (done or posted) or of an order (confirmed,
processing or done) is credited to one channel and one store:

- a POS sale: channel pos, the warehouse of the point's storage location;
- an order with an origin store: endless aisle, the origin store;
- else with a pickup store: mall pickup, the pickup store;
- else with a web shop: mall delivery, the order's warehouse;
- else: back office, the order's warehouse.

A line refunded to the customer (sale.pickup.refund) is not counted.

Revenue is untaxed, in the company's currency; cost is the quantity at the
product's cost price."""
import datetime
from collections import defaultdict
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sql import Column, Except, Literal, Null, Union, Window
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Case, Coalesce, NullIf
from sql.functions import Round
from sql.operators import Concat
from trytond import backend
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If, PYSONEncoder
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import StateAction, StateTransition, Wizard

from trytond.modules.currency.fields import Monetary

from .summary import by_month

CHANNELS = [
    ('pos', "Store POS"),
    ('mall_delivery', "Mall Delivery"),
    ('mall_pickup', "Mall Pickup"),
    ('endless_aisle', "Endless Aisle"),
    ('back_office', "Back Office"),
    ]
ONLINE_CHANNELS = ['mall_delivery', 'mall_pickup']
STORE_CHANNELS = ['pos', 'endless_aisle']
SALE_STATES = ['confirmed', 'processing', 'done']
# The id of an inventory row: its product or category times ROW_KEY plus its
# warehouse
ROW_KEY = 1000003
POS_SALE_STATES = ['done', 'posted']


def in_values(column, values):
    "Return the condition of the column in the values, None included"
    known = [v for v in values if v is not None]
    condition = column.in_(known) if known else Literal(False)
    if None in values:
        condition |= column == Null
    return condition


def sql_ratio(field, numerator, denominator):
    "Return the SQL ratio as the float field, null when denominator is 0"
    return field.sql_cast(numerator) / NullIf(field.sql_cast(denominator), 0)


def channel_index(channel):
    "Return the SQL position of the channel column among CHANNELS"
    return Case(*((channel == c, i) for i, (c, _) in enumerate(CHANNELS)),
        else_=len(CHANNELS))


def period():
    """Return the context's first and last day and the first day of the
    same-length period before"""
    pool = Pool()
    Date = pool.get('ir.date')
    context = Transaction().context
    to_date = context.get('to_date') or Date.today()
    from_date = context.get('from_date') or (
        to_date - datetime.timedelta(days=29))
    return from_date, to_date, from_date - (to_date - from_date) - (
        datetime.timedelta(days=1))


def context_currency():
    "Return the currency of the context's company, or None"
    Company = Pool().get('company.company')
    company = Transaction().context.get('company')
    return Company(company).currency if company else None


def day_start(date):
    return datetime.datetime.combine(date, datetime.time())


def warehouses_of_locations():
    """Return a query of location and the warehouse that holds it"""
    Location = Pool().get('stock.location')
    location = Location.__table__()
    warehouse = Location.__table__()
    return location.join(warehouse, condition=(
            warehouse.left <= location.left)
        & (warehouse.right >= location.right)).select(
            location.id.as_('location'), warehouse.id.as_('warehouse'),
            where=warehouse.type == 'warehouse')


def cost_prices(company):
    "Return a query of product and its cost price in the company"
    CostPrice = Pool().get('product.cost_price')
    cost_price = CostPrice.__table__()
    return cost_price.select(
        cost_price.product, cost_price.cost_price,
        where=cost_price.company == company)


class CompanyCurrencyMixin:
    "A report in the currency of its company"
    __slots__ = ()
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_currency')

    @classmethod
    def get_currency(cls, records, name):
        """Return the currency of the company of each row; a report's rows
        are of the context's company, so they are not read"""
        currency = context_currency()
        if currency and cls._is_table_query():
            return dict.fromkeys(map(int, records), currency.id)
        return {r.id: r.company.currency.id for r in records}


class Context(ModelView):
    "Insights Context"
    __name__ = 'omni.insights.context'

    company = fields.Many2One('company.company', "Company", required=True)
    from_date = fields.Date(
        "From Date", required=True,
        domain=[
            If(Eval('to_date') & Eval('from_date'),
                ('from_date', '<=', Eval('to_date')),
                ()),
            ])
    to_date = fields.Date(
        "To Date", required=True,
        domain=[
            If(Eval('from_date') & Eval('to_date'),
                ('to_date', '>=', Eval('from_date')),
                ()),
            ])
    store = fields.Many2One(
        'stock.location', "Store", domain=[('type', '=', 'warehouse')])
    channel = fields.Selection(
        [(None, "")] + CHANNELS, "Channel",
        help="Show only the sales of this channel.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_to_date(cls):
        context = Transaction().context
        return context.get('to_date') or Pool().get('ir.date').today()

    @classmethod
    def default_from_date(cls):
        context = Transaction().context
        return context.get('from_date') or (
            cls.default_to_date() - datetime.timedelta(days=29))

    @classmethod
    def default_store(cls):
        return Transaction().context.get('store')

    @classmethod
    def default_channel(cls):
        return Transaction().context.get('channel')


class RecordedMixin:
    """A table of the rows the reports count, recorded from their source
    documents again whenever those change (see RecordedDocumentMixin)"""
    __slots__ = ()
    # The column that names the source document of a row
    _document_column = None

    @classmethod
    def __register__(cls, module):
        created = not backend.TableHandler.table_exist(cls._table)
        super().__register__(module)
        if created:
            cls.rebuild()

    @classmethod
    def _recorded_columns(cls):
        raise NotImplementedError

    @classmethod
    def _sources(cls):
        "Return the source query of each document model, by their ids"
        raise NotImplementedError

    @classmethod
    def _recorded_from(cls, table, model, ids):
        "Return the condition of the rows recorded from the documents"
        raise NotImplementedError

    @classmethod
    def record(cls, documents):
        "Record again the rows of the documents"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        columns = [Column(table, c) for c in cls._recorded_columns()]
        dates = set()
        for model, source in cls._sources().items():
            ids = sorted({d.id for d in documents if d.__name__ == model})
            for sub_ids in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
                sub_ids = list(sub_ids)
                where = cls._recorded_from(table, model, sub_ids)
                cursor.execute(*table.select(
                        table.company, table.date, where=where))
                dates.update(cursor)
                cursor.execute(*table.delete(where=where))
                cursor.execute(*table.insert(columns, source(sub_ids)))
                cursor.execute(*table.select(
                        table.company, table.date, where=where))
                dates.update(cursor)
        Pool().get('omni.insights.summarized_month').summarize_again(
            cls.__name__, dates)

    @classmethod
    def rebuild(cls):
        "Record the rows of every document again"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        columns = [Column(table, c) for c in cls._recorded_columns()]
        cursor.execute(*table.delete())
        for source in cls._sources().values():
            cursor.execute(*table.insert(columns, source()))
        Pool().get('omni.insights.summarized_month').forget(cls.__name__)

    @classmethod
    def reconcile(cls):
        "Return the documents whose recorded rows differ from them"
        table = cls.__table__()
        recorded = table.select(
            *(getattr(table, c) for c in cls._recorded_columns()))
        sources = Union(
            *(source() for source in cls._sources().values()), all_=True)
        differences = Union(
            Except(recorded, sources),
            Except(sources, recorded), all_=True)
        document = getattr(differences, cls._document_column)
        cursor = Transaction().connection.cursor()
        cursor.execute(*differences.select(
                document, group_by=[document], order_by=[document]))
        return [d for d, in cursor]


class Line(
        RecordedMixin, CompanyCurrencyMixin, ModelSQL, ModelView):
    """Insights Sale Line

    The sale lines the reports count, one row per line"""
    __name__ = 'omni.insights.line'
    _document_column = 'order'

    company = fields.Many2One('company.company', "Company", readonly=True)
    date = fields.Date("Date", readonly=True)
    order = fields.Reference(
        "Order", selection=[
            ('sale.sale', "Sale"),
            ('sale.point.sale', "POS Sale"),
            ], readonly=True)
    channel = fields.Selection(CHANNELS, "Channel", readonly=True)
    store = fields.Many2One('stock.location', "Store", readonly=True)
    party = fields.Many2One('party.party', "Customer", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    quantity = fields.Float("Quantity", readonly=True)
    revenue = Monetary(
        "Revenue", currency='currency', digits='currency', readonly=True)
    cost = fields.Function(
        Monetary("Cost", currency='currency', digits='currency'),
        'get_cost')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t,
                    (t.company, Index.Range()),
                    (t.date, Index.Range())),
                Index(t,
                    (t.company, Index.Equality()),
                    (t.channel, Index.Equality()),
                    (t.date, Index.Range())),
                Index(t,
                    (t.company, Index.Equality()),
                    (t.store, Index.Equality()),
                    (t.date, Index.Range())),
                Index(t, (t.order, Index.Equality())),
                })

    @classmethod
    def lines(cls, company, from_date=None, to_date=None, filtered=True):
        """Return the query of the company's sale lines between the dates,
        of the context's store and channel when filtered, with their cost"""
        context = Transaction().context
        line = cls.__table__()
        costs = cost_prices(company)
        where = line.company == company
        if from_date:
            where &= line.date >= from_date
        if to_date:
            where &= line.date <= to_date
        if filtered and context.get('store'):
            where &= line.store == context['store']
        if filtered and context.get('channel'):
            where &= line.channel == context['channel']
        return line.join(costs, 'LEFT',
            condition=line.product == costs.product).select(
                *(getattr(line, c).as_(c) for c in cls._recorded_columns()),
                (line.quantity * Coalesce(costs.cost_price, 0)).as_('cost'),
                where=where)

    def get_cost(self, name):
        cost_price = self.product.get_multivalue(
            'cost_price', company=self.company.id) or 0
        return self.company.currency.round(
            Decimal(str(self.quantity)) * cost_price)

    @classmethod
    def _recorded_columns(cls):
        return ['id', 'company', 'date', 'order', 'channel', 'store',
            'party', 'product', 'quantity', 'revenue']

    @classmethod
    def _sources(cls):
        return {
            'sale.sale': cls._sale_lines,
            'sale.point.sale': cls._pos_lines,
            }

    @classmethod
    def _recorded_from(cls, table, model, ids):
        return table.order.in_(['%s,%s' % (model, i) for i in ids])

    @classmethod
    def _pos_lines(cls, ids=None):
        pool = Pool()
        Point = pool.get('sale.point')
        Sale = pool.get('sale.point.sale')
        SaleLine = pool.get('sale.point.sale.line')
        line = SaleLine.__table__()
        sale = Sale.__table__()
        point = Point.__table__()
        stores = warehouses_of_locations()
        point_stores = point.join(stores, 'LEFT',
            condition=point.storage_location == stores.location).select(
                point.id, stores.warehouse)
        where = sale.state.in_(POS_SALE_STATES) & (line.product != Null)
        if ids is not None:
            where &= sale.id.in_(ids)
        return (line
            .join(sale, condition=line.sale == sale.id)
            .join(point_stores, condition=sale.point == point_stores.id)
            .select(
                (line.id * 2).as_('id'),
                sale.company.as_('company'),
                sale.date.as_('date'),
                Concat('sale.point.sale,', sale.id).as_('order'),
                Literal('pos').as_('channel'),
                point_stores.warehouse.as_('store'),
                sale.member.as_('party'),
                line.product.as_('product'),
                line.quantity.as_('quantity'),
                cls.revenue.sql_cast(
                    line.quantity * line.unit_list_price).as_('revenue'),
                where=where))

    @classmethod
    def _sale_lines(cls, ids=None):
        pool = Pool()
        RefundLine = pool.get('sale.pickup.refund-sale.line')
        Sale = pool.get('sale.sale')
        SaleLine = pool.get('sale.line')
        line = SaleLine.__table__()
        sale = Sale.__table__()
        refunded = RefundLine.__table__()
        quantity = Coalesce(line.actual_quantity, line.quantity)
        where = (sale.state.in_(SALE_STATES) & (line.type == 'line')
            & (line.product != Null) & (refunded.id == Null))
        if ids is not None:
            where &= sale.id.in_(ids)
        return (line
            .join(sale, condition=line.sale == sale.id)
            .join(refunded, 'LEFT', condition=line.id == refunded.line)
            .select(
                (line.id * 2 + 1).as_('id'),
                sale.company.as_('company'),
                sale.sale_date.as_('date'),
                Concat('sale.sale,', sale.id).as_('order'),
                cls.sale_channel(sale).as_('channel'),
                Coalesce(sale.origin_store, sale.pickup_store,
                    sale.warehouse).as_('store'),
                sale.party.as_('party'),
                line.product.as_('product'),
                quantity.as_('quantity'),
                cls.revenue.sql_cast(
                    quantity * line.unit_price).as_('revenue'),
                where=where))

    @classmethod
    def sale_channel(cls, sale):
        "Return the SQL channel of the sale table"
        return Case(
            (sale.origin_store != Null, 'endless_aisle'),
            (sale.pickup_store != Null, 'mall_pickup'),
            (sale.web_shop != Null, 'mall_delivery'),
            else_='back_office')


class RecordedDocumentMixin:
    """Record the rows of the documents in the insights table again when
    these fields change"""
    __slots__ = ()
    _insights_table = 'omni.insights.line'
    _insights_fields = set()

    @classmethod
    def write(cls, *args):
        super().write(*args)
        actions = iter(args)
        documents = []
        for records, values in zip(actions, actions, strict=True):
            if cls._insights_fields & values.keys():
                documents.extend(cls._insights_documents(records))
        if documents:
            Pool().get(cls._insights_table).record(documents)

    @classmethod
    def _insights_documents(cls, records):
        return records


class Sale(RecordedDocumentMixin, metaclass=PoolMeta):
    __name__ = 'sale.sale'
    _insights_fields = {
        'state', 'company', 'sale_date', 'party', 'warehouse',
        'origin_store', 'pickup_store', 'web_shop'}


class SaleLine(RecordedDocumentMixin, metaclass=PoolMeta):
    __name__ = 'sale.line'
    _insights_fields = {
        'type', 'product', 'quantity', 'actual_quantity', 'unit_price'}

    @classmethod
    def _insights_documents(cls, records):
        return [r.sale for r in records]


class POSSale(RecordedDocumentMixin, metaclass=PoolMeta):
    __name__ = 'sale.point.sale'
    _insights_fields = {'state', 'company', 'date', 'point', 'member'}


class Move(RecordedDocumentMixin, metaclass=PoolMeta):
    __name__ = 'stock.move'
    _insights_table = 'omni.insights.shipped'
    _insights_fields = {
        'state', 'company', 'effective_date', 'product', 'quantity',
        'internal_quantity', 'from_location', 'to_location', 'cost_price'}


class PickupRefund(RecordedDocumentMixin, metaclass=PoolMeta):
    __name__ = 'sale.pickup.refund'
    _insights_fields = {'sale', 'lines'}

    @classmethod
    def create(cls, vlist):
        refunds = super().create(vlist)
        Pool().get(cls._insights_table).record(
            cls._insights_documents(refunds))
        return refunds

    @classmethod
    def _insights_documents(cls, records):
        return [r.sale for r in records]


class PartyReplace(metaclass=PoolMeta):
    __name__ = 'party.replace'

    @classmethod
    def fields_to_replace(cls):
        return super().fields_to_replace() + [
            ('omni.insights.line', 'party'),
            ]


class DrillDownMixin:
    "Open the documents behind a row"
    __slots__ = ()

    def get_document_domain(self):
        "Return the domain of the omni.insights.line behind the row"
        raise NotImplementedError

    @classmethod
    def period_domain(cls, from_date, to_date):
        return [('date', '>=', from_date), ('date', '<=', to_date)]


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
        Line = pool.get('omni.insights.line')
        LineMonth = pool.get('omni.insights.line.month')
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
    __name__ = 'omni.insights.product_channel'

    product = fields.Many2One('product.product', "Product")

    @classmethod
    def _group_key(cls, lines):
        return lines, lines.product, 'product'

    def get_document_domain(self):
        return super().get_document_domain() + [
            ('product', '=', self.product.id)]


class CategoryChannel(ChannelContributionMixin, ModelSQL, ModelView):
    "Category Channel Contribution"
    __name__ = 'omni.insights.category_channel'

    category = fields.Many2One('product.category', "Category")

    @classmethod
    def _group_key(cls, lines):
        from_item, category = category_of_products(lines, lines.product)
        return from_item, category, 'category'

    def get_document_domain(self):
        return super().get_document_domain() + [
            ('product.template.categories', '=', self.category.id)]


class StoreCapability(
        CompanyCurrencyMixin, DrillDownMixin, ModelSQL, ModelView):
    "Store Digital Capability"
    __name__ = 'omni.insights.store'

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
        Line = pool.get('omni.insights.line')
        MemberMonth = pool.get('omni.insights.member.month')
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
        yield cls._event(sale, sale.origin_store,
            (sale.company == company) & sale.state.in_(SALE_STATES)
            & (sale.sale_date >= from_date) & (sale.sale_date <= to_date)
            & (sale.origin_store != Null),
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


SEGMENTS = [
    ('omnichannel', "Omnichannel"),
    ('online_only', "Online Only"),
    ('store_only', "Store Only"),
    ]


class MemberSegment(
        CompanyCurrencyMixin, DrillDownMixin, ModelSQL, ModelView):
    "Member Lifetime Value"
    __name__ = 'omni.insights.member_segment'

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
        Line = pool.get('omni.insights.line')
        MemberMonth = pool.get('omni.insights.member.month')
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


class Shipped(RecordedMixin, ModelSQL):
    """Insights Shipped Goods

    The done moves from a warehouse to a customer, one row per move"""
    __name__ = 'omni.insights.shipped'
    _document_column = 'id'

    company = fields.Many2One('company.company', "Company", readonly=True)
    date = fields.Date("Date", readonly=True)
    product = fields.Many2One('product.product', "Product", readonly=True)
    warehouse = fields.Many2One(
        'stock.location', "Warehouse", readonly=True)
    quantity = fields.Float("Quantity", readonly=True)
    cost_price = fields.Numeric("Cost Price", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.company, Index.Range()), (t.date, Index.Range())))

    @classmethod
    def _recorded_columns(cls):
        return ['id', 'company', 'date', 'product', 'warehouse', 'quantity',
            'cost_price']

    @classmethod
    def _sources(cls):
        return {'stock.move': cls._moves}

    @classmethod
    def _recorded_from(cls, table, model, ids):
        return table.id.in_(ids)

    @classmethod
    def _moves(cls, ids=None):
        pool = Pool()
        Location = pool.get('stock.location')
        Move = pool.get('stock.move')
        move = Move.__table__()
        customer = Location.__table__()
        sold = warehouses_of_locations()
        where = (move.state == 'done') & (customer.type == 'customer')
        if ids is not None:
            where &= move.id.in_(ids)
        return (move
            .join(sold, condition=move.from_location == sold.location)
            .join(customer, condition=move.to_location == customer.id)
            .select(
                move.id.as_('id'),
                move.company.as_('company'),
                move.effective_date.as_('date'),
                move.product.as_('product'),
                sold.warehouse.as_('warehouse'),
                move.internal_quantity.as_('quantity'),
                move.cost_price.as_('cost_price'),
                where=where))


def supplier_payments(company, from_date, to_date):
    """Return a query of the product, amount, receipt and payment dates of
    the lines of the company's supplier invoices paid in the period"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    InvoiceLine = pool.get('account.invoice.line')
    InvoiceLineMove = pool.get('account.invoice.line-stock.move')
    MoveLine = pool.get('account.move.line')
    Reconciliation = pool.get('account.move.reconciliation')
    StockMove = pool.get('stock.move')
    invoice = Invoice.__table__()
    invoice_line = InvoiceLine.__table__()
    invoice_line_move = InvoiceLineMove.__table__()
    move_line = MoveLine.__table__()
    reconciliation = Reconciliation.__table__()
    stock_move = StockMove.__table__()
    paid_on = Max(reconciliation.date)
    paid = (invoice
        .join(move_line, condition=(move_line.move == invoice.move)
            & (move_line.account == invoice.account))
        .join(reconciliation,
            condition=move_line.reconciliation == reconciliation.id)
        .select(invoice.id.as_('invoice'), paid_on.as_('paid_on'),
            where=(invoice.type == 'in') & (invoice.state == 'paid')
            & (invoice.company == company),
            group_by=[invoice.id],
            having=(paid_on >= from_date) & (paid_on <= to_date)))
    received = (invoice_line_move
        .join(stock_move,
            condition=invoice_line_move.stock_move == stock_move.id)
        .select(invoice_line_move.invoice_line,
            Min(stock_move.effective_date).as_('received_on'),
            where=stock_move.state == 'done',
            group_by=[invoice_line_move.invoice_line]))
    return (invoice_line
        .join(paid, condition=invoice_line.invoice == paid.invoice)
        .join(received, condition=invoice_line.id == received.invoice_line)
        .select(invoice_line.product,
            (invoice_line.quantity * invoice_line.unit_price).as_('amount'),
            received.received_on, paid.paid_on,
            where=(invoice_line.type == 'line')
            & (invoice_line.product != Null)
            & (invoice_line.quantity > 0)))


def sql_date(value):
    "Return the date of an SQL aggregate, which SQLite gives as text"
    if isinstance(value, str):
        return datetime.date.fromisoformat(value)
    return value


def category_of_products(query, product):
    """Return the query joined with the categories of its products and the
    category column"""
    pool = Pool()
    Product = pool.get('product.product')
    TemplateCategory = pool.get('product.template-product.category')
    product_ = Product.__table__()
    template_category = TemplateCategory.__table__()
    from_item = (query
        .join(product_, condition=product == product_.id)
        .join(template_category,
            condition=product_.template == template_category.template))
    return from_item, template_category.category


class InventoryMixin(CompanyCurrencyMixin):
    __slots__ = ()

    company = fields.Many2One('company.company', "Company")
    location = fields.Many2One('stock.location', "Location")
    quantity_sold = fields.Float(
        "Quantity Sold", help="Sent from the location to customers.")
    cost_of_sales = Monetary(
        "Cost of Sales", currency='currency', digits='currency')
    on_hand = fields.Float("On Hand")
    stock_value = Monetary(
        "Stock Value", currency='currency', digits='currency',
        help="The quantity on hand at the cost price.")
    days = fields.Integer("Days")
    turnover = fields.Float(
        "Turnover Rate", digits=(16, 2),
        help="The cost of sales divided by the stock value.")
    days_of_inventory = fields.Float(
        "Days of Inventory", digits=(16, 1),
        help="How many days the quantity on hand lasts at the period's "
        "rate of sale.")
    sell_through = fields.Float(
        "Sell-Through", digits=(1, 4),
        help="The quantity sold divided by the quantity sold and on hand.")
    days_payable = fields.Function(fields.Float(
            "Days Payable", digits=(16, 1),
            help="The average days from the receipt of the goods to the "
            "payment of their supplier invoices paid in the period, "
            "weighted by amount, for the whole company."),
        'get_cash_figures')
    cash_conversion = fields.Function(fields.Float(
            "Cash Conversion Days", digits=(16, 1),
            help="The days of inventory less the days payable: how long the "
            "cash paid for the goods waits to come back. Customers pay when "
            "they order, so no days receivable are added. Empty without "
            "supplier invoices paid in the period."),
        'get_cash_figures')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('cost_of_sales', 'DESC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Availability = pool.get('stock.availability')
        ShippedMonth = pool.get('omni.insights.shipped.month')
        context = Transaction().context
        company = context.get('company')
        from_date, to_date, _ = period()
        shipped = ShippedMonth.rows(company, from_date, to_date)
        availability = Availability.__table__()
        costs = cost_prices(company)
        held = warehouses_of_locations()
        cost_price = Coalesce(costs.cost_price, 0)
        moves = shipped.join(costs, 'LEFT',
            condition=shipped.product == costs.product).select(
                shipped.product, shipped.warehouse,
                shipped.quantity.as_('sold'),
                (shipped.cost + shipped.quantity_unpriced * cost_price
                    ).as_('cost'),
                Literal(0).as_('on_hand'),
                Literal(0).as_('value'))
        stock = (availability
            .join(held, condition=availability.location == held.location)
            .join(costs, 'LEFT',
                condition=availability.product == costs.product)
            .select(
                availability.product, held.warehouse,
                Literal(0), Literal(0),
                availability.on_hand,
                availability.on_hand * cost_price))
        events = Union(moves, stock, all_=True)
        from_item, key, name = cls._group_key(events)
        where = Literal(True)
        if context.get('store'):
            where &= events.warehouse == context['store']
        query = from_item.select(
            (key * ROW_KEY + events.warehouse).as_('id'),
            Literal(company).as_('company'),
            key.as_(name),
            events.warehouse.as_('location'),
            cls.quantity_sold.sql_cast(Sum(events.sold)).as_(
                'quantity_sold'),
            cls.cost_of_sales.sql_cast(Sum(events.cost)).as_(
                'cost_of_sales'),
            cls.on_hand.sql_cast(Sum(events.on_hand)).as_('on_hand'),
            cls.stock_value.sql_cast(Sum(events.value)).as_('stock_value'),
            where=where,
            group_by=[key, events.warehouse])
        # The figures in SQL: the list reads them without another query
        days = (to_date - from_date).days + 1
        return query.select(
            *(Column(query, n) for n in ['id', 'company', name, 'location',
                    'quantity_sold', 'cost_of_sales', 'on_hand',
                    'stock_value']),
            Literal(days).as_('days'),
            sql_ratio(cls.turnover, query.cost_of_sales,
                query.stock_value).as_('turnover'),
            sql_ratio(cls.days_of_inventory, query.on_hand * days,
                query.quantity_sold).as_('days_of_inventory'),
            sql_ratio(cls.sell_through, query.quantity_sold,
                query.quantity_sold + query.on_hand).as_('sell_through'))

    @classmethod
    def _group_key(cls, events):
        "Return the from item, the group column and its name"
        raise NotImplementedError

    @classmethod
    def get_cash_figures(cls, records, names):
        cursor = Transaction().connection.cursor()
        from_date, to_date, _ = period()
        payments = supplier_payments(
            Transaction().context.get('company'), from_date, to_date)
        from_item, key, name = cls._group_key(payments)
        cursor.execute(*from_item.select(
                key, payments.amount, payments.received_on, payments.paid_on))
        amounts, day_amounts = defaultdict(float), defaultdict(float)
        for key_id, amount, received_on, paid_on in cursor:
            days = (sql_date(paid_on) - sql_date(received_on)).days
            amounts[key_id] += float(amount)
            day_amounts[key_id] += float(amount) * days
        result = {n: {} for n in names}
        for record in records:
            key_id = record.id // ROW_KEY
            days_payable = cash_conversion = None
            if amounts.get(key_id):
                days_payable = day_amounts[key_id] / amounts[key_id]
                if record.days_of_inventory is not None:
                    cash_conversion = record.days_of_inventory - days_payable
            if 'days_payable' in result:
                result['days_payable'][record.id] = days_payable
            if 'cash_conversion' in result:
                result['cash_conversion'][record.id] = cash_conversion
        return result

    def get_move_domain(self):
        from_date, to_date, _ = period()
        return [
            ('from_location', 'child_of', [self.location.id], 'parent'),
            ('to_location.type', '=', 'customer'),
            ('state', '=', 'done'),
            ('effective_date', '>=', from_date),
            ('effective_date', '<=', to_date),
            ]


class Inventory(InventoryMixin, ModelSQL, ModelView):
    "Inventory Turnover"
    __name__ = 'omni.insights.inventory'

    product = fields.Many2One('product.product', "Product")

    @classmethod
    def _group_key(cls, events):
        return events, events.product, 'product'

    def get_move_domain(self):
        return super().get_move_domain() + [
            ('product', '=', self.product.id)]


class InventoryCategory(InventoryMixin, ModelSQL, ModelView):
    "Inventory Turnover by Category"
    __name__ = 'omni.insights.inventory_category'

    category = fields.Many2One('product.category', "Category")

    @classmethod
    def _group_key(cls, events):
        from_item, category = category_of_products(events, events.product)
        return from_item, category, 'category'

    def get_move_domain(self):
        return super().get_move_domain() + [
            ('product.template.categories', '=', self.category.id)]


class CouponRevenueMixin(DrillDownMixin):
    __slots__ = ()

    revenue = fields.Function(Monetary(
            "Revenue", currency='currency', digits='currency',
            help="The untaxed revenue of the orders that used the coupons."),
        'get_revenue')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_currency')

    def _revenue_row(self):
        return (self.coupon.id,)

    @classmethod
    def redeemed_orders(cls):
        """Return a query of the coupon, store and origin of the live
        redemptions of the period"""
        pool = Pool()
        Number = pool.get('sale.promotion.coupon.number')
        Redemption = pool.get('sale.promotion.coupon.redemption')
        redemption = Redemption.__table__()
        number = Number.__table__()
        return redemption.join(number,
            condition=redemption.number == number.id).select(
                number.coupon, redemption.store, redemption.origin,
                where=(redemption.state == 'done')
                & (redemption.origin != Null)
                & cls._in_period(redemption.date))

    @classmethod
    def get_revenue(cls, statistics, name):
        pool = Pool()
        Line = pool.get('omni.insights.line')
        context = Transaction().context
        result = dict.fromkeys(map(int, statistics), Decimal(0))
        rows = {s._revenue_row(): s.id for s in statistics}
        orders = cls.redeemed_orders()
        lines = Line.lines(context.get('company'), filtered=False)
        keys = [getattr(orders, c) for c in cls._revenue_columns()]
        # Only the orders of the rows read, so that the database looks their
        # lines up rather than scanning them all
        where = Literal(True)
        for i, key in enumerate(keys):
            where &= in_values(key, {r[i] for r in rows})
        cursor = Transaction().connection.cursor()
        cursor.execute(*orders.join(lines,
                condition=orders.origin == lines.order).select(
                *keys, Sum(lines.revenue), where=where, group_by=keys))
        for *key, revenue in cursor:
            if tuple(key) in rows:
                statistic = cls(rows[tuple(key)])
                result[statistic.id] = statistic.currency.round(
                    Decimal(str(revenue)))
        return result

    @classmethod
    def _revenue_columns(cls):
        return ['coupon']

    def get_currency(self, name):
        return self.coupon.currency.id if self.coupon.currency else None

    def get_document_domain(self):
        return [('order', 'in', [o for o, in self._redeemed_origins()])]

    def _redeemed_origins(self):
        orders = self.redeemed_orders()
        cursor = Transaction().connection.cursor()
        where = Literal(True)
        for name, value in zip(
                self._revenue_columns(), self._revenue_row(), strict=True):
            where &= getattr(orders, name) == value
        cursor.execute(*orders.select(orders.origin, where=where))
        return cursor


class CouponStatistic(CouponRevenueMixin, metaclass=PoolMeta):
    __name__ = 'sale.promotion.coupon.statistic'


class CouponStoreStatistic(CouponRevenueMixin, metaclass=PoolMeta):
    __name__ = 'sale.promotion.coupon.statistic.store'

    @classmethod
    def _revenue_columns(cls):
        return ['coupon', 'store']

    def _revenue_row(self):
        return (self.coupon.id, self.store.id if self.store else None)


class OpenDocuments(Wizard):
    "Open the Documents behind a Report"
    __name__ = 'omni.insights.open_documents'

    start = StateTransition()
    lines = StateAction('omni_insights.act_line')
    moves = StateAction('stock.act_move_form')

    def transition_start(self):
        if self.model.__name__ in {
                'omni.insights.inventory',
                'omni.insights.inventory_category'}:
            return 'moves'
        return 'lines'

    def _open(self, action, domains):
        encoder = PYSONEncoder()
        company = Transaction().context.get('company')
        action['pyson_domain'] = encoder.encode(
            [('company', '=', company), ['OR'] + domains])
        action['pyson_context'] = encoder.encode({'company': company})
        return action, {}

    def do_lines(self, action):
        return self._open(
            action, [r.get_document_domain() for r in self.records])

    def do_moves(self, action):
        return self._open(
            action, [r.get_move_domain() for r in self.records])
