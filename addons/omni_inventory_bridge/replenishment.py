# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Replenishment suggestions from the sales speed of every channel.

Each day the cron measures, per product and warehouse, the units sold over
the last 7 and 28 days (done moves from the warehouse's storage to a
customer location, minus the returns). When the stock available would not
last the supplier's lead time plus a safety margin, it suggests a quantity
and raises a purchase request for it."""
import datetime
from collections import defaultdict

from sql.aggregate import Sum
from sql.conditionals import Case
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction, without_check_access

from .configuration import days

WINDOWS = (7, 28)
PENDING_MOVE_STATES = ['staging', 'draft', 'assigned']


class Suggestion(Workflow, ModelSQL, ModelView):
    "Replenishment Suggestion"
    __name__ = 'stock.replenishment.suggestion'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    warehouse = fields.Many2One(
        'stock.location', "Warehouse", required=True, readonly=True,
        domain=[('type', '=', 'warehouse')])
    date = fields.Date(
        "Date", required=True, readonly=True,
        help="The day of the figures.")
    unit = fields.Function(
        fields.Many2One('product.uom', "Unit"), 'on_change_with_unit')
    speed_7 = fields.Float(
        "7-Day Speed", digits=(16, 2), readonly=True,
        help="The units sold per day over the last 7 days, net of returns.")
    speed_28 = fields.Float(
        "28-Day Speed", digits=(16, 2), readonly=True,
        help="The units sold per day over the last 28 days, net of returns.")
    available = fields.Float(
        "Available", digits='unit', readonly=True,
        help="The quantity on hand in the warehouse that is not reserved.")
    on_order = fields.Float(
        "On Order", digits='unit', readonly=True,
        help="The quantity already requested, purchased or on its way to "
        "the warehouse.")
    days_of_cover = fields.Float(
        "Days of Cover", digits=(16, 1), readonly=True,
        help="How many days the available quantity lasts at the higher "
        "of the two speeds.")
    lead_time_days = fields.Float(
        "Lead Time (Days)", digits=(16, 1), readonly=True,
        help="The supplier's lead time or the default one.")
    surge = fields.Boolean(
        "Surge", readonly=True,
        help="The 7-day speed reached the surge factor times "
        "the 28-day speed.")
    low_cover = fields.Boolean(
        "Low Cover", readonly=True,
        help="The days of cover are below the lead time plus the safety "
        "margin.")
    suggested_quantity = fields.Float(
        "Suggested Quantity", digits='unit', readonly=True,
        help="The quantity to cover the lead time and the cover target at "
        "the higher speed, less what is available and on order.")
    purchase_request = fields.Many2One(
        'purchase.request', "Purchase Request", readonly=True,
        ondelete='SET NULL')
    state = fields.Selection([
            ('open', "Open"),
            ('done', "Done"),
            ('cancelled', "Cancelled"),
            ], "State", required=True, readonly=True, sort=False,
        help="Done once the purchase request is purchased, cancelled when "
        "the request is cancelled or the suggestion no longer applies.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(
                t,
                (t.product, Index.Equality()),
                (t.warehouse, Index.Equality()),
                where=t.state == 'open'))
        cls._order = [
            ('date', 'DESC'),
            ('id', 'DESC'),
            ]
        cls._transitions |= {
            ('open', 'done'),
            ('open', 'cancelled'),
            }
        cls._buttons.update({
                'cancel': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'open_purchase_request': {
                    'invisible': ~Eval('purchase_request'),
                    'depends': ['purchase_request'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @fields.depends('product')
    def on_change_with_unit(self, name=None):
        return self.product.default_uom if self.product else None

    def get_rec_name(self, name):
        return f'{self.product.rec_name} @ {self.warehouse.rec_name}'

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('product.rec_name', *clause[1:]),
            ('warehouse.rec_name', *clause[1:]),
            ]

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual', If(Eval('state') == 'cancelled', 'muted',
                    If(Eval('surge', False), 'warning', ''))),
            ]

    @classmethod
    def check_modification(
            cls, mode, suggestions, values=None, external=False):
        super().check_modification(
            mode, suggestions, values=values, external=external)
        if mode == 'delete':
            for suggestion in suggestions:
                if suggestion.state == 'open':
                    raise AccessError(gettext(
                            'omni_inventory_bridge'
                            '.msg_replenishment_delete_open',
                            suggestion=suggestion.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, suggestions):
        "Cancel the suggestions and delete their unpurchased requests"
        Request = Pool().get('purchase.request')
        with without_check_access():
            Request.delete([s.purchase_request for s in suggestions
                    if s.purchase_request
                    and s.purchase_request.state == 'draft'
                    and not s.purchase_request.purchase_line])

    @classmethod
    @Workflow.transition('done')
    def do(cls, suggestions):
        pass

    @classmethod
    @ModelView.button_action(
        'omni_inventory_bridge.act_replenishment_purchase_request')
    def open_purchase_request(cls, suggestions):
        pass

    @classmethod
    def update_state(cls, suggestions):
        "Follow the state of the purchase requests"
        to_do, to_cancel = [], []
        for suggestion in suggestions:
            if suggestion.state != 'open':
                continue
            request = suggestion.purchase_request
            if not request or request.state == 'cancelled':
                to_cancel.append(suggestion)
            elif request.state in {'purchased', 'done'}:
                to_do.append(suggestion)
        cls.do(to_do)
        cls.cancel(to_cancel)

    @classmethod
    def generate(cls):
        """Compute the suggestions of the day and their purchase requests
        for the company of the context or else every company"""
        pool = Pool()
        Company = pool.get('company.company')
        company_id = Transaction().context.get('company')
        companies = (
            [Company(company_id)] if company_id else Company.search([]))
        for company in companies:
            with Transaction().set_context(company=company.id):
                cls._generate(company)

    @classmethod
    def _generate(cls, company):
        pool = Pool()
        Availability = pool.get('stock.availability')
        Configuration = pool.get('stock.configuration')
        Date = pool.get('ir.date')
        Location = pool.get('stock.location')
        Product = pool.get('product.product')
        Request = pool.get('purchase.request')

        today = Date.today()
        settings = Configuration(1).replenishment_settings()

        cls.update_state(cls.search([
                    ('company', '=', company.id),
                    ('state', '=', 'open'),
                    ]))
        opened = {
            (s.product.id, s.warehouse.id): s for s in cls.search([
                    ('company', '=', company.id),
                    ('state', '=', 'open'),
                    ])}

        warehouses = Location.search([('type', '=', 'warehouse')])
        zones = cls._warehouse_zones(warehouses)
        sold = cls._sold(zones, company, today)
        products = Product.search([
                ('id', 'in', list({p for p, _ in sold})),
                ('type', '=', 'goods'),
                ('consumable', '=', False),
                ('purchasable', '=', True),
                ], order=[('id', 'ASC')])
        figures = Availability.get(products, warehouses)
        on_order = cls._on_order(
            products, warehouses, zones, company,
            exclude=[s.purchase_request for s in opened.values()
                if s.purchase_request])

        suggestions, requests = [], []
        for product in products:
            lead_time, supplier = cls._lead_time(product, company, settings)
            for warehouse in warehouses:
                key = (product.id, warehouse.id)
                if key not in sold:
                    continue
                values = cls._compute(
                    product, sold[key], figures[key][2], on_order[key],
                    lead_time, settings)
                if not values:
                    continue
                suggestion = opened.pop(key, None) or cls(
                    company=company, product=product, warehouse=warehouse,
                    purchase_request=None)
                suggestion.date = today
                for name, value in values.items():
                    setattr(suggestion, name, value)
                suggestions.append(suggestion)
                requests.append(
                    suggestion._request(supplier, lead_time, today))
        cls.cancel(list(opened.values()))

        cls.save(suggestions)
        for suggestion, request in zip(suggestions, requests, strict=True):
            request.origin = suggestion
        Request.save(requests)
        for suggestion, request in zip(suggestions, requests, strict=True):
            suggestion.purchase_request = request
        cls.save(suggestions)
        return suggestions

    @classmethod
    def _warehouse_zones(cls, warehouses):
        "Return {storage location id: warehouse id} of the warehouses"
        Location = Pool().get('stock.location')
        zones = {}
        for warehouse in warehouses:
            for location in Location.search([
                        ('parent', 'child_of', [warehouse.id]),
                        ('type', '=', 'storage'),
                        ]):
                zones.setdefault(location.id, warehouse.id)
        return zones

    @classmethod
    def _sold(cls, zones, company, today):
        """Return {(product id, warehouse id): {days: units}} sold over
        the windows ending today, net of the returns"""
        pool = Pool()
        Location = pool.get('stock.location')
        Move = pool.get('stock.move')
        move = Move.__table__()
        location = Location.__table__()
        cursor = Transaction().connection.cursor()
        sold = defaultdict(lambda: dict.fromkeys(WINDOWS, 0))
        if not zones:
            return sold
        zone_ids = list(zones)
        start = today - datetime.timedelta(days=max(WINDOWS) - 1)
        for zone, other, sign in [
                (move.from_location, move.to_location, 1),
                (move.to_location, move.from_location, -1),
                ]:
            columns = [
                Sum(Case(
                        (move.effective_date
                            >= today - datetime.timedelta(days=n - 1),
                            move.internal_quantity),
                        else_=0))
                for n in WINDOWS]
            cursor.execute(*move.join(
                    location, condition=other == location.id).select(
                    move.product, zone, *columns,
                    where=(move.state == 'done')
                    & (move.company == company.id)
                    & (location.type == 'customer')
                    & zone.in_(zone_ids)
                    & (move.effective_date >= start)
                    & (move.effective_date <= today),
                    group_by=[move.product, zone]))
            for product, zone_id, *quantities in cursor:
                units = sold[product, zones[zone_id]]
                for n, quantity in zip(WINDOWS, quantities, strict=True):
                    units[n] += sign * (quantity or 0)
        return sold

    @classmethod
    def _on_order(cls, products, warehouses, zones, company, exclude=()):
        """Return {(product id, warehouse id): quantity} requested, purchased
        or moving into the storage of the warehouses, in the default unit of
        the product"""
        pool = Pool()
        Availability = pool.get('stock.availability')
        Move = pool.get('stock.move')
        Request = pool.get('purchase.request')
        Uom = pool.get('product.uom')
        move = Move.__table__()
        cursor = Transaction().connection.cursor()
        on_order = defaultdict(float)
        product_ids = [p.id for p in products]
        if not product_ids or not zones:
            return on_order
        exclude = {r.id for r in exclude}
        for request in Request.search([
                    ('company', '=', company.id),
                    ('product', 'in', product_ids),
                    ('warehouse', 'in', list(set(zones.values()))),
                    ('state', 'in', ['draft', 'purchased']),
                    ]):
            if request.id in exclude:
                continue
            # Once the purchase has moves, they are counted below
            if request.purchase_line and request.purchase_line.moves:
                continue
            on_order[request.product.id, request.warehouse.id] += (
                Uom.compute_qty(
                    request.unit, request.quantity,
                    request.product.default_uom, round=False))
        cursor.execute(*move.select(
                move.product, move.from_location, move.to_location,
                Sum(move.internal_quantity),
                where=move.state.in_(PENDING_MOVE_STATES)
                & (move.company == company.id)
                & move.product.in_(product_ids)
                & move.to_location.in_(list(zones)),
                group_by=[move.product, move.from_location, move.to_location]))
        # The quantity available counts the storage zone only, so the goods
        # received but still in the input zone are on order too
        storage = {
            w: set(ids) for w, ids in Availability.storage_children(
                [w.id for w in warehouses]).items()}
        for product, from_location, to_location, quantity in cursor:
            warehouse = zones[to_location]
            if from_location not in storage[warehouse]:
                on_order[product, warehouse] += quantity or 0
        return on_order

    @classmethod
    def _lead_time(cls, product, company, settings):
        "Return the lead time and the supplier of the first product supplier"
        for product_supplier in product.product_suppliers_used(
                company=company.id):
            lead_time = product_supplier.lead_time_used
            if lead_time is None:
                lead_time = settings['lead_time']
            return lead_time, product_supplier.party
        return settings['lead_time'], None

    @classmethod
    def _compute(cls, product, sold, available, on_order, lead_time,
            settings):
        """Return the figures of a suggestion or None when the stock
        covers the lead time and the safety margin"""
        speed_7 = max(sold[7], 0) / 7
        speed_28 = max(sold[28], 0) / 28
        speed = max(speed_7, speed_28)
        if speed <= 0:
            return
        lead_time_days = days(lead_time)
        days_of_cover = max(available, 0) / speed
        low_cover = round(days_of_cover, 6) < round(
            lead_time_days + settings['safety_days'], 6)
        surge = round(speed_7, 6) >= round(
            settings['surge_factor'] * speed_28, 6)
        suggested_quantity = product.default_uom.ceil(
            speed * (lead_time_days + settings['cover_days'])
            - available - on_order)
        if not low_cover or suggested_quantity <= 0:
            return
        unit = product.default_uom
        return {
            'speed_7': round(speed_7, 2),
            'speed_28': round(speed_28, 2),
            'available': unit.round(available),
            'on_order': unit.round(on_order),
            'days_of_cover': round(days_of_cover, 1),
            'lead_time_days': round(lead_time_days, 1),
            'surge': surge,
            'low_cover': low_cover,
            'suggested_quantity': suggested_quantity,
            }

    def _request(self, supplier, lead_time, today):
        "Return the purchase request for the suggested quantity"
        pool = Pool()
        Request = pool.get('purchase.request')
        Uom = pool.get('product.uom')
        product = self.product
        request = self.purchase_request
        if request and (request.state != 'draft' or request.purchase_line):
            # Only a request still to purchase follows the figures
            return request
        if not request:
            request = Request(
                product=product, company=self.company,
                warehouse=self.warehouse, party=supplier)
        elif not request.party:
            request.party = supplier
        unit = product.purchase_uom or product.default_uom
        request.unit = unit
        request.quantity = unit.ceil(Uom.compute_qty(
                product.default_uom, self.suggested_quantity, unit,
                round=False))
        request.computed_quantity = self.suggested_quantity
        request.computed_unit = product.default_uom
        request.purchase_date = today
        request.supply_date = today + lead_time
        request.stock_level = self.available
        return request


class PurchaseRequest(metaclass=PoolMeta):
    __name__ = 'purchase.request'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() | {'stock.replenishment.suggestion'}

    @classmethod
    def update_state(cls, requests):
        pool = Pool()
        Suggestion = pool.get('stock.replenishment.suggestion')
        super().update_state(requests)
        with without_check_access():
            Suggestion.update_state(Suggestion.search([
                        ('purchase_request', 'in', [r.id for r in requests]),
                        ('state', '=', 'open'),
                        ]))

