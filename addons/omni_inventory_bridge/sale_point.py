# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import (
    Transaction,
    check_access,
    without_check_access,
)

from .exceptions import ReservationError, StockGuardError
from .reservation import OPEN_STATES
from .stock import BEYOND_BOOK_POLICIES


def is_store_manager():
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    User = pool.get('res.user')
    transaction = Transaction()
    if transaction.user == 0:
        return True
    group = ModelData.get_id('omni_inventory_bridge', 'group_store_manager')
    return group in User.get_groups()


class POS(metaclass=PoolMeta):
    __name__ = 'sale.point'

    @classmethod
    def check_user(cls, points):
        """Raise AccessError unless the record rules let the user work at
        every point: wizards and routes run without them"""
        points = set(points)
        with check_access():
            allowed = set(cls.search([('id', 'in', [p.id for p in points])]))
        for point in points - allowed:
            raise AccessError(gettext(
                    'omni_inventory_bridge.msg_pos_not_yours',
                    point=point.rec_name))


class POSSale(metaclass=PoolMeta):
    __name__ = 'sale.point.sale'

    stock_override_reason = fields.Char(
        "Stock Override Reason",
        states={
            'readonly': Eval('state') != 'open',
            },
        help="Sells units that the book stock lacks, for the reason "
        "given, as the store's policy allows. "
        "Units reserved for other orders are never sold.")
    stock_overrides = fields.One2Many(
        'sale.point.sale.stock_override', 'sale', "Stock Overrides",
        readonly=True)

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default else {}
        default.setdefault('stock_override_reason')
        default.setdefault('stock_overrides')
        return super().copy(sales, default=default)

    @classmethod
    def do(cls, sales):
        super().do(sales)
        cls._reserve_stock(sales)

    @classmethod
    def open(cls, sales):
        cls._release_stock(sales)
        super().open(sales)

    @classmethod
    def _reserve_stock(cls, sales):
        """Reserve the goods sold at the point's storage location, which
        fails for units reserved by others unless a store manager gave a
        reason"""
        pool = Pool()
        Reservation = pool.get('stock.reservation')
        Override = pool.get('sale.point.sale.stock_override')
        Uom = pool.get('product.uom')
        reservations, overrides = [], []
        for sale in sales:
            location = sale.point.storage_location
            for line in sale.lines:
                if line.product.type != 'goods' or line.quantity <= 0:
                    continue
                quantity = Uom.compute_qty(
                    line.unit, line.quantity, line.product.default_uom,
                    round=False)
                request = {
                    'product': line.product.id,
                    'location': location.id,
                    'quantity': quantity,
                    'origin': str(line),
                    'channel': 'pos',
                    }
                try:
                    reservations.extend(Reservation.hold([request]))
                except ReservationError:
                    override = cls._stock_override(sale, line, quantity)
                    reservations.extend(
                        Reservation.hold_forced([request]))
                    overrides.append(override)
        # The guard records who sold beyond the book; nobody writes it by hand
        with without_check_access():
            Override.save(overrides)
        Reservation.confirm(
            [r for r in reservations if r.state == 'held'])

    @classmethod
    def _stock_override(cls, sale, line, quantity):
        """Return the override record of selling beyond the book or raise
        StockGuardError, as the store's policy says"""
        pool = Pool()
        Availability = pool.get('stock.availability')
        Override = pool.get('sale.point.sale.stock_override')
        location = sale.point.storage_location
        (on_hand, reserved, available), = Availability.get(
            [line.product], [location]).values()
        policy = sale.point.storage_location.warehouse.pos_beyond_book
        if not (sale.stock_override_reason
                and cls._may_sell_beyond_book(policy)):
            raise StockGuardError(
                gettext('omni_inventory_bridge.msg_pos_stock_insufficient',
                    sale=sale.rec_name,
                    product=line.product.rec_name,
                    location=location.rec_name,
                    quantity=quantity,
                    available=max(available, 0),
                    reserved=reserved,
                    on_hand=on_hand),
                gettext(
                    'omni_inventory_bridge.msg_pos_beyond_book_%s' % policy))
        return Override(
            sale=sale, product=line.product, location=location,
            quantity=quantity, on_hand=on_hand, reserved=reserved,
            beyond_book=quantity - max(available, 0), policy=policy,
            reason=sale.stock_override_reason)

    @classmethod
    def _may_sell_beyond_book(cls, policy):
        if policy == 'manager':
            return is_store_manager()
        return policy == 'clerk'

    @classmethod
    def _release_stock(cls, sales):
        Reservation = Pool().get('stock.reservation')
        origins = [str(line) for sale in sales for line in sale.lines]
        if origins:
            Reservation.release(Reservation.search([
                        ('origin', 'in', origins),
                        ('state', 'in', OPEN_STATES),
                        ]))


class POSSaleLine(metaclass=PoolMeta):
    __name__ = 'sale.point.sale.line'

    stock_available = fields.Function(fields.Float(
            "Available",
            help="The quantity of the product at the point's location "
            "that is not reserved."),
        'on_change_with_stock_available')

    @fields.depends('product', 'sale', '_parent_sale.point')
    def on_change_with_stock_available(self, name=None):
        pool = Pool()
        Availability = pool.get('stock.availability')
        if (self.product and self.product.type == 'goods'
                and self.sale and self.sale.point):
            location = self.sale.point.storage_location
            (_, _, available), = Availability.get(
                [self.product], [location]).values()
            return available


class POSSaleStockOverride(ModelSQL, ModelView):
    "POS Sale Stock Override"
    __name__ = 'sale.point.sale.stock_override'

    sale = fields.Many2One(
        'sale.point.sale', "Sale", required=True, readonly=True,
        ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True)
    location = fields.Many2One(
        'stock.location', "Location", required=True, readonly=True)
    quantity = fields.Float("Quantity", readonly=True)
    on_hand = fields.Float("On Hand", readonly=True)
    reserved = fields.Float("Reserved", readonly=True)
    beyond_book = fields.Float(
        "Beyond the Book", readonly=True,
        help="The units sold that the book stock did not have available.")
    policy = fields.Selection(
        BEYOND_BOOK_POLICIES, "Policy", readonly=True,
        help="The store's policy for selling beyond the book at the time.")
    reason = fields.Char("Reason", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('create_date', 'DESC'))
