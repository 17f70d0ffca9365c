# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Concurrent holds on PostgreSQL never oversell nor surface lock errors.

10 units of 老班章 lie on two storage locations (4 + 6). 16 threads fire
200 holds of 1 unit, each in its own transaction, on a random location and
on the other one when the first is sold out. Like Tryton's dispatcher, a
transaction that fails with a serialization error is run again; the test
counts those retries but no caller ever sees them.
"""
import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

from trytond.modules.omni_inventory_bridge.exceptions import ReservationError

pytestmark = pytest.mark.skipif(
    not os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="row contention needs PostgreSQL (TRYTOND_DATABASE_URI)")

THREADS = 16
ATTEMPTS = 200
STOCK = {'Shelf A': 4, 'Shelf B': 6}
ROUNDS = 3
MAX_RETRIES = 1000


@pytest.fixture(scope='module')
def stock():
    "Return the context, product id and {location id: quantity}"
    activate_module('omni_inventory_bridge')
    if DB_NAME not in Pool.database_list():
        Pool(DB_NAME).init()
    with Transaction().start(DB_NAME, 0):
        pool = Pool()
        Company = pool.get('company.company')
        Currency = pool.get('currency.currency')
        Inventory = pool.get('stock.inventory')
        Location = pool.get('stock.location')
        ModelData = pool.get('ir.model.data')
        Party = pool.get('party.party')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')

        currency, = Currency.create([
                {'name': "Yuan", 'code': 'CNY', 'symbol': "¥"}])
        party, = Party.create([{'name': "Tea House"}])
        company, = Company.create([
                {'party': party.id, 'currency': currency.id}])
        context = {'company': company.id}
    with Transaction().start(DB_NAME, 0, context=context):
        unit = Uom(ModelData.get_id('product', 'uom_unit'))
        template, = Template.create([{
                    'name': "老班章", 'type': 'goods',
                    'default_uom': unit.id, 'products': [('create', [{}])],
                    }])
        product, = template.products
        storage = Location(ModelData.get_id('stock', 'location_storage'))
        locations = {}
        for name, quantity in STOCK.items():
            location, = Location.create([{
                        'name': name, 'type': 'storage',
                        'parent': storage.id}])
            inventory, = Inventory.create([{
                        'location': location.id,
                        'lines': [('create', [{
                                        'product': product.id,
                                        'quantity': quantity}])],
                        }])
            Inventory.confirm([inventory])
            locations[location.id] = quantity
    yield context, product.id, locations
    drop_db()


def run(context, func):
    "Run func in a new transaction, again on serialization errors"
    for retry in range(MAX_RETRIES):
        try:
            with Transaction().start(DB_NAME, 0, context=context):
                return func(), retry
        except backend.DatabaseOperationalError:
            time.sleep(random.uniform(0, 0.002 * (retry + 1)))
    raise RuntimeError("retries exhausted")


def attempt(context, product, locations):
    "Hold 1 unit on a random location, else the other one"
    choices = random.sample(list(locations), len(locations))
    retries = refused = 0
    for location in choices:

        def hold(location=location):
            pool = Pool()
            Availability = pool.get('stock.availability')
            Reservation = pool.get('stock.reservation')
            try:
                Reservation.hold([{
                            'product': product, 'location': location,
                            'quantity': 1, 'channel': 'mall_delivery'}])
            except ReservationError:
                # What the refusing transaction saw
                (_, _, available), = Availability.get(
                    [product], [location]).values()
                return available
        available, retry = run(context, hold)
        retries += retry
        if available is None:
            return location, retries, refused
        assert available < 1, f"refused with {available} available"
        refused += 1
    return None, retries, refused


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
    result, _ = run(context, get)
    return result


@pytest.mark.parametrize('round_', range(ROUNDS))
def test_concurrent_holds(stock, round_):
    context, product, locations = stock
    reset(context, product)
    errors = []
    start = threading.Barrier(THREADS)

    def worker(index):
        try:
            if index < THREADS:
                start.wait(timeout=60)
            return attempt(context, product, locations)
        except Exception as exception:
            errors.append(repr(exception))
            raise

    began = time.monotonic()
    with ThreadPoolExecutor(THREADS) as executor:
        results = list(executor.map(worker, range(ATTEMPTS)))
    elapsed = time.monotonic() - began

    held = Counter(location for location, _, _ in results if location)
    retries = sum(r for _, r, _ in results)
    (availability, drifts) = figures(context, product, locations)
    print(f"round {round_}: {ATTEMPTS} attempts, {sum(held.values())} held, "
        f"{retries} transparent retries, {elapsed:.2f}s")

    assert not errors
    assert held == locations
    assert sum(held.values()) == sum(STOCK.values())
    for location, quantity in locations.items():
        on_hand, reserved, available = availability[product, location]
        assert (on_hand, reserved, available) == (quantity, quantity, 0)
    assert drifts == []
