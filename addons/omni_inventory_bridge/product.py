# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import PoolMeta
from trytond.transaction import Transaction


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'

    @classmethod
    def _quantity_locations(cls):
        "Default to the user's warehouse, so a clerk sees the store's stock"
        location_ids = super()._quantity_locations()
        if not location_ids:
            warehouse = Transaction().context.get('warehouse')
            if warehouse is not None:
                location_ids = [warehouse]
        return location_ids
