# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime
import functools
import logging
import os
import threading
from collections import defaultdict, deque
from itertools import groupby

from sql import Conflict, Union
from sql.aggregate import Max, Sum
from sql.conditionals import Coalesce
from sql.functions import CurrentTimestamp, Function
from trytond import backend
from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import (
    Check,
    Index,
    ModelSQL,
    ModelView,
    Unique,
    Workflow,
    fields,
)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .exceptions import ReservationError

logger = logging.getLogger(__name__)
VERSION_SEQUENCE = 'stock_availability_version_seq'
OPEN_STATES = ['held', 'confirmed']
# The advisory lock class of the availability counters
COUNTER_LOCK = 7301


class NextVal(Function):
    __slots__ = ()
    _function = 'NEXTVAL'


class CounterConnections:
    """The idle autocommit connections of the counters, per database.

    A buyer's transaction takes one and gives it back, so that holding stock
    does not pay the pool's check of a connection every time. They are
    handed back to the pool when the database closes, before it is
    dropped."""
    _idle = {}
    _lock = threading.Lock()

    @classmethod
    def _key(cls, database):
        return (os.getpid(), database.name)

    @classmethod
    def get(cls, database):
        with cls._lock:
            idle = cls._idle.get(cls._key(database))
            connection = idle.pop() if idle else None
        if connection is None or connection.closed:
            connection = database.get_connection(autocommit=True)
        return connection

    @classmethod
    def put(cls, database, connection):
        from psycopg.pq import TransactionStatus
        pool = database._connpool
        keep = (not connection.closed and not connection.broken
            and connection.info.transaction_status == TransactionStatus.IDLE
            and not pool.closed)
        if keep:
            with cls._lock:
                idle = cls._idle.setdefault(cls._key(database), deque())
                # Half of the pool at most, the rest is for transactions
                if len(idle) < pool.max_size // 2:
                    idle.append(connection)
                    return
        database.put_connection(connection)

    @classmethod
    def discard(cls, database):
        "Give the idle connections of database back to its pool"
        with cls._lock:
            idle = cls._idle.pop(cls._key(database), ())
        for connection in idle:
            database.put_connection(connection)

    @classmethod
    def patch(cls, Database):
        "Make Database.close give the idle connections back first"
        close = Database.close
        if getattr(close, 'counter_connections', False):
            return

        def wrapper(self):
            cls.discard(self)
            return close(self)
        wrapper.counter_connections = True
        Database.close = wrapper


if backend.name == 'postgresql':
    CounterConnections.patch(backend.Database)


class CounterChanges:
    """The availability changes of one PostgreSQL transaction.

    They run on an own autocommit connection so that a buyer never waits for
    another transaction nor fails on its snapshot. Changes that lower
    availability apply at once and are undone on rollback; changes that raise
    it apply after the commit. A crash can only leave the counters short,
    which reconcile repairs.

    Every change follows a write to the moves or reservations, whose table
    locks let reconcile wait for transactions in flight; a shared advisory
    lock, taken before the commit, covers the changes applied after it."""

    def __init__(self, database):
        self.database = database
        self.connection = None
        self.locked = False
        self.applied = []
        self.pending = defaultdict(lambda: defaultdict(float))

    def __eq__(self, other):
        return isinstance(other, CounterChanges)

    def __hash__(self):
        return hash(CounterChanges)

    def cursor(self):
        if self.connection is None:
            self.connection = CounterConnections.get(self.database)
            self.locked = False
        return self.connection.cursor()

    def tpc_begin(self, transaction):
        pass

    def commit(self, transaction):
        pass

    def tpc_vote(self, transaction):
        if self.pending:
            self.cursor().execute(
                'SELECT pg_advisory_lock_shared(%s, 0)', (COUNTER_LOCK,))
            self.locked = True

    def tpc_finish(self, transaction):
        try:
            Availability = Pool().get('stock.availability')
            if self.pending:
                cursor = self.cursor()
                for key in sorted(self.pending):
                    Availability._increment(
                        cursor, key, self.pending[key])
        finally:
            self.close()

    def tpc_abort(self, transaction):
        try:
            Availability = Pool().get('stock.availability')
            if self.applied:
                cursor = self.cursor()
                for key, increments in reversed(self.applied):
                    Availability._increment(cursor, key,
                        {n: -v for n, v in increments.items()})
        finally:
            self.close()

    def close(self):
        self.applied.clear()
        self.pending.clear()
        if self.connection is not None:
            connection, self.connection = self.connection, None
            try:
                if self.locked:
                    connection.cursor().execute(
                        'SELECT pg_advisory_unlock_shared(%s, 0)',
                        (COUNTER_LOCK,))
            finally:
                CounterConnections.put(self.database, connection)


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


class Reservation(Workflow, ModelSQL, ModelView):
    "Stock Reservation"
    __name__ = 'stock.reservation'
    _log = True

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True,
        domain=[('type', '=', 'goods')])
    location = fields.Many2One(
        'stock.location', "Location", required=True, readonly=True,
        domain=[('type', '=', 'storage')])
    quantity = fields.Float(
        "Quantity", required=True, readonly=True,
        help="In the default unit of the product.")
    origin = fields.Reference(
        "Origin", selection='get_origin', readonly=True,
        help="The document for which the stock is reserved.")
    channel = fields.Selection([
            ('mall_delivery', "Mall Delivery"),
            ('mall_pickup', "Mall Pickup"),
            ('pos', "Point of Sale"),
            ('endless_aisle', "Endless Aisle"),
            ], "Channel", required=True, readonly=True)
    expires_at = fields.DateTime(
        "Expires at", readonly=True,
        help="When the reservation is released if still open.")
    state = fields.Selection([
            ('held', "Held"),
            ('confirmed', "Confirmed"),
            ('consumed', "Consumed"),
            ('released', "Released"),
            ], "State", required=True, readonly=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('quantity_positive', Check(t, t.quantity > 0),
                'omni_inventory_bridge.msg_reservation_quantity_positive'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.origin, Index.Equality())),
                Index(
                    t, (t.expires_at, Index.Range()),
                    where=t.state.in_(OPEN_STATES)),
                })
        cls._order.insert(0, ('id', 'DESC'))
        cls._transitions |= {
            ('held', 'confirmed'),
            ('held', 'consumed'),
            ('confirmed', 'consumed'),
            ('held', 'released'),
            ('confirmed', 'released'),
            }
        cls._buttons.update({
                'confirm': {
                    'invisible': Eval('state') != 'held',
                    'depends': ['state'],
                    },
                'release': {
                    'invisible': ~Eval('state').in_(OPEN_STATES),
                    'depends': ['state'],
                    },
                })
        cls.__rpc__.update({
                'hold': RPC(
                    readonly=False, result=lambda r: list(map(int, r))),
                })

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @staticmethod
    def default_state():
        return 'held'

    @classmethod
    def _get_origin(cls):
        "Return the names of the models that can own a reservation"
        return [
            'stock.move', 'sale.sale', 'sale.line',
            'sale.point.sale', 'sale.point.sale.line']

    @classmethod
    def get_origin(cls):
        IrModel = Pool().get('ir.model')
        get_name = IrModel.get_name
        return [(None, '')] + [(m, get_name(m)) for m in cls._get_origin()]

    def get_rec_name(self, name):
        return '%s × %s @ %s' % (
            self.quantity, self.product.rec_name, self.location.rec_name)

    @classmethod
    def hold(cls, requests, expires_at=None):
        """Reserve each request {product, location, quantity, origin, channel}
        or raise ReservationError; an open reservation of the same origin,
        product and location is returned instead of reserving again"""
        return cls._hold(requests, expires_at)

    @classmethod
    def hold_forced(cls, requests, expires_at=None):
        "Reserve the requests even beyond what is available"
        return cls._hold(requests, expires_at, force=True)

    @classmethod
    def _hold(cls, requests, expires_at, force=False):
        pool = Pool()
        Availability = pool.get('stock.availability')
        Configuration = pool.get('stock.configuration')
        if expires_at is None:
            expires_at = (
                datetime.datetime.now() + Configuration.get_hold_time())
        requests = sorted(
            requests, key=lambda r: (int(r['product']), int(r['location'])))
        origins = [str(r['origin']) for r in requests if r.get('origin')]
        existing = {}
        if origins:
            for reservation in cls.search([
                        ('origin', 'in', origins),
                        ('state', 'in', OPEN_STATES),
                        ]):
                existing[(str(reservation.origin),
                        reservation.product.id,
                        reservation.location.id)] = reservation

        reservations, rows = [], []
        for request in requests:
            product = int(request['product'])
            location = int(request['location'])
            origin = str(request['origin']) if request.get('origin') else None
            if (origin, product, location) in existing:
                reservations.append(existing[origin, product, location])
                continue
            cls._check_request(origin, request['channel'])
            reservations.append(len(rows))
            rows.append([product, location, request['quantity'], origin,
                    request['channel'], expires_at])
        # The rows come first: their table lock lets reconcile wait for us
        created = cls._insert_held(rows)
        applied = defaultdict(float)
        for product, location, quantity, *_ in rows:
            key = (product, location)
            if force:
                Availability.change({key: {'reserved': quantity}})
            elif Availability.reserve(*key, quantity) is None:
                # Give back what this call took before failing
                table = cls.__table__()
                Transaction().connection.cursor().execute(*table.delete(
                        where=table.id.in_(list(map(int, created)))))
                Availability.unreserve(applied)
                cls.raise_insufficient(*key, quantity)
            applied[key] += quantity
        created = iter(created)
        return [r if isinstance(r, cls) else next(created)
            for r in reservations]

    @classmethod
    def _check_request(cls, origin, channel):
        "Check the origin and channel that _insert_held writes unvalidated"
        models = cls._get_origin()
        channels = dict(cls.channel.selection)
        if origin and origin.split(',', 1)[0] not in models:
            raise ReservationError(gettext(
                    'omni_inventory_bridge.msg_reservation_origin_invalid',
                    origin=origin))
        if channel not in channels:
            raise ReservationError(gettext(
                    'omni_inventory_bridge.msg_reservation_channel_invalid',
                    channel=channel))

    @classmethod
    def _insert_held(cls, rows):
        """Insert held reservations from rows of [product, location,
        quantity, origin, channel, expires at] in one statement: buyers wait
        on this path, which the ORM's validation would slow tenfold"""
        table = cls.__table__()
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        company = transaction.context.get('company')
        if not rows:
            return []
        if not company:
            raise ReservationError(gettext(
                    'omni_inventory_bridge.msg_reservation_company_missing'))
        if backend.name == 'postgresql':
            cursor.execute(cls._insert_held_sql(len(rows)), [
                    v for row in rows
                    for v in [company, *row, transaction.user]])
            ids = [id_ for id_, in cursor]
        else:
            columns = [table.company, table.product, table.location,
                table.quantity, table.origin, table.channel,
                table.expires_at, table.state, table.create_uid,
                table.create_date]
            values = [[company, *row, 'held', transaction.user,
                    CurrentTimestamp()] for row in rows]
            ids = []
            for value in values:
                cursor.execute(*table.insert(columns, [value]))
                ids.append(cursor.lastrowid)
        transaction.create_records[cls.__name__].extend(ids)
        return cls.browse(ids)

    @classmethod
    @functools.cache
    def _insert_held_sql(cls, count):
        "Return the INSERT of count held rows on PostgreSQL, built once"
        columns = ['company', 'product', 'location', 'quantity', 'origin',
            'channel', 'expires_at', 'state', 'create_uid', 'create_date']
        row = '(%s, %s, %s, %s, %s, %s, %s, \'held\', %s, CURRENT_TIMESTAMP)'
        return 'INSERT INTO "%s" (%s) VALUES %s RETURNING "id"' % (
            cls._table, ', '.join('"%s"' % c for c in columns),
            ', '.join([row] * count))

    @classmethod
    def raise_insufficient(cls, product, location, quantity):
        pool = Pool()
        Availability = pool.get('stock.availability')
        Location = pool.get('stock.location')
        Product = pool.get('product.product')
        product, location = Product(product), Location(location)
        (_, _, available), = Availability.get(
            [product], [location]).values()
        alternatives = ', '.join(
            '%s (%s)' % (Location(other).rec_name, left)
            for other, left in Availability.alternatives(
                product, location))
        raise ReservationError(
            gettext('omni_inventory_bridge.msg_reservation_insufficient',
                product=product.rec_name,
                location=location.rec_name,
                available=max(available, 0),
                quantity=quantity),
            gettext('omni_inventory_bridge.msg_reservation_alternatives',
                alternatives=alternatives) if alternatives else
            gettext('omni_inventory_bridge.msg_reservation_no_alternative'),
            product=product.id, location=location.id)

    @classmethod
    def _unreserve(cls, reservations):
        Availability = Pool().get('stock.availability')
        quantities = defaultdict(float)
        for reservation in reservations:
            quantities[reservation.product.id, reservation.location.id] += (
                reservation.quantity)
        Availability.unreserve(quantities)

    @classmethod
    @ModelView.button
    @Workflow.transition('confirmed')
    def confirm(cls, reservations, expires_at=None):
        "Keep the units until expires_at (a pickup deadline) or forever"
        cls.write(reservations, {'expires_at': expires_at})

    @classmethod
    @Workflow.transition('consumed')
    def consume(cls, reservations):
        "Close the reservations whose goods left with a done move"
        cls._unreserve(reservations)

    @classmethod
    @ModelView.button
    @Workflow.transition('released')
    def release(cls, reservations):
        cls._unreserve(reservations)

    @classmethod
    def release_expired(cls):
        "Release the open reservations past their expiry"
        cls.release(cls.search([
                    ('state', 'in', OPEN_STATES),
                    ('expires_at', '<', datetime.datetime.now()),
                    ]))


class Move(metaclass=PoolMeta):
    __name__ = 'stock.move'

    @classmethod
    def _done_quantities(cls, moves):
        "Return {id: (product, from storage, to storage, quantity, origin)}"
        pool = Pool()
        Location = pool.get('stock.location')
        move = cls.__table__()
        from_location = Location.__table__()
        to_location = Location.__table__()
        cursor = Transaction().connection.cursor()
        query = (move
            .join(from_location,
                condition=move.from_location == from_location.id)
            .join(to_location,
                condition=move.to_location == to_location.id))
        result = {}
        for sub_ids in grouped_slice(
                list(map(int, moves)), backend.MAX_QUERY_PARAMS):
            cursor.execute(*query.select(
                    move.id, move.product,
                    move.from_location, from_location.type,
                    move.to_location, to_location.type,
                    move.internal_quantity, move.origin,
                    where=move.id.in_(list(sub_ids))
                    & (move.state == 'done')))
            for (id_, product, from_id, from_type, to_id, to_type,
                    quantity, origin) in cursor:
                result[id_] = (
                    product,
                    from_id if from_type == 'storage' else None,
                    to_id if to_type == 'storage' else None,
                    quantity or 0, origin)
        return result

    @classmethod
    def on_write(cls, moves, values):
        callbacks = super().on_write(moves, values)
        if values.keys() & {
                'state', 'product', 'from_location', 'to_location',
                'quantity', 'internal_quantity', 'unit'}:
            before = cls._done_quantities(moves)
            callbacks.append(
                lambda: cls._sync_availability(moves, before))
        return callbacks

    @classmethod
    def _sync_availability(cls, moves, before):
        pool = Pool()
        Availability = pool.get('stock.availability')
        after = cls._done_quantities(moves)
        deltas = defaultdict(float)
        for done, sign in [(before, -1), (after, 1)]:
            for product, from_location, to_location, quantity, _ in (
                    done.values()):
                if from_location:
                    deltas[product, from_location] -= sign * quantity
                if to_location:
                    deltas[product, to_location] += sign * quantity
        Availability.add_on_hand(deltas)
        cls._consume_reservations(
            {i: v for i, v in after.items() if i not in before})

    @classmethod
    def _consume_reservations(cls, done):
        "Consume the open reservations of the moves just done"
        Reservation = Pool().get('stock.reservation')
        keys = set()
        for id_, (product, from_location, _, _, origin) in done.items():
            if from_location:
                for owner in [f'{cls.__name__},{id_}', origin]:
                    if owner:
                        keys.add((owner, product, from_location))
        if not keys:
            return
        Reservation.consume([r for r in Reservation.search([
                        ('origin', 'in', list({k[0] for k in keys})),
                        ('state', 'in', OPEN_STATES),
                        ])
                if (str(r.origin), r.product.id, r.location.id) in keys])


class Configuration(metaclass=PoolMeta):
    __name__ = 'stock.configuration'

    reservation_hold_time = fields.TimeDelta(
        "Reservation Hold Time",
        help="How long stock held at checkout stays reserved before payment.")
    _hold_time_cache = Cache(
        'stock.configuration.reservation_hold_time', context=False)

    @classmethod
    def default_reservation_hold_time(cls):
        return datetime.timedelta(minutes=15)

    @classmethod
    def get_hold_time(cls):
        "Return the hold time, cached as every checkout reads it"
        hold_time = cls._hold_time_cache.get(None, -1)
        if hold_time == -1:
            hold_time = (cls(1).reservation_hold_time
                or cls.default_reservation_hold_time())
            cls._hold_time_cache.set(None, hold_time)
        return hold_time

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        cls._hold_time_cache.clear()

