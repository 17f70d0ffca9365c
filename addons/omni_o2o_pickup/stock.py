# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval


class Location(metaclass=PoolMeta):
    __name__ = 'stock.location'

    pickup_discount = fields.Numeric(
        "Pickup Discount", digits=(16, 4),
        domain=['OR',
            ('pickup_discount', '=', None),
            [
                ('pickup_discount', '>=', 0),
                ('pickup_discount', '<', 1),
                ],
            ],
        states={
            'invisible': Eval('type') != 'warehouse',
            },
        help="The rate taken off the unit prices of orders "
        "picked up at the store.")

    @classmethod
    def default_pickup_discount(cls):
        return 0


class ShipmentInternal(metaclass=PoolMeta):
    __name__ = 'stock.shipment.internal'

    pickup_sale = fields.Many2One(
        'sale.sale', "Pickup Order", readonly=True,
        help="The pickup order whose goods this shipment brings to the "
        "store.")

    @classmethod
    def copy(cls, shipments, default=None):
        default = default.copy() if default else {}
        default.setdefault('pickup_sale')
        return super().copy(shipments, default=default)

    @classmethod
    def ship(cls, shipments):
        Sale = Pool().get('sale.sale')
        super().ship(shipments)
        Sale.pickup_transferred([s.pickup_sale for s in shipments
                if s.pickup_sale])

    @classmethod
    def do(cls, shipments):
        Sale = Pool().get('sale.sale')
        super().do(shipments)
        Sale.pickup_received([s.pickup_sale for s in shipments
                if s.pickup_sale])
