# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The owner's reports, each one SQL query over the recorded sale lines
(insights.line) or the base tables.

Every sale line of a POS sale (done or posted) or of an order (confirmed,
processing or done) is credited to one channel and one store:

- a POS sale: channel pos, the warehouse of the point's storage location;
- an order with an origin store: endless aisle, the origin store;
- else with a pickup store: mall pickup, the pickup store;
- else with a web shop: mall delivery, the order's warehouse;
- else: back office, the order's warehouse.

A line refunded to the customer (sale.refund) is not counted.

Revenue is untaxed, in the company's currency; cost is the quantity at the
product's cost price."""
import datetime
from decimal import Decimal

from sql import Column, Except, Literal, Null, Union
from sql.conditionals import Case, Coalesce, NullIf
from sql.operators import Concat
from trytond import backend
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If, PYSONEncoder
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import StateAction, StateTransition, Wizard

from trytond.modules.currency.fields import Monetary
from trytond.modules.omni_member_hub.model import FormerTableMixin

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
    __name__ = 'insights.context'

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
        Pool().get('insights.summarized_month').summarize_again(
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
        Pool().get('insights.summarized_month').forget(cls.__name__)

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


class Line(FormerTableMixin,
        RecordedMixin, CompanyCurrencyMixin, ModelSQL, ModelView):
    """Insights Sale Line

    The sale lines the reports count, one row per line"""
    __name__ = 'insights.line'
    _former_table = 'omni_insights_line'
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
        RefundLine = pool.get('sale.refund-sale.line')
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
                Coalesce(sale.credited_store, sale.pickup_store,
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
            (sale.credited_store != Null, 'endless_aisle'),
            (sale.pickup_store != Null, 'mall_pickup'),
            (sale.web_shop != Null, 'mall_delivery'),
            else_='back_office')


class RecordedDocumentMixin:
    """Record the rows of the documents in the insights table again when
    these fields change"""
    __slots__ = ()
    _insights_table = 'insights.line'
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
        'credited_store', 'pickup_store', 'web_shop'}


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
    _insights_table = 'insights.shipped'
    _insights_fields = {
        'state', 'company', 'effective_date', 'product', 'quantity',
        'internal_quantity', 'from_location', 'to_location', 'cost_price'}


class SaleRefund(RecordedDocumentMixin, metaclass=PoolMeta):
    __name__ = 'sale.refund'
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
            ('insights.line', 'party'),
            ]


class DrillDownMixin:
    "Open the documents behind a row"
    __slots__ = ()

    def get_document_domain(self):
        "Return the domain of the insights.line behind the row"
        raise NotImplementedError

    @classmethod
    def period_domain(cls, from_date, to_date):
        return [('date', '>=', from_date), ('date', '<=', to_date)]


class OpenDocuments(Wizard):
    "Open the Documents behind a Report"
    __name__ = 'insights.open_documents'

    start = StateTransition()
    lines = StateAction('omni_insights.act_line')
    moves = StateAction('stock.act_move_form')

    def transition_start(self):
        if self.model.__name__ in {
                'insights.inventory',
                'insights.inventory_category'}:
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
