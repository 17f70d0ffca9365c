# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from decimal import Decimal

from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction

from trytond.modules.company.tests import create_company, set_company
from trytond.modules.omni_inventory_bridge.exceptions import ReservationError
from trytond.modules.omni_inventory_bridge.stock import distance_km


class OmniInventoryBridgeTestCase(ModuleTestCase):
    "Test Omni Inventory Bridge module"
    module = 'omni_inventory_bridge'

    def test_distance_km(self):
        "Haversine distance between two points of Hangzhou"
        distance = distance_km(
            Decimal('30.242865'), Decimal('120.148681'),
            Decimal('30.290850'), Decimal('120.212600'))
        self.assertAlmostEqual(distance, 8.13, delta=0.01)
        self.assertEqual(distance_km(30, 120, 30, 120), 0)

    def _stock(self, quantities):
        "Create a product and put quantities on new storage locations"
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        Location = pool.get('stock.location')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        unit, = Uom.search([('name', '=', "Unit")])
        template, = Template.create([{
                    'name': "Lao Ban Zhang", 'type': 'goods',
                    'default_uom': unit.id, 'products': [('create', [{}])],
                    }])
        warehouse, = Location.search([('type', '=', 'warehouse')])
        locations = Location.create([{
                    'name': "Shelf %s" % i, 'type': 'storage',
                    'parent': warehouse.storage_location.id,
                    } for i, _ in enumerate(quantities)])
        for location, quantity in zip(locations, quantities, strict=True):
            inventory, = Inventory.create([{
                        'location': location.id,
                        'lines': [('create', [{
                                        'product': template.products[0].id,
                                        'quantity': quantity}])],
                        }])
            Inventory.confirm([inventory])
        return template.products[0], warehouse, locations

    @with_transaction()
    def test_reservation_lifecycle_idempotent(self):
        "Every reservation transition is idempotent"
        pool = Pool()
        Availability = pool.get('stock.availability')
        Move = pool.get('stock.move')
        Reservation = pool.get('stock.reservation')
        with set_company(create_company()):
            product, warehouse, (shelf,) = self._stock([5])
            move, = Move.create([{
                        'product': product.id, 'quantity': 2,
                        'unit': product.default_uom.id,
                        'from_location': shelf.id,
                        'to_location': warehouse.lost_found_location.id,
                        }])

            def figures():
                return Availability.get([product], [shelf])[
                    product.id, shelf.id]

            request = {
                'product': product.id, 'location': shelf.id, 'quantity': 2,
                'origin': str(move),
                'channel': 'endless_aisle'}
            reservation, = Reservation.hold([request])
            self.assertEqual(Reservation.hold([request]), [reservation])
            self.assertEqual(figures(), (5, 2, 3))
            for _ in range(2):
                Reservation.confirm([reservation])
                self.assertEqual(reservation.state, 'confirmed')
                self.assertEqual(figures(), (5, 2, 3))
            for _ in range(2):
                Reservation.consume([reservation])
                self.assertEqual(reservation.state, 'consumed')
                self.assertEqual(figures(), (5, 0, 5))
            Reservation.release([reservation])
            self.assertEqual(reservation.state, 'consumed')
            self.assertEqual(figures(), (5, 0, 5))

            other, = Reservation.hold([dict(request, origin=None)])
            for _ in range(2):
                Reservation.release([other])
                self.assertEqual(figures(), (5, 0, 5))

    @with_transaction()
    def test_availability_get_warehouse(self):
        "A warehouse sums its storage children"
        pool = Pool()
        Availability = pool.get('stock.availability')
        Reservation = pool.get('stock.reservation')
        with set_company(create_company()):
            product, warehouse, (shelf1, shelf2) = self._stock([4, 6])
            Reservation.hold([{
                        'product': product.id, 'location': shelf2.id,
                        'quantity': 5, 'channel': 'pos'}])
            self.assertEqual(
                Availability.get([product], [warehouse, shelf1, shelf2]), {
                    (product.id, warehouse.id): (10, 5, 5),
                    (product.id, shelf1.id): (4, 0, 4),
                    (product.id, shelf2.id): (6, 5, 1),
                    })
            with self.assertRaises(ReservationError) as cm:
                Reservation.hold([{
                            'product': product.id, 'location': shelf2.id,
                            'quantity': 2, 'channel': 'pos'}])
            self.assertIn("Only 1.0", cm.exception.message)
            self.assertIn("Shelf 0 (4.0)", cm.exception.description)

    @with_transaction()
    def test_reconcile(self):
        "Reconcile reports and fixes drifted figures"
        pool = Pool()
        Availability = pool.get('stock.availability')
        with set_company(create_company()):
            product, _, (shelf,) = self._stock([3])
            self.assertEqual(Availability.reconcile(), [])
            Availability._update(
                (product.id, shelf.id), on_hand=1, reserved=2)
            drift, = Availability.reconcile(fix=True)
            self.assertEqual(
                (drift['on_hand'], drift['expected_on_hand'],
                    drift['reserved'], drift['expected_reserved']),
                (4, 3, 2, 0))
            self.assertEqual(Availability.reconcile(), [])

    @with_transaction()
    def test_changes_since(self):
        "The stock version increases with each change"
        pool = Pool()
        Availability = pool.get('stock.availability')
        Reservation = pool.get('stock.reservation')
        with set_company(create_company()):
            product, _, (shelf1, shelf2) = self._stock([1, 1])
            version = Availability.current_version()
            self.assertEqual(Availability.changes_since(version), [])
            Reservation.hold([{
                        'product': product.id, 'location': shelf2.id,
                        'quantity': 1, 'channel': 'pos'}])
            change, = Availability.changes_since(version)
            self.assertEqual(change.location, shelf2)
            self.assertGreater(change.version, version)
            self.assertEqual(Availability.current_version(), change.version)


del ModuleTestCase
