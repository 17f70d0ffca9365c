# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Concurrent holds and POS sales on PostgreSQL never oversell, never
surface a lock error and are never refused while stock is available.

10 units of 老班章 lie on two storage locations (4 + 6); the store sells
from the first through 4 POS terminals, each ringing one sale at a time.
16 threads fire 200 holds of 1 unit, each in its own transaction, at the
warehouse and at the store once the warehouse is sold out, mixed with 40
POS sales of 1 unit. Nothing is retried on a database error: any fails the
test.
"""
import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

from trytond.modules.omni_inventory_bridge.exceptions import (
    ReservationError,
    StockGuardError,
)
from trytond.modules.omni_inventory_bridge.tests.tools import (
    create_stock,
    create_tea_chart,
    create_tea_company,
    run,
)

pytestmark = pytest.mark.skipif(
    not os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="row contention needs PostgreSQL (TRYTOND_DATABASE_URI)")

THREADS = 16
HOLDS = 200
POS_SALES = 40
TERMINALS = 4
ARRIVAL = 1
STOCK = {'Store Shelf': 4, 'Warehouse Shelf': 6}
ROUNDS = 3


@pytest.fixture(scope='module')
def stock():
    "Return the context, product id, {location id: quantity} and POS ids"
    activate_module('omni_insights')
    context = create_tea_company()
    product, locations = create_stock(
        context, "老班章", STOCK, salable=True)
    store_shelf = min(locations)
    create_tea_chart(context)
    with Transaction().start(DB_NAME, 0, context=context):
        pool = Pool()
        Account = pool.get('account.account')
        Journal = pool.get('account.journal')
        Location = pool.get('stock.location')
        ModelData = pool.get('ir.model.data')
        PaymentMethod = pool.get('sale.point.payment.method')
        POS = pool.get('sale.point')
        SequenceStrict = pool.get('ir.sequence.strict')
        customer = Location(ModelData.get_id('stock', 'location_customer'))
        journal, = Journal.search([('type', '=', 'revenue')], limit=1)
        sequences = SequenceStrict.create([{
                    'name': "POS %s" % i, 'company': context['company'],
                    'sequence_type': ModelData.get_id(
                        'sale_point', 'sequence_type_sale'),
                    } for i in range(TERMINALS)])
        terminals = POS.create([{
                    'name': sequence.name, 'journal': journal.id,
                    'sequence': sequence.id,
                    'storage_location': store_shelf,
                    'customer_location': customer.id,
                    } for sequence in sequences])
        # The cash account of the minimal chart, as account's tools find it
        cash, = Account.search([('code', '=', '1.1.1')], limit=1)
        method, = PaymentMethod.create([{
                    'name': "WeChat Pay", 'account': cash.id}])
    yield context, product, locations, (
        [(t.id, threading.Lock()) for t in terminals], method.id)
    drop_db()


def available_at(product, location):
    Availability = Pool().get('stock.availability')
    (_, _, available), = Availability.get([product], [location]).values()
    return available


def hold_attempt(context, product, locations):
    "Hold 1 unit at the warehouse, else at the store, as deliveries do"
    for location in sorted(locations, reverse=True):

        def hold(location=location):
            Reservation = Pool().get('stock.reservation')
            try:
                Reservation.hold([{
                            'product': product, 'location': location,
                            'quantity': 1, 'channel': 'mall_delivery'}])
            except ReservationError:
                # What the refusing transaction saw
                return available_at(product, location)
        available = run(context, hold)
        if available is None:
            return 'hold', location
        assert available < 1, f"hold refused with {available} available"
    return 'refused', None


def pos_sale(context, product, pos):
    "Sell 1 unit at a free terminal of the store, paid by WeChat Pay"
    terminals, method_id = pos
    while True:
        for pos_id, busy in random.sample(terminals, len(terminals)):
            if busy.acquire(blocking=False):
                try:
                    return ring_up(context, product, pos_id, method_id)
                finally:
                    busy.release()
        time.sleep(0.001)


def ring_up(context, product, pos_id, method_id):
    "Sell 1 unit at the terminal, which rings one sale at a time"

    def sell():
        pool = Pool()
        Sale = pool.get('sale.point.sale')
        POS = pool.get('sale.point')
        sale, = Sale.create([{
                    'point': pos_id,
                    'lines': [('create', [{
                                    'product': product, 'quantity': 1,
                                    'unit_list_price': Decimal(300),
                                    'unit_gross_price': Decimal(300),
                                    }])],
                    'payments': [('create', [{
                                    'method': method_id,
                                    'amount': Decimal(300),
                                    }])],
                    }])
        try:
            Sale.process([sale])
        except StockGuardError:
            location = POS(pos_id).storage_location.id
            return available_at(product, location)
        assert sale.state == 'done'
    available = run(context, sell)
    if available is None:
        return 'pos', None
    assert available < 1, f"POS sale refused with {available} available"
    return 'refused', None


def reset(context, product):
    def release():
        Reservation = Pool().get('stock.reservation')
        Reservation.release(Reservation.search([
                    ('product', '=', product),
                    ('state', 'in', ['held', 'confirmed']),
                    ]))
    run(context, release)


def figures(context, product, locations):
    def get():
        Availability = Pool().get('stock.availability')
        return Availability.get([product], list(locations)), (
            Availability.reconcile())
    return run(context, get)


@pytest.mark.parametrize('round_', range(ROUNDS))
def test_concurrent_holds_and_pos_sales(stock, round_):
    context, product, locations, pos = stock
    reset(context, product)
    # The first wave, released together, is mostly POS sales so that they
    # race the holds for the store's units
    first = ['pos'] * (THREADS * 3 // 4)
    first += ['hold'] * (THREADS - len(first))
    rest = ['hold'] * (HOLDS - first.count('hold'))
    rest += ['pos'] * (POS_SALES - first.count('pos'))
    random.shuffle(rest)
    tasks = first + rest
    errors = []
    start = threading.Barrier(THREADS)

    def worker(index):
        try:
            if index < THREADS:
                start.wait(timeout=60)
            # Buyers and shoppers arrive over a second
            time.sleep(random.uniform(0, ARRIVAL))
            if tasks[index] == 'pos':
                return pos_sale(context, product, pos)
            return hold_attempt(context, product, locations)
        except Exception as exception:
            errors.append(repr(exception))
            raise

    began = time.monotonic()
    with ThreadPoolExecutor(THREADS) as executor:
        results = list(executor.map(worker, range(len(tasks))))
    elapsed = time.monotonic() - began

    kinds = Counter(kind for kind, _ in results)
    held = Counter(location for kind, location in results if kind == 'hold')
    store_shelf = min(locations)
    taken = dict(held)
    taken[store_shelf] = taken.get(store_shelf, 0) + kinds['pos']
    availability, drifts = figures(context, product, locations)
    print(f"round {round_}: {len(tasks)} attempts, {kinds['hold']} held, "
        f"{kinds['pos']} sold at the POS, {kinds['refused']} refused, "
        f"{elapsed:.2f}s")

    assert not errors
    assert taken == locations
    assert kinds['hold'] + kinds['pos'] == sum(STOCK.values())
    for location, quantity in locations.items():
        on_hand, reserved, available = availability[product, location]
        assert (on_hand, reserved, available) == (quantity, quantity, 0)
    assert drifts == []
