# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Pickup orders: a sale reserved on a store's shelf, paid, handed over at
the store's POS against a pickup code, or expired and refunded.

A pickup order stays a quotation until the handover, so that an expiry goes
through the sale's normal cancel (which other modules extend to give back
points and coupons); the handover confirms it and ships it at once."""
import datetime
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import (
    Index,
    ModelView,
    fields,
)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction

from trytond.modules.omni_inventory_bridge.reservation import OPEN_STATES
from trytond.modules.product import round_price

from .endless_aisle import EndlessAisleMixin
from .exceptions import PickupError
from .pickup_code import (
    LIVE_STATES,
    PickupCodeMixin,
)


class Sale(PickupCodeMixin, EndlessAisleMixin, metaclass=PoolMeta):
    __name__ = 'sale.sale'

    pickup_store = fields.Many2One(
        'stock.location', "Pickup Store",
        domain=[('type', '=', 'warehouse')],
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="The store where the customer collects the order.")
    pickup_state = fields.Selection([
            (None, ''),
            ('awaiting_payment', "Awaiting Payment"),
            ('paid', "Awaiting Preparation"),
            ('ready', "Ready for Pickup"),
            ('picked_up', "Picked Up"),
            ('expired', "Expired"),
            ('cancelled', "Cancelled"),
            ], "Pickup State", readonly=True, sort=False)
    pickup_discount = fields.Numeric(
        "Pickup Discount", digits=(16, 4), readonly=True,
        help="The rate taken off the unit prices for choosing pickup.")
    paid_at = fields.DateTime("Paid at", readonly=True)
    paid_by = fields.Many2One('res.user', "Paid by", readonly=True)
    payment_reference = fields.Char(
        "Payment Reference", readonly=True,
        help="The reference of the payment, such as the WeChat Pay "
        "transaction.")
    pickup_code_nonce = fields.Char("Pickup Code Nonce", readonly=True)
    pickup_code_hash = fields.Char(
        "Pickup Code Hash", readonly=True, strip=False,
        help="A keyed hash of the pickup code: the code itself is not "
        "stored.")
    pickup_ready_at = fields.DateTime("Ready at", readonly=True)
    pickup_deadline = fields.DateTime(
        "Pickup Deadline", readonly=True,
        help="When the order expires if not collected.")
    pickup_handed_over_at = fields.DateTime("Handed over at", readonly=True)
    pickup_handed_over_by = fields.Many2One(
        'res.user', "Handed over by", readonly=True)
    pickup_point = fields.Many2One(
        'sale.point', "Handed over at POS", readonly=True)
    refunds = fields.One2Many(
        'sale.refund', 'sale', "Refunds", readonly=True)
    @classmethod
    def __register__(cls, module):
        # Migration from the first release: the payment fields and the
        # endless aisle's credit named for what they are
        table_h = cls.__table_handler__(module)
        for old, new in [
                ('pickup_paid_at', 'paid_at'),
                ('pickup_paid_by', 'paid_by'),
                ('pickup_payment_reference', 'payment_reference'),
                ('origin_store', 'credited_store'),
                ('origin_clerk', 'credited_clerk'),
                ]:
            if table_h.column_exist(old) and not table_h.column_exist(new):
                table_h.column_rename(old, new)
        super().__register__(module)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.pickup_code_hash, Index.Equality()),
                    where=t.pickup_state.in_(LIVE_STATES)),
                Index(t, (t.pickup_deadline, Index.Range()),
                    where=t.pickup_state == 'ready'),
                })
        cls._buttons.update({
                'mark_pickup_paid': {
                    'invisible': Eval('pickup_state') != 'awaiting_payment',
                    'depends': ['pickup_state'],
                    },
                'pickup_ready': {
                    'invisible': Eval('pickup_state') != 'paid',
                    'depends': ['pickup_state'],
                    },
                })

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default else {}
        for name in [
                'pickup_state', 'pickup_discount', 'paid_at',
                'paid_by', 'payment_reference',
                'pickup_code_nonce', 'pickup_code_hash', 'pickup_ready_at',
                'pickup_deadline', 'pickup_handed_over_at',
                'pickup_handed_over_by', 'pickup_point', 'refunds',
                'credited_store', 'credited_clerk', 'pickup_source',
                'pickup_transfers']:
            default.setdefault(name)
        return super().copy(sales, default=default)

    @fields.depends('pickup_store', 'warehouse')
    def on_change_pickup_store(self):
        if self.pickup_store:
            self.warehouse = self.pickup_store

    @classmethod
    def quote(cls, sales):
        pickups = [s for s in sales if s.pickup_store]
        for sale in pickups:
            sale.apply_pickup_discount()
        cls.save(pickups)
        super().quote(sales)
        cls.reserve_pickup(pickups)
        cls.write(pickups, {'pickup_state': 'awaiting_payment'})
        cls._reserve([s for s in sales if s.endless_aisle],
            lambda sale: sale.warehouse)

    @property
    def held_until_shipped(self):
        "An order shipped home whose goods are reserved until they ship"
        return self.endless_aisle

    def apply_pickup_discount(self):
        """Take the store's pickup discount off the unit prices, once; an
        order taken in the store gets none"""
        rate = self.pickup_discount_rate()
        self.warehouse = self.pickup_store
        self.shipment_method = 'order'
        self.invoice_method = 'order'
        self.pickup_discount = rate
        for line in self.lines:
            # Discount lines such as points keep their value
            if line.type != 'line' or (line.unit_price or 0) < 0:
                continue
            if line.pickup_base_price is None:
                line.pickup_base_price = line.unit_price
            if line.pickup_base_price is not None:
                line.unit_price = round_price(
                    line.pickup_base_price * (1 - rate))
        self.lines = self.lines

    def pickup_discount_rate(self):
        "The store's pickup discount, none for an order taken in the store"
        if self.credited_store:
            return Decimal(0)
        return self.pickup_store.pickup_discount or Decimal(0)

    @classmethod
    def reserve_pickup(cls, sales, expires_at=None):
        """Reserve the goods of the pickup orders at their store's shelf,
        or at the location that transfers them"""
        cls._reserve(
            sales, lambda sale: sale.pickup_source or sale.pickup_store,
            expires_at)

    @classmethod
    def _reserve(cls, sales, warehouse_of, expires_at=None):
        "Reserve the goods of the sales at the warehouse_of each"
        pool = Pool()
        Reservation = pool.get('stock.reservation')
        for sale in sales:
            requests = sale.reservation_requests()
            if requests:
                Reservation.hold_pickup(
                    requests, warehouse_of(sale), expires_at=expires_at)

    def reservation_requests(self, location=None):
        "Return the hold requests of the goods lines, at location if given"
        Uom = Pool().get('product.uom')
        requests = [{
                'product': line.product.id,
                'quantity': Uom.compute_qty(
                    line.unit, line.quantity, line.product.default_uom,
                    round=False),
                'origin': str(line),
                'channel': self.reservation_channel,
                } for line in self.pickup_goods_lines]
        if location:
            for request in requests:
                request['location'] = location.id
        return requests

    @property
    def reservation_channel(self):
        return 'endless_aisle' if self.credited_store else 'mall_pickup'

    @property
    def pickup_goods_lines(self):
        return [line for line in self.line_lines
            if line.product and line.product.type == 'goods'
            and line.quantity > 0]

    @classmethod
    def pickup_reservations(cls, sales, lines=None):
        "Return the open reservations of the sales' lines"
        Reservation = Pool().get('stock.reservation')
        if lines is None:
            lines = [line for sale in sales for line in sale.line_lines]
        origins = [str(line) for line in lines]
        if not origins:
            return []
        return Reservation.search([
                ('origin', 'in', origins),
                ('state', 'in', OPEN_STATES),
                ])

    @classmethod
    def release_pickup(cls, sales, lines=None):
        Reservation = Pool().get('stock.reservation')
        Reservation.release(cls.pickup_reservations(sales, lines))

    @classmethod
    def confirm(cls, sales):
        "Keep the units of the reserved deliveries until they ship"
        Reservation = Pool().get('stock.reservation')
        reservations = cls.pickup_reservations(
            [s for s in sales if s.held_until_shipped])
        Reservation.confirm([r for r in reservations if r.state == 'held'])
        Reservation.write(reservations, {'expires_at': None})
        super().confirm(sales)

    @classmethod
    def process(cls, sales):
        "Consume the reservations of the reserved deliveries shipped"
        Reservation = Pool().get('stock.reservation')
        super().process(sales)
        Reservation.consume(cls.pickup_reservations([
                    s for s in cls.browse(sales)
                    if s.held_until_shipped and s.shipment_state == 'sent']))

    @classmethod
    def draft(cls, sales):
        cls.release_pickup([s for s in sales if s.held_until_shipped])
        pickups = [s for s in sales if s.pickup_state]
        cls.release_pickup(pickups)
        super().draft(sales)
        for sale in pickups:
            for line in sale.lines:
                if line.pickup_base_price is not None:
                    line.unit_price = line.pickup_base_price
                    line.pickup_base_price = None
            sale.lines = sale.lines
            sale.pickup_state = None
        cls.save(pickups)

    @classmethod
    def cancel(cls, sales):
        cls.release_pickup([s for s in sales
                if s.held_until_shipped and s.state in {'draft', 'quotation'}])
        pickups = [s for s in sales
            if s.pickup_state and s.state in {'draft', 'quotation'}]
        cls.release_pickup(pickups)
        super().cancel(sales)
        cls.write(pickups, {'pickup_state': 'cancelled'})

    @classmethod
    @ModelView.button
    def mark_pickup_paid(cls, sales):
        """Record that the back office took the payment; the button is for
        accounting administrators and each use is logged"""
        cls.pickup_paid(sales)

    @classmethod
    def pickup_paid(cls, sales, reference=None):
        """Make the pickup orders awaiting payment paid: their reservations
        are kept until the handover and each gets its pickup code. Orders
        already paid are left as they are, so a payment notification that
        comes twice is processed once"""
        pool = Pool()
        Reservation = pool.get('stock.reservation')
        sales = [s for s in sales if s.pickup_state == 'awaiting_payment']
        if not sales:
            return
        cls.lock(sales)
        for sale in sales:
            lines = sale.pickup_goods_lines
            reservations = cls.pickup_reservations([sale], lines)
            if len(reservations) < len(lines):
                # The hold lapsed before the payment: reserve again or fail
                cls.reserve_pickup([sale])
                reservations = cls.pickup_reservations([sale], lines)
            Reservation.confirm(
                [r for r in reservations if r.state == 'held'])
            Reservation.write(reservations, {'expires_at': None})
        now = datetime.datetime.now()
        for sale in sales:
            sale.set_pickup_code()
            sale.pickup_state = 'paid'
            sale.paid_at = now
            sale.paid_by = Transaction().user
            sale.payment_reference = reference
        cls.save(sales)
        cls._transfer_pickup([s for s in sales if s.pickup_source])

    @classmethod
    def orders_paid(cls, sales, reference):
        """The customer paid the orders at the till or in the mall: pickup
        orders wait for their goods or the handover, delivery orders are
        confirmed and their invoices paid"""
        cls.pickup_paid([s for s in sales if s.pickup_store], reference)
        deliveries = [s for s in sales if not s.pickup_store]
        if deliveries:
            cls.write(deliveries, {
                    'invoice_method': 'order',
                    'payment_reference': reference,
                    'paid_at': datetime.datetime.now(),
                    'paid_by': Transaction().user,
                    })
            cls.confirm(deliveries)
            cls.process(deliveries)
            cls._pay_invoices(deliveries)

    @classmethod
    @ModelView.button
    def pickup_ready(cls, sales):
        "Tell the members that the store has prepared their orders"
        pool = Pool()
        Configuration = pool.get('sale.configuration')
        Notification = pool.get('member.notification')
        delay = (Configuration(1).pickup_expiry_delay
            or Configuration.default_pickup_expiry_delay())
        now = datetime.datetime.now()
        sales = [s for s in sales if s.pickup_state == 'paid']
        cls.write(sales, {
                'pickup_state': 'ready',
                'pickup_ready_at': now,
                'pickup_deadline': now + delay,
                })
        for sale in sales:
            if sale.party.member_number:
                Notification.queue(sale.party, 'pickup_ready', {
                        'sale': sale.number,
                        'store': sale.pickup_store.rec_name,
                        'deadline': sale.pickup_deadline,
                        }, key=f'pickup_ready:{sale.id}', origin=sale)

    @classmethod
    def pickup_handover(cls, sales, point, refused_lines=None):
        """Hand the live pickup orders over at the point in one step: refund
        and release the refused lines, confirm the sale, ship it from the
        store's shelf, consume the reservations and record who, where and
        when; exactly one of two concurrent handovers succeeds"""
        pool = Pool()
        Date = pool.get('ir.date')
        Line = pool.get('sale.line')
        Refund = pool.get('sale.refund')
        Reservation = pool.get('stock.reservation')
        refused_lines = Line.browse(refused_lines or [])
        cls._claim_handover(sales, point)
        cls.write(sales, {
                'pickup_state': 'picked_up',
                'pickup_handed_over_at': datetime.datetime.now(),
                'pickup_handed_over_by': Transaction().user,
                'pickup_point': point.id,
                })
        refused = defaultdict(list)
        for line in refused_lines:
            refused[line.sale].append(line)
        for sale, lines in refused.items():
            if sale not in sales:
                raise PickupError(gettext(
                        'omni_o2o_pickup.msg_pickup_line_other_sale',
                        line=lines[0].rec_name, sale=sales[0].rec_name))
        Refund.create_for(refused, 'refused')
        cls.release_pickup(sales, refused_lines)
        Line.write(list(refused_lines), {'quantity': 0})
        sales = cls.browse(sales)
        with Transaction().set_context(company=sales[0].company.id):
            today = Date.today()
        cls.write(sales, {'sale_date': today})
        cls.confirm(sales)
        cls.process(sales)
        cls._ship_pickup(sales)
        reservations = cls.pickup_reservations(sales)
        Reservation.consume(reservations)
        cls._pay_invoices(sales)
        cls.process(sales)

    @classmethod
    def _claim_handover(cls, sales, point):
        """Claim the live orders with one conditional update, which finds
        nothing to update if another transaction handed them over first"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for sale in sales:
            error = cls._pickup_code_error(sale, point.store)
            if error:
                raise PickupError(error.message)
            cursor.execute(*table.update(
                    [table.pickup_state], ['picked_up'],
                    where=(table.id == sale.id)
                    & table.pickup_state.in_(LIVE_STATES)))
            if cursor.rowcount != 1:
                raise PickupError(gettext(
                        'omni_o2o_pickup.msg_pickup_handed_over',
                        sale=sale.number))

    @classmethod
    def _ship_pickup(cls, sales):
        "Ship the goods handed over out of the store at once"
        ShipmentOut = Pool().get('stock.shipment.out')
        shipments = [s for sale in cls.browse(sales) for s in sale.shipments
            if s.state in {'draft', 'waiting'}]
        ShipmentOut.wait([s for s in shipments if s.state == 'draft'])
        ShipmentOut.assign_force(shipments)
        ShipmentOut.pick(shipments)
        ShipmentOut.pack(shipments)
        ShipmentOut.do(shipments)

    @classmethod
    def _pay_invoices(cls, sales):
        "Pay the invoices of the orders with the payment they received"
        pool = Pool()
        Configuration = pool.get('sale.configuration')
        Invoice = pool.get('account.invoice')
        MoveLine = pool.get('account.move.line')
        method = Configuration(1).pickup_payment_method
        if not method:
            return
        invoices = [i for sale in cls.browse(sales) for i in sale.invoices
            if i.state in {'draft', 'validated'}]
        Invoice.post(invoices)
        for invoice in Invoice.browse(invoices):
            amount = invoice.amount_to_pay
            if not amount:
                continue
            sale = invoice.sales[0]
            lines = invoice.pay_invoice(
                amount, method, invoice.invoice_date,
                sale.payment_reference or sale.number)
            to_reconcile, remainder = invoice.get_reconcile_lines_for_amount(
                amount, invoice.currency)
            if not remainder:
                MoveLine.reconcile(to_reconcile + lines)
        Invoice.process(invoices)

    @classmethod
    def expire_pickups(cls):
        """Cancel the ready pickup orders past their deadline, release
        their stock, ask for their refund and tell the member"""
        pool = Pool()
        Notification = pool.get('member.notification')
        Refund = pool.get('sale.refund')
        sales = cls.search([
                ('pickup_state', '=', 'ready'),
                ('pickup_deadline', '<', datetime.datetime.now()),
                ])
        if not sales:
            return
        cls.cancel(sales)
        cls.write(sales, {'pickup_state': 'expired'})
        Refund.create_for(
            {s: list(s.line_lines) for s in sales}, 'expired')
        for sale in sales:
            if sale.party.member_number:
                Notification.queue(sale.party, 'pickup_expired', {
                        'sale': sale.number,
                        'store': sale.pickup_store.rec_name,
                        'amount': sale.total_amount,
                        }, key=f'pickup_expired:{sale.id}', origin=sale)

    @classmethod
    def remind_pickups(cls):
        "Remind the members of the ready orders that expire soon"
        pool = Pool()
        Configuration = pool.get('sale.configuration')
        Notification = pool.get('member.notification')
        delay = (Configuration(1).pickup_reminder_delay
            or Configuration.default_pickup_reminder_delay())
        now = datetime.datetime.now()
        for sale in cls.search([
                    ('pickup_state', '=', 'ready'),
                    ('pickup_deadline', '>=', now),
                    ('pickup_deadline', '<', now + delay),
                    ('party.member_number', '!=', None),
                    ]):
            Notification.queue(sale.party, 'pickup_reminder', {
                    'sale': sale.number,
                    'store': sale.pickup_store.rec_name,
                    'deadline': sale.pickup_deadline,
                    }, key=f'pickup_reminder:{sale.id}', origin=sale)


class SaleLine(metaclass=PoolMeta):
    __name__ = 'sale.line'

    pickup_base_price = fields.Numeric(
        "Price before Pickup Discount", digits=(16, 4), readonly=True,
        states={
            'invisible': ~Bool(Eval('pickup_base_price')),
            })

    @classmethod
    def copy(cls, lines, default=None):
        default = default.copy() if default else {}
        default.setdefault('pickup_base_price')
        return super().copy(lines, default=default)
