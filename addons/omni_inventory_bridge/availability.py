# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The stock each location has on hand, reserved and available, counted by
the moves and reservations as they change"""
import functools
import logging
from collections import defaultdict
from itertools import groupby

from sql import Conflict, Union
from sql.aggregate import Max, Sum
from sql.conditionals import Coalesce
from sql.functions import CurrentTimestamp
from trytond import backend
from trytond.model import (
    Index,
    ModelSQL,
    ModelView,
    Unique,
    fields,
)
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.transaction import Transaction

from .counter import COUNTER_LOCK, VERSION_SEQUENCE, CounterChanges, NextVal
from .reservation import OPEN_STATES

logger = logging.getLogger(__name__)


class Availability(ModelSQL, ModelView):
    "Stock Availability"
    __name__ = 'stock.availability'

    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True)
    location = fields.Many2One(
        'stock.location', "Location", required=True, readonly=True,
        domain=[('type', '=', 'storage')])
    on_hand = fields.Float(
        "On Hand", readonly=True,
        help="The quantity of done moves into the location minus those out.")
    reserved = fields.Float(
        "Reserved", readonly=True,
        help="The quantity held or confirmed by open reservations.")
    available = fields.Function(fields.Float(
            "Available",
            help="The quantity on hand that is not reserved."),
        'get_available')
    version = fields.Integer(
        "Version", readonly=True,
        help="The stock version at which the figures last changed.")
    incoming = fields.Function(fields.Float(
            "Incoming",
            help="The quantity of the moves still to arrive at the location."),
        'get_incoming')
    warehouse = fields.Function(fields.Many2One(
            'stock.location', "Warehouse",
            help="The warehouse or store of the location."),
        'get_warehouse', searcher='search_warehouse')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('product_location_unique', Unique(t, t.product, t.location),
                'omni_inventory_bridge.msg_availability_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.version, Index.Range())))
        cls._order.insert(0, ('product', 'ASC'))
        cls.__rpc__.update({
                'changes_since': RPC(result=lambda r: list(map(int, r))),
                'reconcile': RPC(readonly=False),
                })

    @classmethod
    def __register__(cls, module):
        transaction = Transaction()
        database = transaction.database
        super().__register__(module)
        if (database.has_sequence()
                and not database.sequence_exist(
                    transaction.connection, VERSION_SEQUENCE)):
            database.sequence_create(transaction.connection, VERSION_SEQUENCE)

    @staticmethod
    def default_on_hand():
        return 0

    @staticmethod
    def default_reserved():
        return 0

    @staticmethod
    def default_version():
        return 0

    def get_available(self, name):
        return self.on_hand - self.reserved

    @classmethod
    def get_incoming(cls, availabilities, name):
        result = {}
        for location, rows in groupby(
                sorted(availabilities, key=lambda a: a.location.id),
                key=lambda a: a.location):
            rows = list(rows)
            incoming = cls.incoming_quantities(
                [a.product for a in rows], [location])
            for availability in rows:
                result[availability.id] = incoming[
                    availability.product.id, location.id]
        return result

    def get_warehouse(self, name):
        warehouse = self.location.warehouse
        return warehouse.id if warehouse else None

    @classmethod
    def search_warehouse(cls, name, clause):
        Location = Pool().get('stock.location')
        _, operator, operand, *extra = clause
        nested = clause[0][len(name) + 1:]
        if not nested:
            nested = 'rec_name' if isinstance(operand, str) else 'id'
        warehouses = Location.search([
                ('type', '=', 'warehouse'),
                (nested, operator, operand, *extra),
                ])
        return [('location', 'child_of',
                [w.storage_location.id for w in warehouses], 'parent')]

    @classmethod
    def _created(cls, key):
        "Tell if the product or location of key is new in the transaction"
        create_records = Transaction().create_records
        product, location = key
        return (product in create_records['product.product']
            or location in create_records['stock.location'])

    @classmethod
    def _changes(cls, keys=()):
        """Return the CounterChanges of the transaction, or None when the
        counters of keys must change inside it: on SQLite, which serialises
        writers, or for products or locations it has just created"""
        transaction = Transaction()
        if (backend.name != 'postgresql'
                or any(map(cls._created, keys))):
            return None
        return transaction.join(CounterChanges(transaction.database))

    @classmethod
    def _joined_changes(cls):
        for datamanager in Transaction()._datamanagers:
            if isinstance(datamanager, CounterChanges):
                return datamanager

    @classmethod
    def _cursor(cls, changes):
        if changes:
            return changes.cursor()
        return Transaction().connection.cursor()

    @classmethod
    def _next_version(cls, cursor):
        "Return the next global stock version, as SQL on PostgreSQL"
        if backend.name == 'postgresql':
            return NextVal(VERSION_SEQUENCE)
        # SQLite serialises writers so the maximum is safe
        table = cls.__table__()
        cursor.execute(*table.select(Coalesce(Max(table.version), 0)))
        return cursor.fetchone()[0] + 1

    @classmethod
    def _ensure(cls, cursor, keys):
        "Create the missing rows for (product, location) keys"
        table = cls.__table__()
        keys = sorted(set(keys))
        if not keys:
            return
        cursor.execute(*table.insert(
                [table.product, table.location, table.on_hand,
                    table.reserved, table.version, table.create_uid,
                    table.create_date],
                [[product, location, 0, 0, 0, Transaction().user,
                        CurrentTimestamp()]
                    for product, location in keys],
                on_conflict=Conflict(
                    table, indexed_columns=[table.product, table.location])))

    @classmethod
    def _increment(cls, cursor, key, increments, where=None):
        """Add increments to the row of key in one statement and return the
        available quantity, or None if where excludes the row"""
        table = cls.__table__()
        product, location = key
        columns = [table.version, table.write_uid, table.write_date]
        values = [
            cls._next_version(cursor), Transaction().user, CurrentTimestamp()]
        for name, increment in increments.items():
            column = getattr(table, name)
            columns.append(column)
            values.append(column + increment)
        row = (table.product == product) & (table.location == location)
        condition = row & where(table) if where is not None else row
        available = [table.on_hand - table.reserved]
        if Transaction().database.has_returning():
            cursor.execute(*table.update(
                    columns, values, where=condition, returning=available))
        else:
            # SQLite serialises writers so the figure can be read after
            cursor.execute(*table.update(columns, values, where=condition))
            if not cursor.rowcount:
                return None
            cursor.execute(*table.select(*available, where=row))
        result = cursor.fetchone()
        return result[0] if result else None

    @classmethod
    def change(cls, deltas):
        """Add {(product, location): {column: increment}} to the counters.
        Increments that lower availability apply at once, the others once
        the transaction commits"""
        deltas = {k: {n: v for n, v in d.items() if v}
            for k, d in deltas.items()}
        deltas = {k: d for k, d in deltas.items() if d}
        if not deltas:
            return
        changes = cls._changes(deltas)
        cursor = cls._cursor(changes)
        cls._ensure(cursor, deltas)
        # A fixed order prevents deadlocks between transactions
        for key in sorted(deltas):
            now, later = {}, {}
            for name, increment in deltas[key].items():
                lowers = (increment < 0) == (name == 'on_hand')
                (now if lowers or not changes else later)[name] = increment
            if now:
                cls._apply(changes, cursor, key, now)
            for name, increment in later.items():
                changes.pending[key][name] += increment

    @classmethod
    def add_on_hand(cls, deltas):
        "Add the quantities of {(product, location): delta} to on hand"
        cls.change({k: {'on_hand': v} for k, v in deltas.items()})

    @classmethod
    def reserve(cls, product, location, quantity):
        """Reserve quantity only if available and return what is left
        or None when not enough is available"""
        key = (product, location)
        changes = cls._changes([key])
        cursor = cls._cursor(changes)
        if backend.name != 'postgresql':
            return cls._apply(
                changes, cursor, key, {'reserved': quantity},
                where=lambda t: t.on_hand - t.reserved >= quantity)
        # The buyers' statement, built once: python-sql would build it
        # again for every attempt
        cursor.execute(cls._reserve_sql(), (
                VERSION_SEQUENCE, Transaction().user, quantity,
                product, location, quantity))
        row = cursor.fetchone()
        available = row[0] if row else None
        if changes and available is not None:
            changes.applied.append((key, {'reserved': quantity}))
        return available

    @classmethod
    @functools.cache
    def _reserve_sql(cls):
        "Return the conditional UPDATE of reserve on PostgreSQL"
        return (
            'UPDATE "%s" SET "version" = NEXTVAL(%%s), "write_uid" = %%s, '
            '"write_date" = CURRENT_TIMESTAMP, '
            '"reserved" = ("reserved" + %%s) '
            'WHERE ("product" = %%s) AND ("location" = %%s) '
            'AND (("on_hand" - "reserved") >= %%s) '
            'RETURNING ("on_hand" - "reserved")' % cls._table)

    @classmethod
    def _apply(cls, changes, cursor, key, increments, where=None):
        """Apply the increments at once, to be undone if the transaction
        rolls back, and return the available quantity or None"""
        available = cls._increment(cursor, key, increments, where=where)
        if changes and available is not None:
            changes.applied.append((key, increments))
        return available

    @classmethod
    def unreserve(cls, quantities):
        "Remove the quantities of {(product, location): quantity}"
        cls.change({k: {'reserved': -q} for k, q in quantities.items()})

    @classmethod
    def storage_children(cls, locations):
        "Return {location id: storage ids} of the locations and children"
        pool = Pool()
        Location = pool.get('stock.location')
        result = {}
        for location in Location.browse(locations):
            root = location
            if location.type == 'warehouse':
                root = location.storage_location
            result[location.id] = [c.id for c in Location.search([
                        ('parent', 'child_of', [root.id]),
                        ('type', '=', 'storage'),
                        ])]
        return result

    @classmethod
    def _figures(cls, where):
        """Return {(product, location): (on hand, reserved)} of the rows
        matching where, as last committed plus the transaction's changes"""
        table = cls.__table__()

        def read(cursor):
            cursor.execute(*table.select(
                    table.product, table.location,
                    table.on_hand, table.reserved,
                    where=where(table)))
            return {(p, s): (h, r) for p, s, h, r in cursor}
        figures = read(Transaction().connection.cursor())
        changes = cls._joined_changes()
        if changes:
            figures.update((k, v) for k, v in read(changes.cursor()).items()
                if not cls._created(k))
            for key, pending in changes.pending.items():
                if key in figures:
                    on_hand, reserved = figures[key]
                    figures[key] = (
                        on_hand + pending.get('on_hand', 0),
                        reserved + pending.get('reserved', 0))
        return figures

    @classmethod
    def get(cls, products, locations):
        """Return {(product id, location id): (on hand, reserved, available)}
        summed over the storage children of each location"""
        product_ids = [int(p) for p in products]
        children = cls.storage_children(list(map(int, locations)))
        storage_ids = sorted({i for ids in children.values() for i in ids})
        figures = {}
        if product_ids and storage_ids:
            figures = cls._figures(lambda t: t.product.in_(product_ids)
                & t.location.in_(storage_ids))
        result = {}
        for product in product_ids:
            for location, storage in children.items():
                on_hand = reserved = 0
                for child in storage:
                    h, r = figures.get((product, child), (0, 0))
                    on_hand += h
                    reserved += r
                result[product, location] = (
                    on_hand, reserved, on_hand - reserved)
        return result

    @classmethod
    def incoming_quantities(cls, products, locations):
        """Return {(product id, location id): quantity} of the moves not
        done yet into the storage children of each location from outside"""
        pool = Pool()
        Move = pool.get('stock.move')
        move = Move.__table__()
        cursor = Transaction().connection.cursor()
        product_ids = [int(p) for p in products]
        children = cls.storage_children(list(map(int, locations)))
        result = {}
        for location, storage in children.items():
            quantities = {}
            if product_ids and storage:
                cursor.execute(*move.select(
                        move.product, Sum(move.internal_quantity),
                        where=move.product.in_(product_ids)
                        & move.to_location.in_(storage)
                        & ~move.from_location.in_(storage)
                        & move.state.in_(['staging', 'draft', 'assigned']),
                        group_by=[move.product]))
                quantities = dict(cursor)
            for product in product_ids:
                result[product, location] = quantities.get(product) or 0
        return result

    @classmethod
    def current_version(cls):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(Coalesce(Max(table.version), 0)))
        return cursor.fetchone()[0]

    @classmethod
    def changes_since(cls, version):
        "Return the rows changed after the stock version, oldest first"
        return cls.search(
            [('version', '>', version)], order=[('version', 'ASC')])

    @classmethod
    def alternatives(cls, product, location):
        "Return [(location id, available)] of the product's other locations"
        product, location = int(product), int(location)
        figures = cls._figures(
            lambda t: (t.product == product) & (t.location != location))
        return [(other, h - r)
            for (_, other), (h, r) in sorted(figures.items()) if h - r > 0]

    @classmethod
    def _expected(cls, cursor):
        "Return {(product, location): [on hand, reserved]} from the documents"
        pool = Pool()
        Move = pool.get('stock.move')
        Location = pool.get('stock.location')
        Reservation = pool.get('stock.reservation')
        move = Move.__table__()
        location = Location.__table__()
        reservation = Reservation.__table__()

        expected = defaultdict(lambda: [0.0, 0.0])
        moves = Union(
            move.select(
                move.product, move.to_location.as_('location'),
                move.internal_quantity.as_('quantity'),
                where=move.state == 'done'),
            move.select(
                move.product, move.from_location.as_('location'),
                -move.internal_quantity,
                where=move.state == 'done'),
            all_=True)
        cursor.execute(*moves.join(
                location, condition=moves.location == location.id).select(
                moves.product, moves.location, Sum(moves.quantity),
                where=location.type == 'storage',
                group_by=[moves.product, moves.location]))
        for product, location_id, quantity in cursor:
            expected[product, location_id][0] = quantity
        cursor.execute(*reservation.select(
                reservation.product, reservation.location,
                Sum(reservation.quantity),
                where=reservation.state.in_(OPEN_STATES),
                group_by=[reservation.product, reservation.location]))
        for product, location_id, quantity in cursor:
            expected[product, location_id][1] = quantity
        return expected

    @classmethod
    def reconcile(cls, fix=False):
        """Compare the rows with the done moves and the open reservations.
        Return the drifts as dictionaries and correct them when fix is set.

        On PostgreSQL it reads and corrects once no transaction has changes
        in flight, under table locks that meanwhile block the writers of
        moves and reservations, on the connection that holds them: its own
        (READ COMMITTED, so that it sees what the others committed while it
        waited), or the transaction's when the transaction wrote moves or
        reservations itself (the locks of its own writes would block another
        connection for ever).  The transaction's snapshot may be older than
        its locks: that is for a transaction alone on its stock, as a test
        or a script; the cron's transaction writes none."""
        transaction = Transaction()
        if backend.name != 'postgresql':
            return cls._reconcile(transaction.connection.cursor(), fix)
        if cls._writes_stock(transaction.connection.cursor()):
            cursor = transaction.connection.cursor()
            cls._lock_stock(cursor)
            return cls._reconcile(cursor, fix, cls._joined_changes())
        from psycopg import IsolationLevel
        database = transaction.database
        connection = database.get_connection()
        try:
            connection.isolation_level = IsolationLevel.READ_COMMITTED
            cursor = connection.cursor()
            cls._lock_stock(cursor)
            drifts = cls._reconcile(cursor, fix)
            connection.commit()
        finally:
            connection.rollback()
            database.put_connection(connection)
        return drifts

    @classmethod
    def _stock_tables(cls):
        pool = Pool()
        return [pool.get('stock.move')._table,
            pool.get('stock.reservation')._table]

    @classmethod
    def _writes_stock(cls, cursor):
        "Tell if the transaction of cursor holds write locks on the stock"
        cursor.execute('SELECT 1 FROM pg_locks '
            'WHERE pid = pg_backend_pid() AND locktype = \'relation\' '
            'AND relation = ANY(%s::regclass[]) '
            'AND mode NOT IN (\'AccessShareLock\', \'RowShareLock\', '
            '\'ShareLock\') LIMIT 1', (cls._stock_tables(),))
        return bool(cursor.fetchone())

    @classmethod
    def _lock_stock(cls, cursor):
        """Wait for the writers of moves and reservations in flight, then
        for the counter changes they apply after their commit, and block
        them all until the end of the cursor's transaction"""
        cursor.execute('LOCK TABLE %s IN SHARE MODE' % ', '.join(
                '"%s"' % t for t in cls._stock_tables()))
        cursor.execute(
            'SELECT pg_advisory_xact_lock(%s, 0)', (COUNTER_LOCK,))

    @classmethod
    def repair(cls):
        """Correct the drifts, as the cron does: a process or database
        that dies between a transaction and its counter changes leaves
        the counters short"""
        for drift in cls.reconcile(fix=True):
            logger.warning("stock counter repaired: %s", drift)

    @classmethod
    def _reconcile(cls, cursor, fix, changes=None):
        """Compare and correct on cursor; changes are the counter changes
        that the transaction of cursor applies after its commit"""
        table = cls.__table__()
        expected = cls._expected(cursor)
        cursor.execute(*table.select(
                table.product, table.location, table.on_hand, table.reserved))
        actual = {(p, s): (h, r) for p, s, h, r in cursor}
        for key, increments in (changes.pending if changes else {}).items():
            on_hand, reserved = actual.get(key, (0, 0))
            actual[key] = (on_hand + increments.get('on_hand', 0),
                reserved + increments.get('reserved', 0))
        drifts = []
        for key in sorted(expected.keys() | actual.keys()):
            on_hand, reserved = expected.get(key, (0, 0))
            actual_on_hand, actual_reserved = actual.get(key, (0, 0))
            if (round(on_hand - actual_on_hand, 6)
                    or round(reserved - actual_reserved, 6)):
                drifts.append({
                        'product': key[0],
                        'location': key[1],
                        'on_hand': actual_on_hand,
                        'expected_on_hand': on_hand,
                        'reserved': actual_reserved,
                        'expected_reserved': reserved,
                        })
        if fix and drifts:
            keys = [(d['product'], d['location']) for d in drifts]
            cls._ensure(cursor, keys)
            for key, drift in zip(keys, drifts, strict=True):
                cls._increment(cursor, key, {
                        'on_hand': (
                            drift['expected_on_hand'] - drift['on_hand']),
                        'reserved': (
                            drift['expected_reserved'] - drift['reserved']),
                        })
        return drifts
