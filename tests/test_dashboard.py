# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The owner's phone dashboard in headless Chromium, on the demo database
that `make run` serves: log in, read the KPI cards, check them against the
database, switch the store and keep screenshots in var/test-artifacts."""
import base64
import datetime
import json
import os
import pathlib
import sys
import urllib.error
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

# The demo server and the browser of the smoke test
sys.path.insert(0, str(pathlib.Path(__file__).parent))
from test_run_smoke import ROOT, RPC, browser, server  # noqa: F401

ADMIN = ('admin', 'admin-omni-2026')
ARTIFACTS = ROOT / 'var' / 'test-artifacts'
PHONE_WIDTH = 412
OPEN_RESERVATIONS = ['held', 'confirmed']

pytestmark = pytest.mark.skipif(
    os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="the dashboard is tested on the SQLite demo of make run")


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
        lines = rpc('model.omni.insights.line.search_read',
            [('store', '=', store)] if store else [], 0, None, None,
            ['revenue'], {**context, 'from_date': rpc_date(from_date),
                'to_date': rpc_date(today)})
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
def demo(server):  # noqa: F811
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


def test_dashboard_figures(server, demo, browser):  # noqa: F811
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


def test_dashboard_access(server, demo):  # noqa: F811
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
