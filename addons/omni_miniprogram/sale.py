# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Mall orders: the mall takes a priced cart as a sale with its stock held
until the payment deadline and its lines kept in its cart; a queue task
builds the lines and quotes it. WeChat Pay's confirmation makes it paid, or
refunded when its stock is gone."""
import contextvars
import datetime
import logging
from decimal import Decimal

from sql import Null
from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, TransactionError

from trytond.modules.omni_inventory_bridge.exceptions import ReservationError
from trytond.modules.omni_inventory_bridge.reservation import OPEN_STATES

from .exceptions import CheckoutError
from .order_status import MallStatusMixin

logger = logging.getLogger(__name__)


def with_defaults(record):
    """Give the unsaved record the defaults of the fields it lacks, and
    None or nothing where there is none, as saving it would, so that code
    written for saved records reads it"""
    Model = record.__class__
    present = set(record._values._keys()) if record._values else set()
    names = [name for name, field in Model._fields.items()
        if name not in present and name not in MAGIC_FIELDS
        and not isinstance(field, fields.Function)
        and not getattr(field, 'filter', None)]
    defaults = Model.default_get(names, with_rec_name=False)
    for name in names:
        value = defaults.get(name)
        if value is None and Model._fields[name]._type in {
                'one2many', 'many2many'}:
            value = []
        setattr(record, name, value)
    return record


# The unsaved sale whose promotions are being matched
PRICED_SALE = contextvars.ContextVar('priced_sale', default=None)
MAGIC_FIELDS = {'id', 'create_uid', 'create_date', 'write_uid', 'write_date'}


class Sale(MallStatusMixin, metaclass=PoolMeta):
    __name__ = 'sale.sale'

    mp_checkout_key = fields.Char(
        "Checkout Key", readonly=True, strip=False,
        help="The idempotency key the mini-program sent with the order.")
    mp_pay_deadline = fields.DateTime(
        "Payment Deadline", readonly=True,
        help="The stock is held and WeChat Pay accepts the payment until "
        "then.")
    mp_payments = fields.One2Many(
        'web.shop.mp_payment', 'sale', "WeChat Payments", readonly=True)
    mp_points = fields.Integer(
        "Points Used", readonly=True,
        help="The member's points that pay part of the order.")
    mp_flagged = fields.Boolean(
        "Flagged", readonly=True,
        help="Paid after its stock was gone: refunded automatically.")
    mp_cart = fields.Dict(
        None, "Cart", readonly=True,
        help="The order as the mall took it: its priced lines and totals.")
    mp_build = fields.Selection([
            (None, ""),
            ('waiting', "Waiting"),
            ('failed', "Failed"),
            ], "Build", readonly=True,
        help="The mall took the order; its lines are built from its cart "
        "behind it, and a build that failed is tried again.")
    mp_build_error = fields.Text(
        "Build Error", readonly=True,
        states={'invisible': ~Eval('mp_build_error')})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('mp_checkout_key_unique',
                Unique(t, t.party, t.mp_checkout_key),
                'omni_miniprogram.msg_sale_checkout_key_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.mp_checkout_key, Index.Equality()),
                    where=t.mp_checkout_key != Null),
                Index(t, (t.mp_build, Index.Equality()),
                    where=t.mp_build != Null),
                })
        cls._buttons.update({
                'mall_build_again': {
                    'invisible': Eval('mp_build') != 'failed',
                    'depends': ['mp_build'],
                    },
                })

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default else {}
        for name in [
                'mp_checkout_key', 'mp_pay_deadline', 'mp_payments',
                'mp_points', 'mp_flagged', 'mp_cart', 'mp_build',
                'mp_build_error']:
            default.setdefault(name)
        return super().copy(sales, default=default)

    @property
    def mall_total(self):
        "The amount the member pays, taken from the cart until it is built"
        if self.mp_build:
            return self.mp_cart['total']
        return self.total_amount

    @property
    def mall_delivery(self):
        "A mall order shipped to the member's address"
        return bool(self.web_shop
            and not self.pickup_store and not self.credited_store)

    @property
    def held_until_shipped(self):
        return super().held_until_shipped or self.mall_delivery

    @property
    def reservation_channel(self):
        if self.mall_delivery:
            return 'mall_delivery'
        return super().reservation_channel

    def pickup_discount_rate(self):
        "The store's pickup discount, else the mall's"
        rate = super().pickup_discount_rate()
        if not rate and self.web_shop and not self.credited_store:
            rate = self.web_shop.pickup_discount or Decimal(0)
        return rate

    @classmethod
    def mall_price(cls, shop, member, items, pickup_store=None, coupon=None,
            points=0):
        """Return the unsaved order of member for items [(product,
        quantity)] priced as the mall sells them: the list price, the
        member's tier price, the pickup discount at pickup_store, the points
        (capped) and the coupon number, with its taxes and amounts to the
        fen. It writes nothing: the preview shows it, the order saves it
        as it is."""
        pool = Pool()
        Entry = pool.get('member.points.entry')
        Line = pool.get('sale.line')
        sale = with_defaults(shop.get_sale(member))
        sale.member_channel = 'mall'
        sale.mp_points = points
        if pickup_store:
            sale.pickup_store = pickup_store
            sale.warehouse = pickup_store
        lines = []
        for product, quantity in items:
            line = with_defaults(Line(
                    sale=sale, type='line', product=product,
                    quantity=quantity))
            line.on_change_product()
            line.unit_price = member.member_price(line.unit_price)
            lines.append(line)
        sale.lines = lines
        sale.coupons = [coupon] if coupon else []
        if pickup_store:
            sale.apply_pickup_discount()
        sale.mall_amounts()
        if points:
            payable = sale.total_amount
            if coupon:
                payable -= coupon.get_discount(payable) or 0
            redeemable = Entry.redeemable(member, payable)
            if points > redeemable:
                raise CheckoutError(gettext(
                        'omni_miniprogram.msg_checkout_points_cap',
                        points=points, redeemable=redeemable),
                    'points_over_cap', points=points, redeemable=redeemable)
            sale.lines = [
                *sale.lines, with_defaults(cls.points_line(sale, points))]
            sale.mall_amounts()
        if coupon:
            # As quoting redeems it
            coupon.check_use(member, 'mall', sale.total_amount)
        # The promotions, the coupon's among them, as quoting applies them
        sale.apply_promotion()
        sale.mall_amounts()
        return sale

    def mall_amounts(self):
        "Compute the amounts of the unsaved order from its lines"
        for line in self.lines:
            line.amount = line.on_change_with_amount()
        self.on_change_lines()

    @classmethod
    def mall_take(cls, sale, summary, address=None, latitude=None,
            longitude=None, key=None, deadline=None):
        """Take the order that mall_price priced, in a few statements: hold
        its stock until the deadline, spend its points and coupon, and save
        it numbered with its priced lines and the summary the member sees in
        its cart; the queue builds it (mall_build)"""
        pool = Pool()
        Address = pool.get('party.address')
        Entry = pool.get('member.points.entry')
        Redemption = pool.get('sale.promotion.coupon.redemption')
        Reservation = pool.get('stock.reservation')
        member = sale.party
        # First: a buyer who comes too late costs a statement, not an order
        held = cls._mall_hold(sale, latitude, longitude, deadline)
        sale.mp_cart = {
            'lines': [cls._mall_line_values(line) for line in sale.lines],
            'summary': summary,
            'total': sale.total_amount,
            }
        sale.lines = []
        sale.mp_build = 'waiting'
        sale.mp_checkout_key = key
        sale.mp_pay_deadline = deadline
        if not sale.pickup_store:
            sale.shipment_address = address
        if not sale.invoice_address:
            sale.invoice_address = address or Address(party=member)
            sale.invoice_address.save()
        if not sale.shipment_address:
            sale.shipment_address = sale.invoice_address
        sale.save()
        cls.set_number([sale])
        Reservation.write(held, {'origin': str(sale)})
        if sale.mp_points:
            Entry.redeem(member, sale.mp_points, sale.member_channel,
                store=sale.warehouse, origin=sale)
        for number in sale.coupons:
            Redemption.redeem(number, member, 'mall', sale.warehouse, sale)
        cls.__queue__.mall_build_queued([sale])
        return cls(sale.id)

    @staticmethod
    def _mall_line_values(line):
        "The values that create the priced line again"
        sale, line.sale = line.sale, None
        try:
            values = line._save_values()
        finally:
            line.sale = sale
        values.pop('sale', None)
        return values

    @classmethod
    def mall_build(cls, sales):
        """Build the lines of the mall's waiting orders from their cart and
        quote them at exactly its prices: their holds pass to the lines, the
        points and coupon they spent stay theirs"""
        pool = Pool()
        Line = pool.get('sale.line')
        Reservation = pool.get('stock.reservation')
        if not any(s.mp_build for s in sales):
            return
        cls.lock(sales)
        sales = [s for s in cls.browse(sales) if s.mp_build]
        if not sales:
            return
        Line.create([dict(values, sale=sale.id)
                for sale in sales for values in sale.mp_cart['lines']])
        held = Reservation.search([
                ('origin', 'in', [str(s) for s in sales]),
                ('state', 'in', OPEN_STATES),
                ])
        for sale in cls.browse(sales):
            for line in sale.line_lines:
                Reservation.write(
                    [r for r in held if r.origin == sale
                        and r.product == line.product],
                    {'origin': str(line)})
        # Unpaid past the deadline with its hold gone: built to be cancelled
        now = datetime.datetime.now()
        lapsed = [s for s in cls.browse(sales)
            if not s.paid_at and s.mp_pay_deadline
            and s.mp_pay_deadline < now
            and not any(r.origin == s for r in held)]
        cls.cancel(lapsed)
        sales = [s for s in sales if s not in lapsed]
        with Transaction().set_context(_mall_priced=True):
            cls.quote(sales)
        for sale in cls.browse(sales):
            if sale.total_amount != sale.mp_cart['total']:
                raise CheckoutError(gettext(
                        'omni_miniprogram.msg_order_build_mismatch',
                        sale=sale.rec_name, total=sale.total_amount,
                        taken=sale.mp_cart['total']), 'build_mismatch')
            Reservation.write(
                cls.pickup_reservations([sale]),
                {'expires_at': sale.mp_pay_deadline})
        cls.write(sales + lapsed, {'mp_build': None, 'mp_build_error': None})

    @classmethod
    def mall_build_queued(cls, sales):
        """Build the orders as the queue does: an order that cannot be
        built is flagged for the back office, with its error, and tried
        again by the cron"""
        ids = list(map(int, sales))
        try:
            cls.mall_build(cls.browse(ids))
        except (TransactionError, backend.DatabaseOperationalError):
            raise
        except Exception as exception:
            Transaction().rollback()
            logger.exception("mall orders %s not built", ids)
            cls.write(cls.browse(ids), {
                    'mp_build': 'failed',
                    'mp_build_error': (
                        getattr(exception, 'message', None)
                        or repr(exception)),
                    })

    @classmethod
    @ModelView.button
    def mall_build_again(cls, sales):
        "Build the failed orders now"
        cls.mall_build(sales)

    @classmethod
    def mall_build_lost(cls):
        """Queue again the orders whose build failed or whose task was lost
        with its worker"""
        sales = cls.search([
                ('mp_build', '!=', None),
                ['OR',
                    ('mp_build', '=', 'failed'),
                    ('create_date', '<', datetime.datetime.now()
                        - datetime.timedelta(minutes=2)),
                    ],
                ])
        for sale in sales:
            cls.__queue__.mall_build_queued([sale])

    @classmethod
    def _mall_hold(cls, sale, latitude, longitude, deadline):
        """Hold the goods of the unsaved order at its pickup store, or where
        the fulfilment rule ships from (which becomes its warehouse), until
        the deadline; return the reservations, without origin yet"""
        pool = Pool()
        Reservation = pool.get('stock.reservation')
        Uom = pool.get('product.uom')
        requests = [{
                'product': line.product.id,
                'quantity': Uom.compute_qty(
                    line.unit, line.quantity, line.product.default_uom,
                    round=False),
                'channel': sale.reservation_channel,
                } for line in sale.lines
            if line.type == 'line' and line.product
            and line.product.type == 'goods' and line.quantity > 0]
        if not requests:
            return []
        if sale.pickup_store:
            return Reservation.hold_pickup(
                requests, sale.pickup_store, expires_at=deadline)
        reservations = Reservation.hold_delivery(
            requests, latitude, longitude, deadline)
        sale.warehouse = reservations[0].location.warehouse
        return reservations

    @classmethod
    def reserve_pickup(cls, sales, expires_at=None):
        # The mall held the goods of its orders before saving them
        if Transaction().context.get('_mall_priced'):
            sales = [s for s in sales if len(cls.pickup_reservations([s]))
                < len(s.pickup_goods_lines)]
        super().reserve_pickup(sales, expires_at=expires_at)

    def apply_promotion(self):
        # The mall's price includes the promotions already
        if not Transaction().context.get('_mall_priced'):
            super().apply_promotion()

    def apply_pickup_discount(self):
        # The mall's price includes the pickup discount already
        if not Transaction().context.get('_mall_priced'):
            super().apply_pickup_discount()

    @property
    def coupon_base_amount(self):
        # The mall's price includes the coupon: its minimum is of the
        # amount before it
        if Transaction().context.get('_mall_priced'):
            return self.original_total_amount
        return super().coupon_base_amount

    @classmethod
    def reserve_delivery(cls, sale, latitude=None, longitude=None,
            expires_at=None):
        """Hold the goods where the fulfilment rule says, nearest to the
        coordinates, and ship from there"""
        Reservation = Pool().get('stock.reservation')
        reservations = Reservation.hold_delivery(
            sale.reservation_requests(), latitude, longitude, expires_at)
        if reservations:
            sale.warehouse = reservations[0].location.warehouse
            sale.save()

    @classmethod
    def mall_paid(cls, sales, reference):
        """WeChat Pay confirmed the payment of the orders: pay them if their
        stock is still held or can be held again, else cancel and refund
        them and flag them for the back office"""
        pool = Pool()
        Refund = pool.get('sale.refund')
        cls.mall_build(sales)
        cls.lock(sales)
        paid, lost = [], []
        for sale in cls.browse(sales):
            if sale.state == 'cancelled':
                lost.append(sale)
            elif (sale.state not in {'draft', 'quotation'}
                    or sale.paid_at):
                continue
            else:
                try:
                    cls._hold_again(sale)
                except ReservationError:
                    lost.append(sale)
                else:
                    paid.append(sale)
        cls.write(paid + lost, {'paid_at': datetime.datetime.now()})
        cls.orders_paid(paid, reference)
        if lost:
            cls.cancel([s for s in lost if s.state != 'cancelled'])
            cls.write(lost, {'mp_flagged': True})
            Refund.create_for(
                {s: list(s.line_lines) for s in cls.browse(lost)},
                'late_payment')

    @classmethod
    def _hold_again(cls, sale):
        "Hold the goods of the sale again if its hold lapsed"
        lines = sale.pickup_goods_lines
        if len(cls.pickup_reservations([sale], lines)) >= len(lines):
            return
        if sale.pickup_store:
            cls.reserve_pickup([sale])
        else:
            cls.reserve_delivery(sale)

    @classmethod
    def mall_cancel(cls, sales):
        """Cancel the mall orders not yet fulfilled: their stock, points
        and coupons come back and what was paid is refunded"""
        pool = Pool()
        Payment = pool.get('web.shop.mp_payment')
        Refund = pool.get('sale.refund')
        cls.mall_build(sales)
        sales = cls.browse(sales)
        for sale in sales:
            if not sale.mp_cancellable:
                raise CheckoutError(gettext(
                        'omni_miniprogram.msg_order_not_cancellable',
                        sale=sale.rec_name), 'not_cancellable')
        Payment.close([p for s in sales for p in s.mp_payments
                if p.state == 'pending'])
        confirmed = [s for s in sales if s.state not in {
                'draft', 'quotation'}]
        cls.cancel([s for s in sales if s not in confirmed])
        cls._unship(confirmed)
        sales = cls.browse(sales)
        Refund.create_for(
            {s: list(s.line_lines) for s in sales if s.paid_at},
            'cancelled')

    @property
    def mp_cancellable(self):
        "Whether the member can still cancel the order"
        if self.state in {'draft', 'quotation'}:
            return self.pickup_state != 'picked_up'
        if self.state in {'confirmed', 'processing'} and self.mall_delivery:
            return not self.refunds and all(
                s.state in {'draft', 'waiting'} for s in self.shipments)
        return False

    @classmethod
    def _unship(cls, sales):
        """Undo paid delivery orders whose goods did not leave: cancel the
        shipments, release the stock, credit the invoices and give back
        the points and coupons"""
        pool = Pool()
        Entry = pool.get('member.points.entry')
        Invoice = pool.get('account.invoice')
        Line = pool.get('sale.line')
        Redemption = pool.get('sale.promotion.coupon.redemption')
        ShipmentOut = pool.get('stock.shipment.out')
        if not sales:
            return
        ShipmentOut.cancel([s for sale in sales for s in sale.shipments])
        cls.release_pickup(sales)
        for line in [line for sale in cls.browse(sales)
                for line in sale.line_lines]:
            Line.write([line], {'moves_ignored': [
                        ('add', [m.id for m in line.moves
                                if m.state == 'cancelled'])]})
        credits = Invoice.credit([i for sale in sales for i in sale.invoices
                if i.state in {'posted', 'paid'} and i.type == 'out'])
        Invoice.post(credits)
        for sale in sales:
            Entry.reverse(sale)
        Redemption.restore(sales)
        cls.process(sales)

    @classmethod
    def mp_orders_domain(cls, member):
        "The domain of the orders the member sees in the mall"
        return [
            ('party', '=', member.id),
            ['OR',
                ('state', '!=', 'draft'),
                ('mp_build', '!=', None),
                ],
            ['OR',
                ('web_shop', '!=', None),
                ('credited_store', '!=', None),
                ],
            ]


class Promotion(metaclass=PoolMeta):
    __name__ = 'sale.promotion'

    def get_pattern(self, sale):
        # Upstream reads the amount of the saved sale; the mall prices an
        # unsaved one
        if sale.id is None or sale.id < 0:
            token = PRICED_SALE.set(sale)
            try:
                return super().get_pattern(sale)
            finally:
                PRICED_SALE.reset(token)
        return super().get_pattern(sale)

    def get_sale_amount(self, sale):
        priced = PRICED_SALE.get()
        return super().get_sale_amount(priced if priced is not None else sale)
