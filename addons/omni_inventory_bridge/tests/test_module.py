# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime
from decimal import Decimal

from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from trytond.modules.company.tests import create_company, set_company
from trytond.modules.omni_inventory_bridge.exceptions import ReservationError
from trytond.modules.omni_inventory_bridge.ir import TASK_LOCK
from trytond.modules.omni_inventory_bridge.stock import distance_km
from trytond.modules.omni_inventory_bridge.tests.tools import SaoWidgetsMixin


class OmniInventoryBridgeTestCase(SaoWidgetsMixin, ModuleTestCase):
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
        product, = template.products
        self._put(product, dict(zip(locations, quantities, strict=True)))
        return product, warehouse, locations

    @with_transaction()
    def test_repair_counters(self):
        "The cron's repair corrects the counters a crash left short"
        pool = Pool()
        Availability = pool.get('stock.availability')
        with set_company(create_company()):
            product, _, (shelf,) = self._stock([5])
            # Units a dead transaction took and never gave back
            Availability.change({(product.id, shelf.id): {'reserved': 2}})
            self.assertEqual(len(Availability.reconcile()), 1)
            Availability.repair()
            self.assertEqual(Availability.reconcile(), [])
            self.assertEqual(
                Availability.get([product], [shelf])[product.id, shelf.id],
                (5, 0, 5))

    @with_transaction()
    def test_requeue_lost_task(self):
        "The cron puts back the tasks of a dead worker, which run once"
        pool = Pool()
        Cron = pool.get('ir.cron')
        Error = pool.get('ir.error')
        Queue = pool.get('ir.queue')
        Reservation = pool.get('stock.reservation')
        Availability = pool.get('stock.availability')
        transaction = Transaction()
        database = transaction.database
        cron, = Cron.search([('method', '=', 'ir.queue|requeue_lost')])
        with set_company(create_company()):
            product, _, (shelf, other) = self._stock([5, 5])
            lost, copied, running, failed = Reservation.hold([{
                        'product': product.id, 'location': s.id,
                        'quantity': 1, 'channel': 'pos',
                        } for s in [shelf, other, other, other]])
            ids = [Reservation.__queue__.release([r])[0]
                for r in [lost, copied, running, failed]]
            # Taken 20 minutes ago by workers that died, and not finished
            Queue.write(Queue.browse(ids), {
                    'dequeued_at': (datetime.datetime.now()
                        - datetime.timedelta(minutes=20)),
                    })
            # The run of failed raised a user error
            Error.create([{'origin': str(Queue(ids[3])), 'message': "No"}])
            # The call of copied was queued again since, by another cron,
            # and ran
            again, = Reservation.__queue__.release([copied])
            finished = [again]
            lock = None
            if not database.has_channel():
                finished.append(ids[2])
            else:
                # A worker still runs the task running
                lock = database.get_connection(autocommit=True)
                lock.cursor().execute('SELECT pg_advisory_lock(%s, %s)',
                    (TASK_LOCK, ids[2]))
            Queue.write(Queue.browse(finished), {
                    'dequeued_at': datetime.datetime.now(),
                    'finished_at': datetime.datetime.now(),
                    })
            try:
                Cron.run_once([cron])
            finally:
                if lock is not None:
                    lock.cursor().execute(
                        'SELECT pg_advisory_unlock(%s, %s)',
                        (TASK_LOCK, ids[2]))
                    database.put_connection(lock)
            lost_task, copied_task, running_task, failed_task = (
                Queue.browse(ids))
            self.assertIsNone(lost_task.dequeued_at)
            self.assertEqual(lost_task.requeued, 1)
            for task in [copied_task, failed_task]:
                self.assertIsNotNone(task.abandoned_at)
                self.assertIsNotNone(task.dequeued_at)
            if lock is not None:
                self.assertIsNotNone(running_task.dequeued_at)
                self.assertIsNone(running_task.abandoned_at)

            # A worker takes it again and runs it, as trytond's does
            if database.has_channel():
                task_id, _ = Queue.pull(database, transaction.connection,
                    name='default')
            else:
                # No worker runs on SQLite, where trytond's pull fails
                task_id, = Queue.search([('dequeued_at', '=', None)])
                task_id = task_id.id
            self.assertEqual(task_id, lost_task.id)
            Queue(task_id).run()
            self.assertEqual(Reservation(lost.id).state, 'released')
            self.assertIsNotNone(Queue(task_id).finished_at)
            self.assertEqual(
                Availability.get([product], [shelf])[product.id, shelf.id],
                (5, 0, 5))
            self.assertEqual(Reservation(failed.id).state, 'held')
            # Once only
            Cron.run_once([cron])
            self.assertIsNone(Queue(task_id).abandoned_at)
            self.assertEqual(Queue(task_id).requeued, 1)

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

    def _store(self, name, latitude, longitude):
        "Create a store warehouse at the coordinates"
        Location = Pool().get('stock.location')
        lost_found, = Location.search([('type', '=', 'lost_found')])
        zones = Location.create([{'name': "%s %s" % (name, zone),
                    'type': 'storage'} for zone in ['IN', 'OUT', 'STO']])
        store, = Location.create([{
                    'name': name, 'type': 'warehouse',
                    'latitude': latitude, 'longitude': longitude,
                    'input_location': zones[0].id,
                    'output_location': zones[1].id,
                    'storage_location': zones[2].id,
                    'lost_found_location': lost_found.id,
                    }])
        return store

    def _put(self, product, quantities):
        "Put {location: quantity} of product in stock"
        Inventory = Pool().get('stock.inventory')
        if not quantities:
            return
        inventories = Inventory.create([{
                    'location': location.id,
                    'lines': [('create', [{
                                    'product': product.id,
                                    'quantity': quantity}])],
                    } for location, quantity in quantities.items()])
        Inventory.confirm(inventories)

    @with_transaction()
    def test_fulfilment_central_then_nearest(self):
        "Delivery orders reserve at the central warehouse, then nearest store"
        pool = Pool()
        Configuration = pool.get('stock.configuration')
        Reservation = pool.get('stock.reservation')
        with set_company(create_company()):
            product, central, _ = self._stock([])
            near = self._store("Near", Decimal("30.25"), Decimal("120.15"))
            far = self._store("Far", Decimal("30.29"), Decimal("120.21"))
            self._put(product, {
                    central.storage_location: 1,
                    near.storage_location: 2,
                    far.storage_location: 5})
            Configuration.write([Configuration(1)], {
                    'fulfilment_warehouse': central.id})
            customer = (Decimal('30.251'), Decimal('120.151'))

            def deliver(quantity):
                return [(r.location, r.quantity)
                    for r in Reservation.hold_delivery([{
                                'product': product.id, 'quantity': quantity,
                                'channel': 'mall_delivery'}], *customer)]

            self.assertEqual(
                Reservation.fulfilment_warehouses(*customer),
                [central, near, far])
            self.assertEqual(deliver(1), [(central.storage_location, 1)])
            self.assertEqual(deliver(2), [(near.storage_location, 2)])
            self.assertEqual(deliver(4), [(far.storage_location, 4)])
            with self.assertRaises(ReservationError) as cm:
                deliver(2)
            self.assertIn("Only 0", cm.exception.message)
            self.assertIn("Far STO (1.0)", cm.exception.description)

            Configuration.write([Configuration(1)], {
                    'fulfilment_rule': 'nearest'})
            self.assertEqual(
                Reservation.fulfilment_warehouses(*customer),
                [near, far, central])

    @with_transaction()
    def test_fulfilment_split(self):
        "An order is split across locations only when the rule allows it"
        pool = Pool()
        Configuration = pool.get('stock.configuration')
        Reservation = pool.get('stock.reservation')
        with set_company(create_company()):
            product, central, _ = self._stock([])
            store = self._store("Store", Decimal("30.25"), Decimal("120.15"))
            self._put(product, {
                    central.storage_location: 1, store.storage_location: 2})
            Configuration.write([Configuration(1)], {
                    'fulfilment_warehouse': central.id})
            request = {
                'product': product.id, 'quantity': 3,
                'channel': 'mall_delivery'}
            with self.assertRaises(ReservationError):
                Reservation.hold_delivery([request])

            Configuration.write([Configuration(1)], {
                    'fulfilment_split': True})
            reservations = Reservation.hold_delivery([request])
            self.assertEqual(
                sorted((r.location.id, r.quantity) for r in reservations),
                sorted([(central.storage_location.id, 1),
                        (store.storage_location.id, 2)]))

    @with_transaction()
    def test_hold_pickup(self):
        "A pickup order reserves only at the chosen store"
        Reservation = Pool().get('stock.reservation')
        with set_company(create_company()):
            product, central, _ = self._stock([])
            store = self._store("Store", Decimal("30.25"), Decimal("120.15"))
            self._put(product, {
                    central.storage_location: 5, store.storage_location: 1})
            request = {
                'product': product.id, 'quantity': 1,
                'channel': 'mall_pickup'}
            reservation, = Reservation.hold_pickup([request], store)
            self.assertEqual(reservation.location, store.storage_location)
            with self.assertRaises(ReservationError):
                Reservation.hold_pickup([request], store)


del ModuleTestCase
