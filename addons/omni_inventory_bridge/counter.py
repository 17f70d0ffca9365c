# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The availability counters' own connections and the changes a transaction
makes to them, applied as it commits"""
import logging
import os
import threading
from collections import defaultdict, deque

from sql.functions import Function
from trytond import backend
from trytond.pool import Pool

logger = logging.getLogger(__name__)
VERSION_SEQUENCE = 'stock_availability_version_seq'
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
