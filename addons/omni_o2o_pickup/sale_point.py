# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from trytond.modules.omni_inventory_bridge.sale_point import (
    is_store_manager,
)

from .exceptions import PickupError


class SaleStatesMixin:
    "The selections of a sale's states, for the views that show them"
    __slots__ = ()

    @classmethod
    def get_sale_states(cls):
        Sale = Pool().get('sale.sale')
        return Sale.fields_get(['state'])['state']['selection']

    @classmethod
    def get_pickup_states(cls):
        Sale = Pool().get('sale.sale')
        return Sale.fields_get(['pickup_state'])['pickup_state']['selection']


class POSSale(metaclass=PoolMeta):
    __name__ = 'sale.point.sale'

    @classmethod
    def may_identify_manually(cls):
        return super().may_identify_manually() or is_store_manager()


class PickupHandover(Wizard):
    "Pickup Handover"
    __name__ = 'sale.point.pickup_handover'
    start = StateView(
        'sale.point.pickup_handover.start',
        'omni_o2o_pickup.pickup_handover_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Verify", 'verify', 'tryton-forward', default=True),
            ])
    verify = StateTransition()
    refused = StateView(
        'sale.point.pickup_handover.refused',
        'omni_o2o_pickup.pickup_handover_refused_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Retry", 'start', 'tryton-back', default=True),
            ])
    order = StateView(
        'sale.point.pickup_handover.order',
        'omni_o2o_pickup.pickup_handover_order_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Hand Over", 'handover', 'tryton-ok', default=True),
            ])
    handover = StateTransition()

    def default_start(self, fields):
        context = Transaction().context
        if self.start.point:
            return {'point': self.start.point.id}
        if context.get('active_model') == 'sale.point':
            return {'point': context.get('active_id')}
        return {}

    def transition_verify(self):
        sale = self._check_code()
        if not sale:
            return 'refused'
        self.order.sale = sale
        return 'order'

    def _check_code(self):
        """Return the order of the code at the point, or None with the
        refusal set; the point is one the user works at"""
        pool = Pool()
        POS = pool.get('sale.point')
        Sale = pool.get('sale.sale')
        POS.check_user([self.start.point])
        sale, error = Sale.pickup_check(self.start.code, self.start.point)
        if error:
            self.refused.code = error.code
            self.refused.message = error.message
            return None
        return sale

    def default_refused(self, fields):
        return {
            'code': self.refused.code,
            'message': self.refused.message,
            }

    def default_order(self, fields):
        sale = self.order.sale
        return {
            'sale': sale.id,
            'member': sale.party.id,
            'pickup_state': sale.pickup_state,
            'paid_at': sale.paid_at,
            'total_amount': sale.total_amount,
            'currency': sale.currency.id,
            'lines': [line.id for line in sale.line_lines],
            'refused_lines': [],
            }

    def transition_handover(self):
        Sale = Pool().get('sale.sale')
        # The wizard's state comes from the client: check the code again
        sale = self._check_code()
        if not sale:
            return 'refused'
        if sale != self.order.sale:
            self.refused.code = 'invalid'
            self.refused.message = gettext(
                'omni_o2o_pickup.msg_pickup_code_invalid')
            return 'refused'
        Sale.pickup_handover(
            [sale], self.start.point,
            [line.id for line in self.order.refused_lines])
        return 'end'


class PickupHandoverStart(ModelView):
    "Pickup Handover"
    __name__ = 'sale.point.pickup_handover.start'

    point = fields.Many2One(
        'sale.point', "Point of Sale", required=True,
        help="The till where the customer collects the order.")
    code = fields.Char(
        "Pickup Code", required=True,
        help="Type the code the member shows or scan its QR code.")


class PickupHandoverRefused(ModelView):
    "Pickup Code Refused"
    __name__ = 'sale.point.pickup_handover.refused'

    code = fields.Char("Error Code", readonly=True)
    message = fields.Text("Message", readonly=True)


class PickupHandoverOrder(SaleStatesMixin, ModelView):
    "Pickup Order to Hand Over"
    __name__ = 'sale.point.pickup_handover.order'

    sale = fields.Many2One('sale.sale', "Sale", readonly=True)
    member = fields.Many2One('party.party', "Member", readonly=True)
    pickup_state = fields.Selection(
        'get_pickup_states', "Pickup State", readonly=True)
    paid_at = fields.DateTime("Paid at", readonly=True)
    total_amount = fields.Numeric(
        "Total", digits='currency', readonly=True)
    currency = fields.Many2One('currency.currency', "Currency", readonly=True)
    lines = fields.Many2Many(
        'sale.line', None, None, "Lines", readonly=True)
    refused_lines = fields.Many2Many(
        'sale.line', None, None, "Refused Lines",
        domain=[
            ('id', 'in', Eval('lines', [])),
            ],
        help="The lines the customer does not take: they are refunded "
        "and their stock released.")


class EndlessAisle(Wizard):
    "Endless Aisle Order"
    __name__ = 'sale.point.endless_aisle'
    start = StateView(
        'sale.point.endless_aisle.start',
        'omni_o2o_pickup.endless_aisle_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Order", 'order', 'tryton-ok', default=True),
            ])
    order = StateTransition()
    done = StateView(
        'sale.point.endless_aisle.done',
        'omni_o2o_pickup.endless_aisle_done_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def _pos_sale(self):
        "Return the active POS sale, which has a member"
        if self.model is None or self.model.__name__ != 'sale.point.sale':
            raise PickupError(gettext(
                    'omni_o2o_pickup.msg_endless_aisle_from_pos_sale'))
        sale = self.record
        if not sale.member:
            raise PickupError(gettext(
                    'omni_o2o_pickup.msg_endless_aisle_member',
                    sale=sale.rec_name))
        return sale

    def default_start(self, fields):
        sale = self._pos_sale()
        addresses = [a for a in sale.member.addresses if a.active]
        return {
            'point': sale.point.id,
            'store': sale.point.store.id,
            'member': sale.member.id,
            'quantity': 1,
            'kind': 'delivery',
            'payment': 'till',
            'address': addresses[0].id if addresses else None,
            }

    def transition_order(self):
        pool = Pool()
        POS = pool.get('sale.point')
        Sale = pool.get('sale.sale')
        start = self.start
        # The till and the member come from the POS sale, which Tryton
        # checked the user may read, not from the wizard's state
        pos_sale = self._pos_sale()
        point, member = pos_sale.point, pos_sale.member
        POS.check_user([point])
        address = start.address
        if address and address.party != member:
            raise PickupError(gettext(
                    'omni_o2o_pickup.msg_endless_aisle_address',
                    member=member.rec_name))
        # A clerk takes the order through this wizard only, not by
        # editing sales
        with without_check_access():
            sale = Sale.create_endless_aisle(
                point, member, [(start.product, start.quantity)],
                start.source, pickup=start.kind == 'pickup',
                address=address)
            if start.payment == 'till':
                Sale.orders_paid([sale], point.rec_name)
        self.done.sale = sale
        return 'done'

    def default_done(self, fields):
        sale = self.done.sale
        sale = sale.__class__(sale.id)
        return {
            'sale': sale.id,
            'state': sale.state,
            'pickup_state': sale.pickup_state,
            'total_amount': sale.total_amount,
            'currency': sale.currency.id,
            }


class EndlessAisleStart(ModelView):
    "Endless Aisle Order"
    __name__ = 'sale.point.endless_aisle.start'

    point = fields.Many2One('sale.point', "Point of Sale", readonly=True)
    store = fields.Many2One('stock.location', "Store", readonly=True)
    member = fields.Many2One(
        'party.party', "Member", required=True, readonly=True)
    product = fields.Many2One(
        'product.product', "Product", required=True,
        domain=[
            ('salable', '=', True),
            ('type', '=', 'goods'),
            ],
        help="The product the store does not have on its shelf.")
    quantity = fields.Float(
        "Quantity", digits=(16, 0), required=True,
        domain=[('quantity', '>', 0)])
    availability = fields.One2Many(
        'sale.point.endless_aisle.location', None, "Availability",
        readonly=True,
        help="What each location has for sale, nearest to the store first.")
    sources = fields.Many2Many(
        'stock.location', None, None, "Sources", readonly=True)
    kind = fields.Selection([
            ('delivery', "Ship Home"),
            ('pickup', "Transfer to This Store"),
            ], "Fulfilment", required=True)
    source = fields.Many2One(
        'stock.location', "From", required=True,
        domain=[('id', 'in', Eval('sources', []))],
        help="The location that has the quantity.")
    address = fields.Many2One(
        'party.address', "Delivery Address",
        domain=[('party', '=', Eval('member', -1))],
        states={
            'required': Eval('kind') == 'delivery',
            'invisible': Eval('kind') != 'delivery',
            })
    payment = fields.Selection([
            ('till', "Paid at the Till"),
            ('later', "Pay Later in the Mini-Program"),
            ], "Payment", required=True)

    @fields.depends(
        'product', 'quantity', 'store', 'source', 'availability', 'sources')
    def on_change_product(self):
        self._fill_availability()

    @fields.depends(
        'product', 'quantity', 'store', 'source', 'availability', 'sources')
    def on_change_quantity(self):
        self._fill_availability()

    @fields.depends(
        'product', 'quantity', 'store', 'source', 'availability', 'sources')
    def _fill_availability(self):
        pool = Pool()
        Row = pool.get('sale.point.endless_aisle.location')
        Sale = pool.get('sale.sale')
        self.availability = []
        self.sources = []
        if not self.product or not self.store:
            self.source = None
            return
        rows = Sale.endless_aisle_availability(self.product, self.store)
        self.availability = [Row(**r) for r in rows]
        self.sources = [
            r['warehouse'] for r in rows
            if r['available'] >= (self.quantity or 0)]
        if self.source not in self.sources:
            self.source = self.sources[0] if self.sources else None


class EndlessAisleLocation(ModelView):
    "Endless Aisle Availability"
    __name__ = 'sale.point.endless_aisle.location'

    warehouse = fields.Many2One('stock.location', "Location", readonly=True)
    available = fields.Float("Available", readonly=True)
    distance = fields.Float(
        "Distance (km)", digits=(16, 1), readonly=True,
        help="From the store, as the crow flies.")


class EndlessAisleDone(SaleStatesMixin, ModelView):
    "Endless Aisle Order Taken"
    __name__ = 'sale.point.endless_aisle.done'

    sale = fields.Many2One('sale.sale', "Order", readonly=True)
    state = fields.Selection('get_sale_states', "State", readonly=True)
    pickup_state = fields.Selection(
        'get_pickup_states', "Pickup State", readonly=True)
    total_amount = fields.Numeric(
        "Total", digits='currency', readonly=True)
    currency = fields.Many2One('currency.currency', "Currency", readonly=True)
