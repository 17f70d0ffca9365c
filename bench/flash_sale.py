#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Flash sale: many buyers reserve one hot product on PostgreSQL.

The anchor is raw psycopg doing the atomic conditional UPDATE of the stock
counters (docs/decisions.md); then the same load goes through
Reservation.hold, each attempt in its own Tryton transaction; then through
the mall API: trytond served by gunicorn, whose requests take the orders,
next to one trytond-worker that builds them; each client thread a member
posting pickup orders of 1 unit until it is told the product is out of
stock. Each run prints the sell-out rate (units reserved per second until
none is left), the latency of successful buyers, oversell and errors, the
ratio of the rates to the anchor, and the time from each order's intake to
its quoted sale.

Usage: bench/flash_sale.py postgresql://user@host:port/ [--threads 32]
    [--attempts 5000] [--units 1000] [--legs raw,hold,http]
    [--workers 2] [--worker-class gthread] [--worker-threads 4]
"""
import argparse
import contextlib
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BIN = Path(sys.executable).parent
LEGS = ['raw', 'hold', 'http']


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('uri', help="PostgreSQL server URI")
    parser.add_argument('--threads', type=int, default=32)
    parser.add_argument('--attempts', type=int, default=5000)
    parser.add_argument('--units', type=int, default=1000)
    parser.add_argument('--database', default='bench_flash_sale')
    parser.add_argument('--legs', default=','.join(LEGS),
        help="the loads to run after the raw anchor: hold, http")
    parser.add_argument('--workers', type=int, default=2,
        help="gunicorn worker processes of the HTTP path")
    parser.add_argument('--worker-class', default='gthread',
        choices=['sync', 'gthread'])
    parser.add_argument('--worker-threads', type=int, default=4,
        help="threads of each gthread worker")
    return parser.parse_args()


def percentiles(latencies):
    "Return the median and the 95th percentile of the latencies, or 0"
    if not latencies:
        return 0, 0
    latencies = sorted(latencies)
    return (statistics.median(latencies),
        latencies[max(int(len(latencies) * 0.95) - 1, 0)])


class Run:
    "The outcome of one load"

    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()
        self.latencies = []
        self.refusals = []
        self.errors = []
        self.began = self.sold_out = None

    def attempt(self, func):
        "Return whether func sold, None on an error"
        start = time.monotonic()
        try:
            sold = func()
        except Exception as exception:
            with self.lock:
                self.errors.append(repr(exception))
            return None
        end = time.monotonic()
        with self.lock:
            if sold:
                self.latencies.append(end - start)
                self.sold_out = max(self.sold_out or end, end)
            else:
                self.refusals.append(end - start)
        return sold

    def load(self, func, threads, attempts):
        self.began = time.monotonic()
        with ThreadPoolExecutor(threads) as executor:
            for _ in executor.map(
                    lambda _: self.attempt(func), range(attempts)):
                pass

    def load_until_sold_out(self, func, threads, max_errors=100):
        "Each thread attempts again until it is refused"
        def buyer(_):
            while (self.attempt(func) is not False
                    and len(self.errors) < max_errors):
                pass
        self.began = time.monotonic()
        with ThreadPoolExecutor(threads) as executor:
            for _ in executor.map(buyer, range(threads)):
                pass

    @property
    def rate(self):
        if not self.latencies:
            return 0
        return len(self.latencies) / (self.sold_out - self.began)

    @property
    def refused(self):
        return len(self.refusals)

    def report(self, units, reserved):
        p50, p95 = percentiles(self.latencies)
        _, refused_p95 = percentiles(self.refusals)
        print(f"{self.name}: {len(self.latencies)} sold of {units} units, "
            f"{self.rate:.3g}/s sell-out rate, "
            f"p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
            f"{self.refused} refused (p95 {refused_p95 * 1000:.1f} ms), "
            f"oversell {max(reserved - units, 0)}, "
            f"{len(self.errors)} errors")
        for error in sorted(set(self.errors))[:5]:
            print(f"    {error}")


def raw_anchor(uri, args):
    "Reserve with one conditional UPDATE per attempt on plain psycopg"
    import psycopg
    conninfo = uri.rstrip('/') + '/' + args.database
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute('DROP TABLE IF EXISTS bench_stock')
        connection.execute(
            'CREATE TABLE bench_stock (id integer PRIMARY KEY, '
            'on_hand integer NOT NULL, reserved integer NOT NULL)')
        connection.execute(
            'INSERT INTO bench_stock VALUES (1, %s, 0)', (args.units,))
    local = threading.local()

    def reserve():
        if not hasattr(local, 'connection'):
            local.connection = psycopg.connect(conninfo)
        connection = local.connection
        with connection.transaction():
            row = connection.execute(
                'UPDATE bench_stock SET reserved = reserved + 1 '
                'WHERE id = 1 AND on_hand - reserved >= 1 '
                'RETURNING on_hand - reserved').fetchone()
        return row is not None

    run = Run("raw psycopg")
    run.load(reserve, args.threads, args.attempts)
    with psycopg.connect(conninfo) as connection:
        reserved, = connection.execute(
            'SELECT reserved FROM bench_stock').fetchone()
        connection.execute('DROP TABLE bench_stock')
    run.report(args.units, reserved)
    return run


def tryton_setup(args):
    "Activate the module and put the units on a storage location"
    from trytond.tests.test_tryton import activate_module

    from trytond.modules.omni_inventory_bridge.tests.tools import (
        create_stock,
        create_tea_company,
    )
    # The whole stack, whose API the HTTP path serves
    activate_module('omni_insights')
    context = create_tea_company()
    product, locations = create_stock(
        context, "老班章", {"Flash Sale": args.units})
    location, = locations
    return context, product, location


def tryton_path(args, context, product, location):
    "Reserve through Reservation.hold, one Tryton transaction per attempt"
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME
    from trytond.transaction import Transaction

    from trytond.modules.omni_inventory_bridge.exceptions import (
        ReservationError,
    )

    def reserve():
        with Transaction().start(DB_NAME, 0, context=context):
            Reservation = Pool().get('stock.reservation')
            try:
                Reservation.hold([{
                            'product': product, 'location': location,
                            'quantity': 1, 'channel': 'mall_delivery'}])
            except ReservationError:
                return False
            return True

    run = Run("Reservation.hold")
    run.load(reserve, args.threads, args.attempts)
    with Transaction().start(DB_NAME, 0, context=context):
        Availability = Pool().get('stock.availability')
        (_, reserved, _), = Availability.get(
            [product], [location]).values()
        drifts = Availability.reconcile()
    run.report(args.units, reserved)
    print(f"    reconcile: {len(drifts)} drifts")
    return run


def http_setup(args, context, fake):
    """Create a mini-program shop of the fake WeChat that sells the hot
    product from one store, and a member with a session per client; return
    the shop, product and store ids and the tokens"""
    from trytond.pool import Pool

    from trytond.modules.omni_inventory_bridge.tests.tools import run
    from trytond.modules.omni_miniprogram.tests.tools import (
        create_accounting,
        create_store,
        create_teas,
        put_stock,
    )

    def setup():
        pool = Pool()
        Category = pool.get('product.category')
        Company = pool.get('company.company')
        Party = pool.get('party.party')
        Session = pool.get('web.shop.mp_session')
        Shop = pool.get('web.shop')
        category = Category(name="普洱")
        category.save()
        product, = create_teas(["2008 易武 闪购"], category)
        create_accounting(Company(context['company']), [product])
        store = create_store('FS', '30.2420', '120.1600')
        put_stock(product, store, args.units)
        # Each client is a member who orders until sold out from one
        # address: the mall's limits against hoarding would stop it
        shop = Shop(name="Flash Mall", wechat_notify_url='http://127.0.0.1',
            warehouses=[store], products=[product], categories=[category],
            mp_max_unpaid_orders=None, mp_order_rate_member=None,
            mp_order_rate_address=None, **fake.shop_values())
        shop.save()
        tokens = []
        for i in range(args.threads):
            openid = 'o-bench-%s' % i
            fake.openids.add(openid)
            member = Party.register_member(
                '1390000%04d' % i, "Buyer %s" % i, 'mall')
            tokens.append(Session.open(shop, openid, member=member)[1])
        return shop.id, product.id, store.id, tokens
    return run(context, setup)


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(uri, args, fake):
    """Serve trytond as production does: gunicorn, whose requests queue
    their tasks, and one trytond-worker that runs them; yield the URL"""
    import requests
    port = free_port()
    env = dict(os.environ,
        TRYTOND_DATABASE_URI=uri,
        TRYTOND_DATABASE_NAMES=args.database,
        TRYTOND_DATABASE__MAXCONN=str(2 * args.worker_threads + 8),
        TRYTOND_QUEUE__WORKER='True',
        TRYTOND_OMNI__WECHAT_API_URL=fake.url,
        TRYTOND_OMNI__WECHATPAY_API_URL=fake.url)
    command = [str(BIN / 'gunicorn'), '--bind', '127.0.0.1:%s' % port,
        '--workers', str(args.workers),
        '--worker-class', args.worker_class,
        '--log-level', 'warning']
    if args.worker_class == 'gthread':
        command += ['--threads', str(args.worker_threads)]
    # Each in a process group of its own: the worker's pool process goes
    # with it
    processes = [
        subprocess.Popen(command + ['trytond.application:app'], env=env,
            start_new_session=True),
        subprocess.Popen([str(BIN / 'trytond-worker'), '-d', args.database,
                '-n', '1'], env=env, start_new_session=True),
        ]
    url = 'http://127.0.0.1:%s' % port
    health = '%s/%s/omni/ops/v1/health' % (url, args.database)
    try:
        deadline = time.monotonic() + 180
        while True:
            if time.monotonic() > deadline or any(
                    p.poll() is not None for p in processes):
                raise RuntimeError("trytond did not serve")
            try:
                if requests.get(health, timeout=60).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        yield url
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_built(shop_id, timeout=120):
    """Wait until the queue built every order of the shop; return the
    seconds from each order's intake to its quoted sale"""
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME
    from trytond.transaction import Transaction
    deadline = time.monotonic() + timeout
    while True:
        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            Queue = pool.get('ir.queue')
            Sale = pool.get('sale.sale')
            sales = Sale.search([('web_shop', '=', shop_id)])
            waiting = [s for s in sales if s.mp_build]
            if not waiting:
                built = {}
                for task in Queue.search([
                            ('finished_at', '!=', None),
                            ('data.method', '=', 'mall_build_queued'),
                            ]):
                    sale_id, = task.data['instances']
                    built[sale_id] = task.finished_at
                return [(built[s.id] - s.create_date).total_seconds()
                    for s in sales if s.id in built]
        if time.monotonic() > deadline:
            raise RuntimeError("%s orders not built" % len(waiting))
        time.sleep(0.2)


def http_path(uri, args, context, fake, setup):
    """Order through the mall API until sold out, each client thread a
    member with its own session"""
    import requests
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME
    from trytond.transaction import Transaction

    shop_id, product, store, tokens = setup
    cart = {
        'items': [{'product': product, 'quantity': 1}],
        'fulfilment': 'pickup', 'store': store}
    local = threading.local()
    next_token = iter(tokens).__next__

    def order():
        if not hasattr(local, 'session'):
            local.session = requests.Session()
            local.session.headers['Authorization'] = 'Bearer ' + next_token()
        response = local.session.post(
            '%s/%s/omni/mp/v1/orders' % (url, args.database),
            json=cart, timeout=600,
            headers={'Idempotency-Key': secrets.token_hex(8)})
        if response.status_code == 201:
            return True
        if (response.status_code == 409
                and response.json()['code'] == 'out_of_stock'):
            return False
        raise RuntimeError(
            '%s %s' % (response.status_code, response.text[:200]))

    workers = '%s %s' % (args.workers, args.worker_class)
    if args.worker_class == 'gthread':
        workers += ' x %s threads' % args.worker_threads
    run = Run("HTTP POST /orders (gunicorn %s, 1 trytond-worker)" % workers)
    with serve(uri, args, fake) as url:
        run.load_until_sold_out(order, args.threads)
        lags = wait_built(shop_id)
    with Transaction().start(DB_NAME, 0, context=context):
        pool = Pool()
        Availability = pool.get('stock.availability')
        Sale = pool.get('sale.sale')
        (_, reserved, _), = Availability.get([product], [store]).values()
        drifts = Availability.reconcile()
        sales = Sale.search_count([('web_shop', '=', shop_id)])
    run.report(args.units, int(reserved))
    p50, p95 = percentiles(lags)
    print(f"    {sales} orders, reconcile: {len(drifts)} drifts; "
        f"intake to quoted sale: p50 {p50:.2f} s, p95 {p95:.2f} s, "
        f"last {max(lags, default=0):.2f} s")
    return run


def main():
    args = parse_args()
    legs = args.legs.split(',')
    uri = args.uri if args.uri.endswith('/') else args.uri + '/'
    os.environ['TRYTOND_DATABASE_URI'] = uri
    os.environ['DB_NAME'] = args.database
    # Each thread holds a transaction and the counter connection
    os.environ['TRYTOND_DATABASE__MAXCONN'] = str(2 * args.threads + 8)
    os.environ.pop('TRYTOND_CONFIG', None)
    from trytond.tests.test_tryton import drop_db

    from trytond.modules.omni_miniprogram.tests.fake_wechat import FakeWeChat

    context, product, location = tryton_setup(args)
    print(f"{args.threads} threads, {args.attempts} attempts of 1 unit, "
        f"{args.units} units, {os.cpu_count()} CPUs")
    runs = []
    try:
        with FakeWeChat() as fake:
            if 'http' in legs:
                setup = http_setup(args, context, fake)
            anchor = raw_anchor(uri, args)
            if 'hold' in legs:
                runs.append(tryton_path(args, context, product, location))
            if 'http' in legs:
                runs.append(http_path(uri, args, context, fake, setup))
    finally:
        drop_db()
    for run in runs:
        print(f"ratio ({run.name} / raw psycopg): "
            f"{run.rate / anchor.rate:.3f}")
    return 0 if not any(r.errors for r in [anchor, *runs]) else 1


if __name__ == '__main__':
    sys.exit(main())
