# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Rate limits of the mall API, counted in the database so that they hold
across the web workers: one row per scope, key and fixed window, raised by
one atomic statement.

On PostgreSQL the statement runs on an own autocommit connection: the count
stays when the request fails, and the row is locked only for the statement,
so no buyer waits on another's transaction. On SQLite, which serialises
writers, it runs in the caller's transaction; the API counts in a
transaction of its own before the request's (see api.dispatch)."""
import datetime
import hashlib
import math
import time

from sql import Conflict
from sql.functions import CurrentTimestamp
from trytond import backend
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.transaction import Transaction

from .api import ApiError

# The scopes the shop sets limits for: {scope: (member field, address field)}
SCOPES = {
    'login': ('mp_login_rate_member', 'mp_login_rate_address'),
    'order': ('mp_order_rate_member', 'mp_order_rate_address'),
    'coupon': ('mp_coupon_rate_member', 'mp_coupon_rate_address'),
    'bonus': ('mp_bonus_rate_member', 'mp_bonus_rate_address'),
    }


class RateCounter(ModelSQL, ModelView):
    "Mini-Program Rate Counter"
    __name__ = 'web.shop.mp_rate_counter'

    scope = fields.Selection([
            ('login', "Login"),
            ('order', "Order"),
            ('coupon', "Coupon Claim"),
            ('bonus', "Sign-in and Share"),
            ], "Scope", required=True, readonly=True)
    key = fields.Char(
        "Key", required=True, readonly=True, strip=False,
        help="The member, the WeChat user or the client address counted.")
    window_start = fields.DateTime(
        "Window Start", required=True, readonly=True)
    count = fields.Integer(
        "Requests", required=True, readonly=True,
        help="The requests of the window, refused ones included.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('window_unique', Unique(t, t.scope, t.key, t.window_start),
                'omni_miniprogram.msg_rate_counter_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.window_start, Index.Range())))
        cls._order = [
            ('window_start', 'DESC'), ('count', 'DESC'), ('id', 'DESC')]

    @classmethod
    def wechat_key(cls, appid, openid):
        "The key of a WeChat user, who may not be a member yet"
        digest = hashlib.sha256(
            ('%s:%s' % (appid, openid)).encode()).hexdigest()
        return 'wechat:' + digest[:24]

    @classmethod
    def hit(cls, scope, keys, window):
        """Count one request for each key of the scope in the current window
        of window seconds; return {key: count} and the window's end as
        seconds since the epoch"""
        start = int(time.time()) // window * window
        window_start = datetime.datetime.fromtimestamp(start, datetime.UTC
            ).replace(tzinfo=None)
        table = cls.__table__()
        keys = sorted(set(keys))
        query = table.insert(
            [table.scope, table.key, table.window_start, table.count,
                table.create_uid, table.create_date],
            # A fixed order of the rows prevents deadlocks
            [[scope, key, window_start, 1, 0, CurrentTimestamp()]
                for key in keys],
            on_conflict=Conflict(
                table,
                indexed_columns=[table.scope, table.key, table.window_start],
                columns=[table.count], values=[table.count + 1]))
        transaction = Transaction()
        if backend.name == 'postgresql':
            query.returning = [table.key, table.count]
            database = transaction.database
            connection = database.get_connection(autocommit=True)
            try:
                cursor = connection.cursor()
                cursor.execute(*query)
                counts = dict(cursor)
            finally:
                database.put_connection(connection)
        else:
            # SQLite serialises writers: the counts can be read after
            cursor = transaction.connection.cursor()
            cursor.execute(*query)
            cursor.execute(*table.select(
                    table.key, table.count,
                    where=(table.scope == scope)
                    & (table.window_start == window_start)
                    & table.key.in_(keys)))
            counts = dict(cursor)
        return counts, start + window

    @classmethod
    def check(cls, shop, scope, member_key=None, address=None):
        """Count the request of member_key and of the client address in the
        scope and raise a 429 ApiError when either is over the shop's
        limit"""
        member_field, address_field = SCOPES[scope]
        limits = {}
        if member_key and getattr(shop, member_field):
            limits[member_key] = getattr(shop, member_field)
        if address and getattr(shop, address_field):
            limits['ip:' + address] = getattr(shop, address_field)
        if not limits:
            return
        window = max(int(shop.mp_rate_window.total_seconds()), 1)
        counts, end = cls.hit(scope, limits, window)
        if any(counts[key] > limit for key, limit in limits.items()):
            retry_after = max(math.ceil(end - time.time()), 1)
            raise ApiError(
                429, 'rate_limited', details={'retry_after': retry_after},
                headers={'Retry-After': str(retry_after)},
                seconds=retry_after)

    @classmethod
    def purge(cls):
        "Delete the counters of the windows that ended more than a day ago"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.delete(
                where=table.window_start < (
                    datetime.datetime.now() - datetime.timedelta(days=1))))
