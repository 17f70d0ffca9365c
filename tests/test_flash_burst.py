# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A live-stream burst on PostgreSQL: 500 members ask for 10 boxes within
2 s over HTTP, served as production serves the mall (gunicorn, 2 gthread
workers × 4 threads, and a trytond-worker that builds the orders the
requests take). Exactly 10 orders, 490 clean out-of-stock answers, no
error, every order built into a quoted sale holding its box, and the
counters agree with the documents."""
import argparse
import importlib.util
import os
import random
import secrets
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db

from trytond.modules.omni_inventory_bridge.tests.tools import (
    create_tea_company,
    run,
)
from trytond.modules.omni_miniprogram.tests.fake_wechat import FakeWeChat

URI = os.environ.get('TRYTOND_DATABASE_URI', '')
pytestmark = pytest.mark.skipif(
    not URI.startswith('postgresql'),
    reason="the burst needs PostgreSQL (TRYTOND_DATABASE_URI)")

BUYERS = 500
BOXES = 10
ARRIVAL = 2


def flash_sale():
    "The flash sale benchmark, whose set-up and server the test shares"
    path = Path(__file__).parent.parent / 'bench' / 'flash_sale.py'
    spec = importlib.util.spec_from_file_location('flash_sale', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_burst():
    "500 buyers within 2 s for 10 boxes: 10 orders, 490 out of stock"
    bench = flash_sale()
    activate_module('omni_insights')
    context = create_tea_company()
    args = argparse.Namespace(
        threads=BUYERS, units=BOXES, database=DB_NAME, workers=2,
        worker_class='gthread', worker_threads=4)
    uri = URI if URI.endswith('/') else URI + '/'
    try:
        with FakeWeChat() as fake:
            shop, product, store, tokens = bench.http_setup(
                args, context, fake)
            with bench.serve(uri, args, fake) as url:
                responses = burst(url, product, store, tokens)
                lags = bench.wait_built(shop)
        print("intake to quoted sale: %s" % ', '.join(
                '%.2f s' % s for s in sorted(lags)))
        check(responses, context, shop, product, store)
    finally:
        drop_db()


def burst(url, product, store, tokens):
    "Each buyer posts one order at a random moment of the first 2 s"
    orders = '%s/%s/omni/mp/v1/orders' % (url, DB_NAME)
    cart = {
        'items': [{'product': product, 'quantity': 1}],
        'fulfilment': 'pickup', 'store': store}
    start = time.monotonic() + 1
    lock = threading.Lock()
    arrivals = []

    def buy(token):
        time.sleep(max(start + random.uniform(0, ARRIVAL)
                - time.monotonic(), 0))
        sent = time.monotonic()
        response = requests.post(orders, json=cart, timeout=600, headers={
                'Authorization': 'Bearer ' + token,
                'Idempotency-Key': secrets.token_hex(8)})
        with lock:
            arrivals.append(sent - start)
            latencies[response.status_code].append(time.monotonic() - sent)
        return response

    latencies = defaultdict(list)
    with ThreadPoolExecutor(len(tokens)) as executor:
        responses = list(executor.map(buy, tokens))
    # The client's own threads share the server's cores and may start late
    print(f"{len(arrivals)} buyers sent within {max(arrivals):.2f} s")
    for status, times in sorted(latencies.items()):
        times.sort()
        p50, p95 = times[len(times) // 2], times[int(len(times) * .95) - 1]
        print(f"{status}: {len(times)} answers, p50 {p50:.2f} s, "
            f"p95 {p95:.2f} s, last {times[-1]:.2f} s")
    return responses


def check(responses, context, shop, product, store):
    statuses = Counter(r.status_code for r in responses)
    errors = [r.text[:200] for r in responses
        if r.status_code not in {201, 409}]
    assert statuses == {201: BOXES, 409: BUYERS - BOXES}, (statuses, errors)
    assert {r.json()['code'] for r in responses
        if r.status_code == 409} == {'out_of_stock'}
    ids = sorted(r.json()['order']['id'] for r in responses
        if r.status_code == 201)

    def documents():
        pool = Pool()
        Availability = pool.get('stock.availability')
        Sale = pool.get('sale.sale')
        sales = Sale.search([('web_shop', '=', shop)], order=[('id', 'ASC')])
        assert [s.id for s in sales] == ids
        assert {s.state for s in sales} == {'quotation'}
        reservations = Sale.pickup_reservations(sales)
        assert sorted(r.state for r in reservations) == ['held'] * BOXES
        assert Availability.get([product], [store])[product, store] == (
            BOXES, BOXES, 0)
        assert Availability.reconcile() == []
    run(context, documents)
