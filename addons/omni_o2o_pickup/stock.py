# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta
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
