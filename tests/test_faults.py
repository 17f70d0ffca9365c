# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The production layout under faults, on a PostgreSQL cluster of its own:
tools/serve_production.sh (gunicorn's 2 web workers, trytond-cron and
trytond-worker, supervised) takes mall orders paid through the fake WeChat,
POS sales over JSON-RPC and pickup handovers, while a web worker, the queue
worker and the cron are killed with SIGKILL and PostgreSQL is restarted in
immediate mode.  Then nothing is lost nor done twice, every queued task
has run and the counters agree with the documents.

The same layout shows that a change made through one web worker is what
the other serves at the next request."""
import base64
import datetime
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import requests
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db

from trytond.modules.omni_inventory_bridge.tests.tools import (
    create_tea_company,
    run,
)
from trytond.modules.omni_miniprogram.tests.fake_wechat import FakeWeChat
from trytond.modules.omni_miniprogram.tests.tools import (
    create_mall,
    create_store,
    create_teas,
    put_stock,
)

URI = os.environ.get('TRYTOND_DATABASE_URI', '')
pytestmark = pytest.mark.skipif(
    not URI.startswith('postgresql'),
    reason="the production layout runs on PostgreSQL (TRYTOND_DATABASE_URI)")

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DATABASE = 'omni_faults'
RESTORED = 'omni_faults_restored'
STOCK = 16
BUYERS = 8
ORDERS_PER_BUYER = 2
POS_SALES = 8
ADMIN_PASSWORD = 'admin-faults-2026'
CLERK_PASSWORD = 'clerk-faults-2026'
# How long a client keeps trying a request, as WeChat and the till do: a
# handover took 13 s on a loaded CI machine
PATIENCE = 120
PG_BIN = '/usr/lib/postgresql/15/bin'
# The seconds a task taken by a lost queue worker waits to be put back
REQUEUE_AFTER = 15


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Stats:
    "What the clients sent and got"

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = Counter()
        self.statuses = Counter()
        self.errors = []
        # Tryton's own JSON-RPC answers 503 in HTML, which sao retries,
        # when PostgreSQL drops its connection: (url, sent, received)
        self.dropped = []
        self.successes = []

    def add(self, name, count=1):
        with self.lock:
            self.counts[name] += count

    def request(self, method, url, retry=(502, 503, 504), **kwargs):
        """Send the request until it is answered with a status not in
        retry, as a patient client does, and return the response; fail
        with the outcome of each attempt if none was in time"""
        started = time.monotonic()
        kwargs.setdefault('timeout', 30)
        attempts = []
        while True:
            self.add('sent')
            if attempts:
                self.add('retried')
            sent = time.monotonic()
            try:
                response = requests.request(method, url, **kwargs)
            except requests.RequestException as error:
                response, outcome = None, type(error).__name__
            else:
                outcome = response.status_code
            received = time.monotonic()
            attempts.append((outcome, round(received - sent, 1)))
            with self.lock:
                self.statuses[outcome] += 1
            if response is not None:
                self.judge(url, response, sent, received)
                if response.status_code not in retry:
                    return response
            if time.monotonic() - started > PATIENCE:
                self.add('failed')
                raise AssertionError(
                    f"{method} {url} unanswered after {PATIENCE} s: "
                    f"(status, seconds) {attempts}")
            time.sleep(0.5)

    def judge(self, url, response, sent, received):
        """Record an answer: a 5xx is a bug, but for our JSON 503 busy and
        Tryton's RPC 503 on a lost connection, kept in dropped"""
        self.add('answered')
        is_json = response.headers.get('Content-Type', '').startswith(
            'application/json')
        with self.lock:
            if response.status_code == 503 and url.endswith('/rpc/') and (
                    'connection is lost' in response.text):
                self.dropped.append((url, sent, received))
            elif response.status_code >= 500 and not (
                    response.status_code == 503 and is_json):
                self.errors.append(
                    (url, response.status_code, response.text[:300]))
            if response.status_code < 300:
                self.successes.append(received)


class RPC:
    "A till's JSON-RPC client, as sao calls the server"

    def __init__(self, stats, url, login, password):
        self.stats = stats
        self.url = '%s/%s/rpc/' % (url, DATABASE)
        self.auth = None
        user, session = self.call(
            'common.db.login', login, {'password': password}, 'zh_CN')[:2]
        self.auth = 'Session ' + base64.b64encode(
            f'{login}:{user}:{session}'.encode()).decode()
        self.context = self.call('model.res.user.get_preferences', True, {})

    def call(self, method, *params):
        """Return the result of the call or raise RPCError; a call the
        server did not answer for its database is sent again"""
        headers = {'Authorization': self.auth} if self.auth else {}
        deadline = time.monotonic() + PATIENCE
        while True:
            response = self.stats.request('POST', self.url, headers=headers,
                json={'id': 1, 'method': method, 'params': list(params)})
            answer = response.json()
            error = answer.get('error')
            if error and 'Operational' in str(error) and (
                    time.monotonic() < deadline):
                self.stats.add('retried')
                time.sleep(0.5)
                continue
            if error:
                raise RPCError(error)
            return answer['result']

    def model(self, model, method, *params):
        return self.call(f'model.{model}.{method}', *params, self.context)


class RPCError(Exception):
    pass


UNFINISHED_TASKS = ('SELECT id, name, dequeued_at FROM ir_queue AS q '
    'WHERE finished_at IS NULL AND NOT EXISTS (SELECT 1 FROM ir_queue AS c '
    'WHERE c.id > q.id AND c.data = q.data AND c.finished_at IS NOT NULL)')


def restart_postgresql(pg_dir):
    "Restart the cluster of tools/pg_cluster.sh in immediate mode"
    # The server's output goes to its log: pg_ctl's would hold ours
    subprocess.run(['runuser', '-u', 'postgres', '--'] * (
            os.getuid() == 0) + [
            'pg_ctl', '-D', str(pg_dir / 'data'),
            '-l', str(pg_dir / 'server.log'),
            '-m', 'immediate', '-w', 'restart'],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=dict(os.environ, PATH='%s:%s' % (PG_BIN, os.environ['PATH'])))


def decimal(value):
    return {'__class__': 'Decimal', 'decimal': str(value)}


@pytest.fixture(scope='module')
def cluster():
    "A PostgreSQL cluster that the test may restart, durable as production"
    folder = Path(tempfile.mkdtemp(prefix='omni-faults-'))
    env = dict(os.environ, PG_OPTIONS='-c synchronous_commit=on')
    uri = subprocess.run(
        [str(ROOT / 'tools' / 'pg_cluster.sh'), 'start', str(folder / 'pg')],
        env=env, check=True, capture_output=True, text=True).stdout.strip()
    try:
        yield folder / 'pg', uri
    finally:
        subprocess.run(
            [str(ROOT / 'tools' / 'pg_cluster.sh'), 'stop',
                str(folder / 'pg')], check=False)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope='module')
def fake():
    with FakeWeChat() as fake:
        yield fake


@pytest.fixture(scope='module')
def chain(cluster, fake):
    """Set up the mall, a store with a till and its clerk in the test
    database, copy it into the cluster; return the ids and the port"""
    _, uri = cluster
    port = free_port()
    activate_module('omni_insights')
    context = create_tea_company()
    try:
        ids = run(context, lambda: setup(
                context, fake, 'http://127.0.0.1:%s' % port))
        copy_database(URI, DB_NAME, uri, DATABASE)
    finally:
        drop_db()
    return dict(ids, port=port)


def setup(context, fake, url):
    pool = Pool()
    Account = pool.get('account.account')
    Application = pool.get('res.user.application')
    Category = pool.get('product.category')
    Company = pool.get('company.company')
    Coupon = pool.get('sale.promotion.coupon')
    Entry = pool.get('member.points.entry')
    Journal = pool.get('account.journal')
    ModelData = pool.get('ir.model.data')
    Party = pool.get('party.party')
    PaymentMethod = pool.get('sale.point.payment.method')
    POS = pool.get('sale.point')
    SequenceStrict = pool.get('ir.sequence.strict')
    Shop = pool.get('web.shop')
    Tier = pool.get('member.tier')
    User = pool.get('res.user')
    company = Company(context['company'])
    category = Category(name="普洱")
    category.save()
    tea, green = create_teas(["2019 老班章", "明前龙井"], category)
    store = create_store('SA', '30.2590', '120.1300')
    other = create_store('SB', '30.2420', '120.1600')
    put_stock(tea, store, STOCK)
    # What the cache test holds and orders
    put_stock(green, store, 500)
    put_stock(green, other, 500)
    members = [Party.register_member(
            '1390000%04d' % i, "Buyer %s" % i, 'pos', store)
        for i in range(BUYERS)]
    coupon = create_mall(company, [tea, green], members[0])
    Tier.update_members(members)
    for member in members[1:]:
        Entry.adjust(member, 2000, "Welcome")
    numbers = {n.party.id: n.number for n in Coupon.push(coupon, members)}
    shop = Shop(name="Tea Mall", wechat_notify_url=url,
        warehouses=[store], products=[tea, green], categories=[category],
        mp_max_unpaid_orders=None, mp_order_rate_member=None,
        mp_order_rate_address=None, **fake.shop_values())
    shop.save()
    journal, = Journal.search([('type', '=', 'revenue')], limit=1)
    sequence, = SequenceStrict.create([{
                'name': "POS", 'company': company.id,
                'sequence_type': ModelData.get_id(
                    'sale_point', 'sequence_type_sale'),
                }])
    tills = POS.create([{
                'name': "%s Till" % s.code, 'journal': journal.id,
                'sequence': sequence.id,
                'storage_location': s.storage_location.id,
                'return_location': s.storage_location.id,
                'customer_location': ModelData.get_id(
                    'stock', 'location_customer'),
                } for s in [store, other]])
    cash, = Account.search([('code', '=', '1.1.1')], limit=1)
    method, = PaymentMethod.create([{
                'name': "Cash", 'account': cash.id, 'cash': True}])
    admin, = User.search([('login', '=', 'admin')])
    User.write([admin], {
            'password': ADMIN_PASSWORD,
            'companies': [('add', [company.id])],
            'company': company.id,
            })
    clerk, = User.create([{
                'login': 'clerk', 'name': "西湖店店员",
                'password': CLERK_PASSWORD,
                'companies': [('add', [company.id])],
                'company': company.id,
                'stores': [('add', [store.id])],
                'groups': [('add', [ModelData.get_id(*x.split('.')) for x in [
                                'sale_point.group_sale_point',
                                'stock.group_stock',
                                'omni_inventory_bridge.group_store_clerk',
                                ]])],
                }])
    # The tasks of the killed queue worker are put back within minutes
    Cron = pool.get('ir.cron')
    Cron.write([Cron(ModelData.get_id(
                    'omni_inventory_bridge', 'cron_requeue_lost_tasks'))],
        {'interval_number': 1})
    scanner = Application(
        user=admin, application='omni_pickup', state='validated')
    scanner.save()
    for i in range(BUYERS):
        fake.add_login('login-%s' % i, 'o-buyer-%s' % i)
        fake.add_phone_code('phone-%s' % i, '+86 1390000%04d' % i)
    return {
        'shop': shop.id, 'tea': tea.id, 'green': green.id,
        'store': store.id, 'other': other.id,
        'other_shelf': other.storage_location.id,
        'tills': [t.id for t in tills],
        'method': method.id, 'clerk': clerk.id, 'scanner': scanner.key,
        'coupons': [numbers[m.id] for m in members],
        }


def copy_database(source_uri, source, target_uri, target):
    "Copy the database into the other cluster with pg_dump and pg_restore"
    with psycopg.connect(target_uri + 'postgres', autocommit=True) as conn:
        conn.execute('CREATE DATABASE "%s"' % target)
    dump = subprocess.Popen(
        ['pg_dump', '--format=custom', '--dbname', source_uri + source],
        stdout=subprocess.PIPE)
    subprocess.run(
        ['pg_restore', '--no-owner', '--dbname', target_uri + target],
        stdin=dump.stdout, check=True)
    assert dump.wait() == 0


class Layout:
    "tools/serve_production.sh on the cluster, its log and processes"

    def __init__(self, uri, port, fake, log):
        self.url = 'http://127.0.0.1:%s' % port
        self.log = log
        env = dict(os.environ,
            TRYTOND_DATABASE_URI=uri, DB_NAME=DATABASE,
            BIND='127.0.0.1:%s' % port, WEB_WORKERS='2', WEB_THREADS='4',
            BIN=str(BIN),
            TRYTOND_OMNI__QUEUE_REQUEUE_AFTER=str(REQUEUE_AFTER),
            TRYTOND_OMNI__WECHAT_API_URL=fake.url,
            TRYTOND_OMNI__WECHATPAY_API_URL=fake.url)
        env.pop('TRYTOND_CONFIG', None)
        self.process = subprocess.Popen(
            [str(ROOT / 'tools' / 'serve_production.sh')], env=env,
            stdout=log.open('w'), stderr=subprocess.STDOUT,
            start_new_session=True)

    def pid(self, name):
        "The process id of the program's last start"
        pids = re.findall(r'supervisor %s started pid=(\d+)' % name,
            self.log.read_text())
        return int(pids[-1])

    def web_workers(self):
        output = subprocess.run(['pgrep', '-P', str(self.pid('web'))],
            capture_output=True, text=True).stdout
        return [int(p) for p in output.split()]

    def ready(self, timeout=120):
        "Wait until the readiness route answers 200; return the seconds"
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                response = requests.get('%s/%s/omni/ops/v1/ready' % (
                        self.url, DATABASE), timeout=10)
                if response.status_code == 200:
                    return time.monotonic() - start
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError("not ready:\n" + self.log.read_text()[-3000:])

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left of the supervisor's process groups
        for name in ['web', 'cron', 'worker']:
            try:
                os.killpg(self.pid(name), signal.SIGKILL)
            except (ProcessLookupError, IndexError):
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)


@pytest.fixture(scope='module')
def layout(cluster, fake, chain):
    log = Path(tempfile.mkdtemp(prefix='omni-layout-')) / 'serve.log'
    layout = Layout(cluster[1], chain['port'], fake, log)
    try:
        layout.ready()
        yield layout
    finally:
        layout.stop()
        print(log.read_text()[-2000:])
        shutil.rmtree(log.parent, ignore_errors=True)


class Mall:
    "The buyers of the mall, WeChat Pay and the pickup scanner"

    def __init__(self, layout, fake, chain, stats):
        self.api = '%s/%s/omni/mp/v1' % (layout.url, DATABASE)
        self.scanner = '%s/%s/omni/pos/v1/pickup/handover' % (
            layout.url, DATABASE)
        self.fake = fake
        self.chain = chain
        self.stats = stats
        self.lock = threading.Lock()
        self.orders = {}
        self.acknowledged = Counter()
        self.handed_over = set()
        # The till's scanner reads one code at a time
        self.scanner_lock = threading.Lock()
        self.out_of_stock = 0

    def login(self, i, device=''):
        "Log the buyer in on a device and bind the phone; return the token"
        response = self.stats.request('POST', self.api + '/login', json={
                'shop': self.chain['shop'],
                'code': 'login-%s%s' % (device, i)})
        assert response.status_code == 200, response.text
        token = response.json()['token']
        response = self.stats.request('POST', self.api + '/me/phone',
            json={'code': 'phone-%s%s' % (device, i)},
            headers={'Authorization': 'Bearer ' + token})
        assert response.status_code == 200, response.text
        return token

    def buyer(self, i, token):
        headers = {'Authorization': 'Bearer ' + token}
        for n in range(ORDERS_PER_BUYER):
            cart = {
                'items': [{'product': self.chain['tea'], 'quantity': 1}],
                'fulfilment': 'pickup', 'store': self.chain['store'],
                }
            # The first orders use points or a coupon
            if n == 0 and i % 2:
                cart['coupon'] = self.chain['coupons'][i]
            elif n == 0:
                cart['points'] = 100
            response = self.stats.request('POST', self.api + '/orders',
                json=cart, headers=dict(headers,
                    **{'Idempotency-Key': secrets.token_hex(8)}))
            if response.status_code == 409:
                assert response.json()['code'] == 'out_of_stock', (
                    response.text)
                with self.lock:
                    self.out_of_stock += 1
                return
            assert response.status_code in {200, 201}, response.text
            body = response.json()
            order = body['order']['id']
            out_trade_no = self.fake.out_trade_no(body['payment'])
            with self.lock:
                self.orders[out_trade_no] = order
            self.pay(out_trade_no, twice=n == 0 and i < BUYERS // 2)
            self.pick_up(order, headers)

    def pay(self, out_trade_no, twice=False):
        """WeChat Pay notifies until it gets a 2xx, and sometimes again
        after, as it does when our answer was lost"""
        notification = self.fake.pay(out_trade_no, deliver=False)
        for _ in range(2 if twice else 1):
            response = self.stats.request('POST', notification.url,
                data=notification.body.encode(),
                headers=dict(notification.headers,
                    **{'Content-Type': 'application/json'}),
                retry=(500, 502, 503, 504))
            assert response.status_code == 204, response.text
            with self.lock:
                self.acknowledged[out_trade_no] += 1

    def pick_up(self, order, headers):
        "The member shows the pickup code at the till, which hands over"
        deadline = time.monotonic() + PATIENCE
        while True:
            response = self.stats.request(
                'GET', '%s/orders/%s' % (self.api, order), headers=headers)
            pickup = response.json()['pickup']
            if pickup:
                break
            assert time.monotonic() < deadline, response.text
            time.sleep(0.5)
        with self.scanner_lock:
            response = self.stats.request('POST', self.scanner, json={
                    'point': self.chain['tills'][0], 'code': pickup['code']},
                headers={'Authorization': 'bearer ' + self.chain['scanner']})
        # A handover whose answer was lost is used when sent again
        assert response.headers['Content-Type'].startswith(
            'application/json'), (response.status_code, response.text)
        assert response.status_code == 200 or (
            response.json()['code'] == 'used'), response.text
        with self.lock:
            self.handed_over.add(order)


def served_by(layout, since):
    "The web workers that served the requests logged after line since"
    lines = layout.log.read_text().splitlines()[since:]
    return {m.group(1) for m in map(re.compile(
                r'^127\.0\.0\.1 "[A-Z]+ [^"]*" \d+ \S+ \d+ms <(\d+)>$').match,
            lines) if m}


def agree(layout, read, expected):
    """Read two at a time, each on a new connection, until both web
    workers have answered: every answer must be the expected one"""
    since = len(layout.log.read_text().splitlines())
    with ThreadPoolExecutor(2) as executor:
        for _ in range(20):
            assert list(executor.map(lambda _: read(), range(2))) == [
                expected] * 2
            if len(served_by(layout, since)) == 2:
                return
    raise AssertionError("one web worker served every request")


def agree_within(layout, read, expected, seconds):
    """Agree from a moment within seconds: the other workers hear of a
    change through PostgreSQL's NOTIFY, a moment after its commit"""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return agree(layout, read, expected)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def minutes_from_now(value):
    "The minutes from now to a datetime of JSON-RPC or of the mall API"
    if isinstance(value, dict):
        value = datetime.datetime(*(value[k] for k in [
                    'year', 'month', 'day', 'hour', 'minute', 'second']))
    else:
        value = datetime.datetime.fromisoformat(value.rstrip('Z'))
    return round((value - datetime.datetime.now()).total_seconds() / 60)


def test_cache_across_workers(fake, chain, layout):
    """A change made through one web worker is what the other serves
    within a second: Tryton's caches are cleared in every process through
    PostgreSQL's LISTEN/NOTIFY"""
    stats = Stats()
    admin = RPC(stats, layout.url, 'admin', ADMIN_PASSWORD)
    clerk = RPC(stats, layout.url, 'clerk', CLERK_PASSWORD)
    mall = Mall(layout, fake, chain, stats)
    fake.add_login('login-pad-0', 'o-pad-0')
    fake.add_phone_code('phone-pad-0', '+86 13900000000')
    token = mall.login(0, device='pad-')
    headers = {'Authorization': 'Bearer ' + token}

    def hold_time():
        "The minutes a reservation made now is held (cached per process)"
        reservation, = admin.model('stock.reservation', 'hold', [{
                    'product': chain['green'],
                    'location': chain['other_shelf'],
                    'quantity': 1, 'channel': 'mall_delivery'}])
        expires_at, = admin.model('stock.reservation', 'read',
            [reservation], ['expires_at'])
        return minutes_from_now(expires_at['expires_at'])

    def payment_time():
        "The minutes an order of the mall has to be paid"
        response = stats.request('POST', mall.api + '/orders', json={
                'items': [{'product': chain['green'], 'quantity': 1}],
                'fulfilment': 'pickup', 'store': chain['store'],
                }, headers=dict(headers,
                **{'Idempotency-Key': secrets.token_hex(8)}))
        assert response.status_code == 201, response.text
        return minutes_from_now(response.json()['order']['pay_deadline'])

    def points_value():
        response = stats.request(
            'GET', mall.api + '/me/points', headers=headers)
        return response.json()['value_per_100']

    def tills():
        return sorted(clerk.model('sale.point', 'search', []))

    def timedelta(minutes):
        return {'__class__': 'timedelta', 'seconds': minutes * 60}

    configuration, = admin.model('stock.configuration', 'search', [])
    for read, before, change, after in [
            (hold_time, 15, lambda: admin.model(
                    'stock.configuration', 'write', [configuration],
                    {'reservation_hold_time': timedelta(40)}), 40),
            (payment_time, 15, lambda: admin.model(
                    'web.shop', 'write', [chain['shop']],
                    {'payment_time': timedelta(25)}), 25),
            (points_value, '1.00', lambda: admin.model(
                    'member.configuration', 'write', [1],
                    {'points_redeem_rate': 50}), '2.00'),
            (tills, chain['tills'][:1], lambda: admin.model(
                    'res.user', 'write', [chain['clerk']],
                    {'stores': [['add', [chain['other']]]]}),
                sorted(chain['tills'])),
            ]:
        agree(layout, read, before)
        change()
        agree_within(layout, read, after, 5)
    assert not stats.errors, stats.errors
    assert not stats.dropped, stats.dropped


def till(rpc, chain, stats, sold):
    "The clerk sells the tea at the till until the book has none"
    till_id = chain['tills'][0]
    for _ in range(POS_SALES):
        sale, = rpc.model('sale.point.sale', 'create', [{
                    'point': till_id,
                    'lines': [['create', [{
                                    'product': chain['tea'], 'quantity': 1,
                                    'unit_list_price': decimal(300),
                                    'unit_gross_price': decimal(300),
                                    }]]],
                    }])
        session, _, _ = rpc.call(
            'wizard.sale.point.sale.pay.create', rpc.context)
        context = dict(rpc.context, active_model='sale.point.sale',
            active_id=sale, active_ids=[sale])
        try:
            rpc.call('wizard.sale.point.sale.pay.execute', session, {
                    'payment': {
                        'method': chain['method'], 'amount': decimal(300)},
                    }, 'pay', context)
        except RPCError as error:
            if 'UserError' in str(error):
                stats.add('pos_refused')
                return
            raise
        sold.append(sale)
        time.sleep(0.2)


def test_faults(cluster, fake, chain, layout):
    "Kill every kind of process and restart PostgreSQL during the load"
    pg_dir, uri = cluster
    stats = Stats()
    mall = Mall(layout, fake, chain, stats)
    rpc = RPC(stats, layout.url, 'clerk', CLERK_PASSWORD)
    pos_sold = []
    faults = {}

    def inject():
        time.sleep(2)
        # The backup drill while the buyers buy
        drill = subprocess.run([str(BIN / 'python'),
                str(ROOT / 'tools' / 'backup_drill.py'), DATABASE,
                '--target', RESTORED,
                '--backup', str(pg_dir.parent / 'backup.dump')],
            env=dict(os.environ, TRYTOND_DATABASE_URI=uri),
            capture_output=True, text=True)
        faults['drill'] = drill
        victim = layout.web_workers()[0]
        os.kill(victim, signal.SIGKILL)
        faults['web'] = victim
        time.sleep(3)
        os.kill(layout.pid('worker'), signal.SIGKILL)
        faults['worker'] = True
        time.sleep(3)
        os.kill(layout.pid('cron'), signal.SIGKILL)
        faults['cron'] = True
        time.sleep(3)
        started = time.monotonic()
        restart_postgresql(pg_dir)
        faults['restart'] = time.monotonic()
        faults['restart_seconds'] = faults['restart'] - started
        faults['ready'] = layout.ready()

    # One after the other: each phone code is used once, and a binding
    # that the database refused under contention would need a new one
    tokens = [mall.login(i) for i in range(BUYERS)]
    began = time.monotonic()
    with ThreadPoolExecutor(BUYERS + 2) as executor:
        fault = executor.submit(inject)
        buyers = [executor.submit(mall.buyer, i, token)
            for i, token in enumerate(tokens)]
        pos = executor.submit(till, rpc, chain, stats, pos_sold)
        for future in [fault, *buyers, pos]:
            future.result(timeout=300)
    load_seconds = time.monotonic() - began
    after = [t for t in stats.successes if t > faults['restart']]
    recovery = (min(after) - faults['restart']) if after else None
    print(f"load {load_seconds:.1f} s: {dict(stats.counts)}, "
        f"statuses {dict(stats.statuses)}, "
        f"{len(stats.dropped)} RPC answered 503 while PostgreSQL was down, "
        f"PostgreSQL restart {faults['restart_seconds']:.1f} s, "
        f"ready {faults['ready']:.1f} s after it, "
        f"first success {recovery:.2f} s after it, "
        f"{len(mall.orders)} orders, {len(mall.handed_over)} handed over, "
        f"{len(pos_sold)} POS sales, {mall.out_of_stock} out of stock")
    print(faults['drill'].stdout)
    assert faults['drill'].returncode == 0, (
        faults['drill'].stdout, faults['drill'].stderr)
    assert not stats.errors, stats.errors
    # A connection is lost only while PostgreSQL restarts
    down = (faults['restart'] - faults['restart_seconds'],
        faults['restart'] + faults['ready'])
    assert all(sent < down[1] and received > down[0]
        for _, sent, received in stats.dropped), (down, stats.dropped)
    assert stats.counts['failed'] == 0
    check(uri, mall, pos_sold, layout)
    check_restored(uri, mall)


def sql(uri, query, *params, database=DATABASE):
    with psycopg.connect(uri + database) as conn:
        return conn.execute(query, params).fetchall()


def check_restored(uri, mall):
    "The figures of the backup hold, as of its moment"
    def restored(query, *params):
        return sql(uri, query, *params, database=RESTORED)
    # Each payment the backup holds as paid has its order paid
    states = restored("SELECT s.pickup_state FROM web_shop_mp_payment p "
        "JOIN sale_sale s ON p.sale = s.id WHERE p.state = 'paid'")
    assert {s for s, in states} <= {'paid', 'ready', 'picked_up'}, states
    (sold,), = restored(SOLD, mall.chain['tea'])
    (reserved,), = restored(RESERVED, mall.chain['tea'])
    assert sold + reserved <= STOCK, (sold, reserved)
    assert not restored(NEGATIVE_POINTS)


# The units of the product gone to customers, and those still held
SOLD = ("SELECT COALESCE(SUM(internal_quantity), 0) "
    "FROM stock_move m JOIN stock_location l ON m.to_location = l.id "
    "WHERE l.type = 'customer' AND m.state = 'done' AND m.product = %s")
RESERVED = ("SELECT COALESCE(SUM(quantity), 0) FROM stock_reservation "
    "WHERE state IN ('held', 'confirmed') AND product = %s")
NEGATIVE_POINTS = ("SELECT member, SUM(points) FROM member_points_entry "
    "GROUP BY member HAVING SUM(points) < 0")


def check(uri, mall, pos_sold, layout):
    # Every notification acknowledged is a payment processed once
    payments = dict(sql(uri,
            'SELECT out_trade_no, state FROM web_shop_mp_payment'))
    assert set(mall.acknowledged) <= set(payments)
    assert {payments[o] for o in mall.acknowledged} == {'paid'}
    # No paid order lost: each is handed over, once
    orders = dict(sql(uri, 'SELECT id, pickup_state FROM sale_sale '
            'WHERE id = ANY(%s)', list(mall.orders.values())))
    assert set(orders) == set(mall.orders.values())
    assert set(orders.values()) == {'picked_up'}, orders
    # No unit oversold: what left the shelf and what is still reserved
    (sold,), = sql(uri, SOLD, mall.chain['tea'])
    (reserved,), = sql(uri, RESERVED, mall.chain['tea'])
    assert sold + reserved <= STOCK, (sold, reserved)
    # Points and coupons spent once
    twice = sql(uri, "SELECT origin, type, COUNT(*) FROM member_points_entry "
        "WHERE origin IS NOT NULL GROUP BY origin, type HAVING COUNT(*) > 1")
    assert not twice, twice
    negative = sql(uri, NEGATIVE_POINTS)
    assert not negative, negative
    twice = sql(uri, "SELECT number, COUNT(*) "
        "FROM sale_promotion_coupon_redemption WHERE state = 'done' "
        "GROUP BY number HAVING COUNT(*) > 1")
    assert not twice, twice
    # Every queued task has run, or a copy of it that trytond's worker
    # queued when it gave the task up on a database error
    # (those of the killed worker once the cron puts them back: it runs
    # each minute here)
    deadline = time.monotonic() + REQUEUE_AFTER + 120
    while sql(uri, UNFINISHED_TASKS):
        assert time.monotonic() < deadline, sql(uri, UNFINISHED_TASKS)
        time.sleep(1)
    (tasks,), = sql(uri, 'SELECT COUNT(*) FROM ir_queue')
    (coupons,), = sql(uri, "SELECT COUNT(*) "
        "FROM sale_promotion_coupon_redemption WHERE state = 'done'")
    (points,), = sql(uri, "SELECT COUNT(*) FROM member_points_entry "
        "WHERE type = 'redeem'")
    # The counters agree with the documents, but where a change that
    # lowered availability was applied and its undo lost with a killed
    # process or connection: short, as designed, until the cron repairs it
    drifts = reconcile(uri)
    assert all(d['on_hand'] <= d['expected_on_hand']
        and d['reserved'] >= d['expected_reserved'] for d in drifts), drifts
    repair_seconds = repair_by_cron(uri, layout) if drifts else 0
    print(f"{len(mall.acknowledged)} payments acknowledged, "
        f"{sum(mall.acknowledged.values())} notifications answered 2xx, "
        f"{coupons} coupons and {points} points redemptions, "
        f"{sold} units to customers, {reserved} held, {tasks} queue tasks "
        f"run, {len(drifts)} counters short, repaired by the cron in "
        f"{repair_seconds:.1f} s")
    assert not reconcile(uri)
    short = sql(uri, "SELECT product, location FROM stock_availability "
        "WHERE on_hand < 0 OR on_hand < reserved")
    assert not short, short


def repair_by_cron(uri, layout):
    """Make the cron that repairs the counters due, as Run Once does, and
    wait until trytond-cron has run it; return the seconds"""
    started = time.monotonic()
    since = len(layout.log.read_text().splitlines())
    sql(uri, "UPDATE ir_cron SET next_call = NOW() AT TIME ZONE 'UTC' "
        "WHERE method = 'stock.availability|repair' RETURNING id")
    while not any('stock counter repaired' in line
            for line in layout.log.read_text().splitlines()[since:]):
        assert time.monotonic() - started < 150, "the cron did not repair"
        time.sleep(1)
    return time.monotonic() - started


def reconcile(uri, *args):
    result = subprocess.run(
        [str(BIN / 'python'), str(ROOT / 'tools' / 'reconcile_stock.py'),
            '-d', DATABASE, *args],
        env=dict(os.environ, TRYTOND_DATABASE_URI=uri),
        capture_output=True, text=True)
    assert result.returncode in {0, 1}, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]
