# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Reservations: the stock held for an order or a POS sale until it ships,
is released or its hold lapses, and the moves that count it"""
import datetime
import functools
import logging
from collections import defaultdict

from sql.functions import CurrentTimestamp
from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    Check,
    Index,
    ModelSQL,
    ModelView,
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
OPEN_STATES = ['held', 'confirmed']


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
