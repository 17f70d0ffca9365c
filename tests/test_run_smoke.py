# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Smoke test of `make run`: build the demo database the way it does, serve
it with trytond and use it as the web client, a clerk and the owner on the
phone dashboard would (screenshots in var/test-artifacts)."""
import base64
import datetime
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent
WEB_ROOT = ROOT / 'var' / 'www'
OMNI_MODULES = [
    'omni_insights', 'omni_inventory_bridge', 'omni_member_hub',
    'omni_miniprogram', 'omni_o2o_pickup']
CLERK_A = ('clerk_a', 'clerk-a-2026')

# `make run` serves the embedded SQLite database; the demo itself is loaded
# on PostgreSQL too, by test_demo.py
pytestmark = pytest.mark.skipif(
    os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="make run builds its demo on SQLite")


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_for_port(port, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"trytond exited with {process.returncode}")
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"trytond did not listen on {port}")


@pytest.fixture(scope='module')
def server():
    assert (WEB_ROOT / 'index.html').exists(), "run `make deps` first"
    uri = os.environ.get('TRYTOND_DATABASE_URI', 'sqlite://')
    tmp = pathlib.Path(tempfile.mkdtemp(prefix='omni-smoke-'))
    port = free_port()
    name = f'smoke_{uuid.uuid4().hex[:8]}'
    config = tmp / 'trytond.conf'
    config.write_text(
        f"[database]\npath = {tmp}\n"
        f"[web]\nlisten = 127.0.0.1:{port}\nroot = {WEB_ROOT}\n")
    env = {**os.environ, 'TRYTOND_DATABASE_URI': uri}
    env.pop('DB_NAME', None)
    env.pop('DB_CACHE', None)
    prepared = subprocess.run([
            str(BIN / 'python'), str(ROOT / 'tools' / 'omni_db.py'),
            '--config', str(config), '--database', name,
            '--state-dir', str(tmp)],
        env=env, check=True, timeout=900, capture_output=True, text=True)
    # The banner gives the code of the demo's paid pickup order
    assert re.search(
        r"Pickup code of 李娜's order \S+ at 西湖店: \d{10} ",
        prepared.stdout), prepared.stdout
    log = (tmp / 'trytond.log').open('w')
    process = subprocess.Popen([
            str(BIN / 'trytond'), '-c', str(config), '-d', name],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process)
        yield f'http://127.0.0.1:{port}', name
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        if uri.startswith('postgresql'):
            subprocess.run(
                [str(BIN / 'python'), '-c',
                    'import sys; from trytond import backend; '
                    'db = backend.Database().connect(); '
                    'c = db.get_connection(autocommit=True); '
                    'db.drop(c, sys.argv[1]); db.put_connection(c)', name],
                env=env, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


class RPC:
    "A JSON-RPC client speaking to trytond as sao does"

    def __init__(self, url, database):
        self.url = f'{url}/{database}/rpc/'
        self.auth = None
        self.ids = iter(range(1, 1000))

    def __call__(self, method, *params):
        request = urllib.request.Request(
            self.url,
            data=json.dumps({
                    'id': next(self.ids), 'method': method,
                    'params': list(params)}).encode(),
            headers={'Content-Type': 'application/json'})
        if self.auth:
            request.add_header('Authorization', self.auth)
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        assert 'error' not in answer, answer.get('error')
        return answer['result']

    def login(self, login, password):
        user_id, session, _ = self(
            'common.db.login', login, {'password': password}, 'zh_CN')
        token = base64.b64encode(
            f'{login}:{user_id}:{session}'.encode()).decode()
        self.auth = f'Session {token}'
        return user_id


@pytest.fixture
def browser():
    "Headless Chromium driven through chromedriver"
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which('chromium')
    profile = tempfile.mkdtemp(prefix='omni-chromium-')
    for argument in [
            '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
            '--disable-background-networking', '--disable-component-update',
            '--disable-sync', f'--user-data-dir={profile}',
            '--window-size=1280,900']:
        options.add_argument(argument)
    driver = webdriver.Chrome(
        service=Service(shutil.which('chromedriver')), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_web_client_store_stock(server, browser):
    "The Store A clerk logs into sao and sees 3 boxes of 老班章 at the store"
    url, name = server
    with urllib.request.urlopen(url + '/', timeout=30) as response:
        assert b'tryton-sao' in response.read()
    wait = WebDriverWait(browser, 60)

    def visible(xpath):
        return wait.until(EC.visibility_of_element_located((By.XPATH, xpath)))

    # The server may list other databases: name ours as a bookmark does.
    browser.get(f'{url}/#{name}')
    visible("//input[@id='login']").send_keys(CLERK_A[0], Keys.ENTER)
    visible("//input[@type='password']").send_keys(CLERK_A[1], Keys.ENTER)
    visible("//*[@id='menu']//*[@title='库存 ＆ 盘点']").click()
    visible("//*[@id='menu']//*[@title='本店库存']").click()
    row = visible("//tr[.//*[normalize-space(text())='2019 老班章']]")
    assert row.text.split('\n')[:3] == ['LBZ2019', '2019 老班章', '3']


def test_clerk_sees_store_stock(server):
    "The Store A clerk logs in and reads 老班章 stock per store"
    rpc = RPC(*server)
    rpc.login(*CLERK_A)
    context = rpc('model.res.user.get_preferences', True, {})
    warehouses = rpc(
        'model.stock.location.search_read',
        [('type', '=', 'warehouse')], 0, None, [('code', 'ASC')],
        ['code'], context)
    by_code = {w['code']: w['id'] for w in warehouses}
    assert context['warehouse'] == by_code['SA']

    def quantity(location_ids):
        product, = rpc(
            'model.product.product.search_read',
            [('code', '=', 'LBZ2019')], 0, None, None, ['quantity'],
            {**context, 'locations': location_ids, 'with_childs': True})
        return product['quantity']

    assert quantity([by_code['SA']]) == 3
    assert quantity(list(by_code.values())) == 10


def test_omni_modules_activated(server):
    "The five omni modules are activated and the API answers"
    url, name = server
    rpc = RPC(url, name)
    rpc.login(*CLERK_A)
    modules = rpc(
        'model.ir.module.search_read',
        [('name', 'like', 'omni_%'), ('state', '=', 'activated')],
        0, None, [('name', 'ASC')], ['name'], {})
    assert [m['name'] for m in modules] == OMNI_MODULES
    with urllib.request.urlopen(
            f'{url}/{name}/omni/v1/health', timeout=30) as response:
        assert json.load(response) == {
            'status': 'ok', 'modules': OMNI_MODULES}


# The owner's phone dashboard
ADMIN = ('admin', 'admin-omni-2026')
ARTIFACTS = ROOT / 'var' / 'test-artifacts'
PHONE_WIDTH = 412
OPEN_RESERVATIONS = ['held', 'confirmed']

def ids_by_code(rpc, model, domain, context):
    return {r['code']: r['id'] for r in rpc(
            f'model.{model}.search_read', domain, 0, None, None, ['code'],
            context)}


def group_id(rpc, name):
    "Return the id of the group of that English name"
    group, = rpc('model.res.group.search', [('name', '=', name)],
        0, None, None, {'language': 'en'})
    return group


def rpc_date(date):
    "Return the date as Tryton's JSON-RPC encodes it"
    return {'__class__': 'date', 'year': date.year, 'month': date.month,
        'day': date.day}


def expected_figures(rpc, context, today, store=None):
    "Read the dashboard's figures from the records"
    monday = today - datetime.timedelta(days=today.weekday())

    def revenue(from_date):
        domain = [
            ('company', '=', context['company']),
            ('date', '>=', rpc_date(from_date)),
            ('date', '<=', rpc_date(today)),
            ]
        if store:
            domain.append(('store', '=', store))
        lines = rpc('model.omni.insights.line.search_read',
            domain, 0, None, None, ['revenue'], context)
        return round(sum(float(line['revenue']['decimal'])
                for line in lines), 2)

    shelf = [('location', 'child_of', [store], 'parent')] if store else []
    pickup_store = [('pickup_store', '=', store)] if store else []
    pickups = {state: rpc('model.sale.sale.search_count',
            [('pickup_state', '=', state)] + pickup_store, 0, None, context)
        for state in ['paid', 'ready']}
    if store:
        statistics = rpc(
            'model.sale.promotion.coupon.statistic.store.search_read',
            [('store', '=', store)], 0, None, None, ['issued', 'redeemed'],
            context)
    else:
        statistics = rpc('model.sale.promotion.coupon.statistic.search_read',
            [], 0, None, None, ['issued', 'redeemed'], context)
    return {
        'sales.today.total': revenue(today),
        'sales.week.total': revenue(monday),
        'reservations.open': rpc('model.stock.reservation.search_count',
            [('state', 'in', OPEN_RESERVATIONS)] + shelf, 0, None, context),
        'pickups.paid': pickups['paid'],
        'pickups.ready': pickups['ready'],
        'pickups.total': sum(pickups.values()),
        'coupons.issued': sum(s['issued'] for s in statistics),
        'coupons.redeemed': sum(s['redeemed'] for s in statistics),
        }


def kpis(driver):
    "Return {KPI key: number} read from the cards"
    return {e.get_attribute('data-kpi'): float(e.get_attribute('data-value'))
        for e in driver.find_elements(By.CSS_SELECTOR, '[data-kpi]')
        if e.get_attribute('data-value')}


def wait_ready(driver):
    WebDriverWait(driver, 60).until(lambda d: d.execute_script(
            "return document.body.dataset.state") == 'ready')


def screenshot(driver, name):
    "Save the whole page at a phone's width"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script(
        "return document.documentElement.scrollHeight")
    driver.set_window_size(PHONE_WIDTH, height + 120)
    driver.save_screenshot(str(ARTIFACTS / name))


def data(url, name, auth=None, store=None):
    "Return the status and JSON answer of the data route"
    request = urllib.request.Request(
        f'{url}/{name}/omni/dashboard/data'
        + (f'?store={store}' if store else ''))
    if auth:
        request.add_header('Authorization', auth)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture(scope='module')
def demo(server):
    """Add an internal order point above the stock of 冰岛古树 at 武林店
    and make the 西湖店 clerk a store manager; return the admin's RPC, its
    context, the warehouses by code and today"""
    rpc = RPC(*server)
    rpc.login(*ADMIN)
    context = rpc('model.res.user.get_preferences', True, {})
    warehouses = ids_by_code(
        rpc, 'stock.location', [('type', '=', 'warehouse')], context)
    storage = {
        code: rpc('model.stock.location.read', [warehouse],
            ['storage_location'], context)[0]['storage_location']
        for code, warehouse in warehouses.items()}
    product, = ids_by_code(
        rpc, 'product.product', [('code', '=', 'PE001')], context).values()
    rpc('model.stock.order_point.create', [{
                'product': product, 'type': 'internal',
                'location': storage['SB'],
                'provisioning_location': storage['CW'],
                'min_quantity': 5, 'target_quantity': 10,
                'company': context['company'],
                }], context)
    clerk, = rpc('model.res.user.search', [('login', '=', 'clerk_a')],
        0, None, None, context)
    rpc('model.res.user.write', [clerk], {'groups': [
                ('add', [group_id(rpc, "Omni Store Manager")])]}, context)
    today = rpc('model.ir.date.today', context)
    return rpc, context, warehouses, datetime.date(
        today['year'], today['month'], today['day'])


def test_dashboard_figures(server, demo, browser):
    """The owner logs in on a phone, reads the KPIs of every store and of
    西湖店 as the records give them and sees the five reports drawn"""
    url, name = server
    rpc, context, warehouses, today = demo
    browser.set_window_size(PHONE_WIDTH, 915)
    browser.get(f'{url}/{name}/omni/dashboard/')
    WebDriverWait(browser, 30).until(
        lambda d: d.find_element(By.ID, 'login').is_displayed())
    screenshot(browser, 'dashboard-login.png')
    browser.find_element(By.ID, 'login-name').send_keys(ADMIN[0])
    browser.find_element(By.ID, 'login-password').send_keys(ADMIN[1])
    browser.find_element(By.CSS_SELECTOR, '#login button').click()
    wait_ready(browser)

    shown = kpis(browser)
    for key, value in expected_figures(rpc, context, today).items():
        assert shown[key] == pytest.approx(value, abs=0.005), key
    assert shown['pickups.total'] >= 1
    assert shown['reservations.open'] >= 2
    assert shown['sales.week.total'] >= shown['sales.today.total']
    low_stock = browser.find_element(By.ID, 'low-stock-items').text
    assert "2018 冰岛古树生茶 357g（[SB] 武林店）可用 2" in low_stock
    assert shown['low_stock.count'] >= 1
    # The demo has rows in every report
    assert all(browser.execute_script(
            "return ['product_channel', 'category_channel', 'store',"
            " 'member_segment', 'inventory'].map("
            "n => Chart.getChart('chart-' + n).data.labels.length > 0)"))
    screenshot(browser, 'dashboard-all-stores.png')

    Select(browser.find_element(By.ID, 'store')).select_by_visible_text(
        "[SA] 西湖店")
    WebDriverWait(browser, 60).until(lambda d: d.execute_script(
            "return document.body.dataset.state === 'ready'"
            " && document.getElementById('store').value === arguments[0]",
            str(warehouses['SA'])))
    shown = kpis(browser)
    expected = expected_figures(rpc, context, today, warehouses['SA'])
    for key, value in expected.items():
        assert shown[key] == pytest.approx(value, abs=0.005), key
    # 李娜's paid pickup order waits at 西湖店
    assert shown['pickups.ready'] == 1
    assert "武林店" not in browser.find_element(
        By.ID, 'low-stock-items').text
    screenshot(browser, 'dashboard-store-sa.png')


def test_dashboard_access(server, demo):
    """Without a session the data route answers 401, a clerk gets 403 and
    a store manager only the store of his preferences"""
    url, name = server
    _, _, warehouses, _ = demo
    assert data(url, name)[0] == 401
    forged = base64.b64encode(b'admin:1:forged').decode()
    assert data(url, name, f'Session {forged}')[0] == 401

    clerk = RPC(url, name)
    clerk.login('clerk_b', 'clerk-b-2026')
    assert data(url, name, clerk.auth) == (403, {'code': 'forbidden'})

    manager = RPC(url, name)
    manager.login('clerk_a', 'clerk-a-2026')
    status, figures = data(url, name, manager.auth)
    assert status == 200
    assert figures['store'] == warehouses['SA']
    assert [s['id'] for s in figures['stores']] == [warehouses['SA']]
    assert data(url, name, manager.auth, warehouses['SB'])[0] == 403

    owner = RPC(url, name)
    owner.login(*ADMIN)
    status, figures = data(url, name, owner.auth)
    assert status == 200
    assert figures['store'] is None
    assert {s['id'] for s in figures['stores']} == set(warehouses.values())
