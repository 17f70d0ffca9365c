# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


class Product(metaclass=PoolMeta):
    __name__ = 'product.product'

    stock_reserved = fields.Function(fields.Float(
            "Reserved",
            help="The quantity held or confirmed for orders "
            "at the locations of the context."),
        'get_stock_figures')
    stock_available = fields.Function(fields.Float(
            "Available",
            help="The quantity on hand that is not reserved "
            "at the locations of the context."),
        'get_stock_figures')
    stock_incoming = fields.Function(fields.Float(
            "Incoming",
            help="The quantity of the moves still to arrive "
            "at the locations of the context."),
        'get_stock_figures')

    @classmethod
    def _quantity_locations(cls):
        "Default to the user's warehouse, so a clerk sees the store's stock"
        location_ids = super()._quantity_locations()
        if not location_ids:
            warehouse = Transaction().context.get('warehouse')
            if warehouse is not None:
                location_ids = [warehouse]
        return location_ids

    @classmethod
    def get_stock_figures(cls, products, names):
        "Sum the figures of stock.availability over the context locations"
        Availability = Pool().get('stock.availability')
        locations = cls._quantity_locations() or []
        result = {name: dict.fromkeys(map(int, products), 0)
            for name in names}
        figures = Availability.get(products, locations)
        incoming = {}
        if 'stock_incoming' in names:
            incoming = Availability.incoming_quantities(products, locations)
        for (product, location), (_, reserved, available) in figures.items():
            for name, value in [
                    ('stock_reserved', reserved),
                    ('stock_available', available),
                    ('stock_incoming', incoming.get((product, location))),
                    ]:
                if name in names:
                    result[name][product] += value
        return result
