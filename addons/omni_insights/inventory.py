# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The inventory by product and by category: cost of sales, stock value,
turnover, days of inventory, sell-through and cash conversion"""
import datetime
from collections import defaultdict

from sql import Column, Literal, Null, Union
from sql.aggregate import Max, Min, Sum
from sql.conditionals import Coalesce
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction

from trytond.modules.currency.fields import Monetary
from trytond.modules.omni_member_hub.model import FormerTableMixin

from .reporting import (
    ROW_KEY,
    CompanyCurrencyMixin,
    RecordedMixin,
    category_of_products,
    cost_prices,
    period,
    sql_ratio,
    warehouses_of_locations,
)


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


class Shipped(FormerTableMixin, RecordedMixin, ModelSQL):
    """Insights Shipped Goods

    The done moves from a warehouse to a customer, one row per move"""
    __name__ = 'insights.shipped'
    _former_table = 'omni_insights_shipped'
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
        ShippedMonth = pool.get('insights.shipped.month')
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
    __name__ = 'insights.inventory'

    product = fields.Many2One('product.product', "Product")

    @classmethod
    def _group_key(cls, events):
        return events, events.product, 'product'

    def get_move_domain(self):
        return super().get_move_domain() + [
            ('product', '=', self.product.id)]


class InventoryCategory(InventoryMixin, ModelSQL, ModelView):
    "Inventory Turnover by Category"
    __name__ = 'insights.inventory_category'

    category = fields.Many2One('product.category', "Category")

    @classmethod
    def _group_key(cls, events):
        from_item, category = category_of_products(events, events.product)
        return from_item, category, 'category'

    def get_move_domain(self):
        return super().get_move_domain() + [
            ('product.template.categories', '=', self.category.id)]
