# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Endless aisle: a store takes an order for goods it does not have on its
shelf, shipped home from another location or transferred to the store for
pickup, and is credited with the sale"""
from trytond.model import fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from trytond.modules.omni_inventory_bridge.stock import distance_km


class EndlessAisleMixin:
    "The endless-aisle side of the sale, which sale.Sale registers"
    __slots__ = ()

    credited_store = fields.Many2One(
        'stock.location', "Credited Store",
        domain=[('type', '=', 'warehouse')],
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="The store that took the order for another location "
        "(endless aisle) and gets the credit for it.")
    credited_clerk = fields.Many2One(
        'res.user', "Credited Clerk",
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="The clerk who took the order, for commissions.")
    pickup_source = fields.Many2One(
        'stock.location', "Transfer From",
        domain=[
            ('type', '=', 'warehouse'),
            ('id', '!=', Eval('pickup_store', -1)),
            ],
        states={
            'readonly': Eval('state') != 'draft',
            'invisible': ~Eval('pickup_store'),
            },
        help="The location that has the goods and sends them to the "
        "pickup store.")
    pickup_transfers = fields.One2Many(
        'stock.shipment.internal', 'pickup_sale', "Pickup Transfers",
        readonly=True)

    @property
    def endless_aisle(self):
        "An order a store took to be shipped home from another location"
        return bool(self.credited_store and not self.pickup_store)

    @classmethod
    def _transfer_pickup(cls, sales):
        "Ask the source locations to send the goods to the pickup stores"
        pool = Pool()
        Move = pool.get('stock.move')
        Shipment = pool.get('stock.shipment.internal')
        Uom = pool.get('product.uom')
        shipments = []
        for sale in sales:
            shipment = Shipment(
                company=sale.company,
                from_location=sale.pickup_source.storage_location,
                to_location=sale.pickup_store.storage_location,
                reference=sale.number,
                pickup_sale=sale)
            shipment.moves = [Move(
                    product=line.product,
                    unit=line.product.default_uom,
                    quantity=Uom.compute_qty(
                        line.unit, line.quantity, line.product.default_uom),
                    from_location=shipment.from_location,
                    to_location=shipment.to_location,
                    company=sale.company,
                    ) for line in sale.pickup_goods_lines]
            shipments.append(shipment)
        Shipment.save(shipments)
        Shipment.wait(shipments)

    @classmethod
    def pickup_transferred(cls, sales):
        """The goods left the source locations of the pickup orders: their
        reservations there are consumed"""
        Reservation = Pool().get('stock.reservation')
        Reservation.consume([r for s in sales
                for r in cls.pickup_reservations([s])
                if r.location.warehouse == s.pickup_source])

    @classmethod
    def pickup_received(cls, sales):
        """The goods arrived at the pickup store: they are reserved on its
        shelf until the handover and the member is told"""
        pool = Pool()
        Reservation = pool.get('stock.reservation')
        cls.pickup_transferred(sales)
        sales = [s for s in sales if s.pickup_state == 'paid']
        # The goods came for these orders: what arrived in this transaction
        # is not yet available to others
        Reservation.hold_forced([r for s in sales
                for r in s.reservation_requests(
                    s.pickup_store.storage_location)])
        reservations = cls.pickup_reservations(sales)
        Reservation.confirm([r for r in reservations if r.state == 'held'])
        Reservation.write(reservations, {'expires_at': None})
        cls.pickup_ready(sales)

    @classmethod
    def endless_aisle_availability(cls, product, store):
        """Return what every warehouse has available of product as dicts of
        warehouse, available and distance (km from store), nearest first"""
        pool = Pool()
        Availability = pool.get('stock.availability')
        Location = pool.get('stock.location')
        warehouses = Location.search([('type', '=', 'warehouse')])
        figures = Availability.get([product], warehouses)
        rows = []
        for warehouse in warehouses:
            distance = None
            if None not in {store.latitude, store.longitude,
                    warehouse.latitude, warehouse.longitude}:
                distance = round(distance_km(
                        store.latitude, store.longitude,
                        warehouse.latitude, warehouse.longitude), 1)
            rows.append({
                    'warehouse': warehouse.id,
                    'available': figures[(product.id, warehouse.id)][2],
                    'distance': distance,
                    })
        rows.sort(key=lambda r: (
                r['distance'] is None, r['distance'] or 0, r['warehouse']))
        return rows

    @classmethod
    def create_endless_aisle(
            cls, point, member, lines, source, pickup=False, address=None):
        """Return the quoted order that the point's store takes for member
        of lines [(product, quantity)] from the source warehouse: shipped
        home to address, or transferred to the store for pickup"""
        pool = Pool()
        Line = pool.get('sale.line')
        store = point.store
        sale = cls(
            company=point.company, party=member,
            credited_store=store, credited_clerk=Transaction().user)
        sale.on_change_party()
        if pickup:
            sale.pickup_store = store
            sale.pickup_source = source if source != store else None
            sale.warehouse = store
        else:
            sale.warehouse = source
            sale.shipment_address = address
        sale_lines = []
        for product, quantity in lines:
            line = Line(sale=sale, type='line', product=product,
                quantity=quantity)
            line.on_change_product()
            sale_lines.append(line)
        sale.lines = sale_lines
        sale.save()
        cls.quote([sale])
        return sale
