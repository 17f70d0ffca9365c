# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Smoke test of `make run`: build the demo database the way it does, serve
it with trytond and use it as the web client, a clerk and the owner on the
phone dashboard would (screenshots in var/test-artifacts); every screen of
every role (web_screens.py) runs here too, on the same server."""
import base64
import datetime
import io
import json
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import mall_recording
import pytest
from demo_site import ARTIFACTS, ROOT, RPC, mall_api
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait
from web_screens import screens, test_every_screen  # noqa: F401

from trytond.modules.omni_miniprogram.api import (
    OPENAPI,
    ApiError,
    resolve,
    validate,
)

OMNI_MODULES = [
    'omni_insights', 'omni_inventory_bridge', 'omni_member_hub',
    'omni_miniprogram', 'omni_o2o_pickup', 'omni_till']
CLERK_A = ('clerk_a', 'clerk-a-2026')

# `make run` serves the embedded SQLite database; the demo itself is loaded
# on PostgreSQL too, by test_demo.py
pytestmark = pytest.mark.skipif(
    os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="make run builds its demo on SQLite")


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
    "The six omni modules are activated and the API answers"
    url, name = server
    rpc = RPC(url, name)
    rpc.login(*CLERK_A)
    modules = rpc(
        'model.ir.module.search_read',
        [('name', 'like', 'omni_%'), ('state', '=', 'activated')],
        0, None, [('name', 'ASC')], ['name'], {})
    assert [m['name'] for m in modules] == OMNI_MODULES
    # The health check tells no one what the database runs
    with urllib.request.urlopen(
            f'{url}/{name}/omni/ops/v1/health', timeout=30) as response:
        assert json.load(response) == {'status': 'ok'}


# The owner's phone dashboard
ADMIN = ('admin', 'admin-omni-2026')
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
        lines = rpc('model.insights.line.search_read',
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

    # Logging out ends the session on the server: a copy of it is refused
    auth = browser.execute_script(
        "return sessionStorage.getItem(arguments[0])",
        f'omni-dashboard-session:{name}')
    assert data(url, name, auth)[0] == 200
    browser.find_element(By.ID, 'logout').click()
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
            "return document.body.dataset.state") == 'login')
    assert data(url, name, auth)[0] == 401


def test_dashboard_access(server, demo):
    """Without a session the data route answers 401, a clerk gets 403 and
    a store manager only the stores he is assigned"""
    url, name = server
    _, _, warehouses, _ = demo
    assert data(url, name)[0] == 401
    forged = base64.b64encode(b'admin:1:forged').decode()
    assert data(url, name, f'Session {forged}')[0] == 401

    clerk = RPC(url, name)
    clerk.login('clerk_b', 'clerk-b-2026')
    status, body = data(url, name, clerk.auth)
    assert (status, body['code']) == (403, 'forbidden')

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


def test_recorded_contract(server):
    """The mall API answers each operation the mini-program uses as the
    answers its jest tests replay (miniprogram/test/fixtures/recorded/):
    the same fields of the same types, valid for openapi.yaml.
    OMNI_RECORD=1 writes this run's answers there instead."""
    rpc = RPC(*server)
    rpc.login(*ADMIN)
    recordings = mall_recording.record(server, rpc)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if os.environ.get('OMNI_RECORD') == '1':
        target = mall_recording.RECORDED
        for old in target.glob('*.json'):
            old.unlink()
    else:
        target = ARTIFACTS / 'recorded'
    target.mkdir(parents=True, exist_ok=True)
    for name, recording in recordings.items():
        (target / f'{name}.json').write_text(json.dumps(
                recording, ensure_ascii=False, indent=2) + '\n')
    committed = {p.stem: json.loads(p.read_text())
        for p in mall_recording.RECORDED.glob('*.json')}
    assert sorted(committed) == sorted(recordings)
    changed = {
        name: list(mall_recording.differences(
                mall_recording.shape(committed[name]),
                mall_recording.shape(recording)))
        for name, recording in recordings.items()}
    changed = {k: v for k, v in changed.items() if v}
    assert not changed, (
        f"The mall API's answers changed shape: {changed}. Fix the server, "
        "or record them again with OMNI_RECORD=1 and make the mini-program "
        "follow (cd miniprogram && npx jest)")
    for name, recording in recordings.items():
        assert check_answer(recording) is None, name
    # The cancelled order's refund is what was paid, taxes included
    order = recordings['order_cancel_refunding']['body']
    refund, = rpc('model.sale.refund.search_read',
        [('sale', '=', order['id'])], 0, None, None, ['amount'], {})
    assert refund['amount']['decimal'] == order['totals']['total']


def check_answer(recording):
    "Return why the recorded answer is not one openapi.yaml describes"
    method, path = recording['operation'].split(' ')
    answers = OPENAPI['paths'][path][method.lower()]['responses']
    answer = resolve(answers[str(recording['status'])])
    try:
        validate(recording['body'],
            answer['content']['application/json']['schema'])
    except ApiError as error:
        return error.details


# The staff's stories clicked in the web client: they run last, as they
# change the demo that the tests above read
from web_stories import (  # noqa: E402, F401
    test_story_1_pos_sale,
    test_story_2_pickup_handover,
    test_story_3_endless_aisle,
    test_story_4_stock_override,
    test_story_5_insights,
)
from web_till import (  # noqa: E402, F401
    test_till_attacks,
    test_till_cash_sale,
    test_till_manager_override,
    test_till_member_sale,
    test_till_no_stock_endless_aisle,
    test_till_pickup,
    test_till_reload,
    test_till_return,
)


def test_demo_mall(server):
    """The demo's mall answers the mini-program as `make run` serves it: its
    shop's catalog with nearby stock, a login and a phone through the fake
    WeChat, and a pickup order at 西湖店 that the fake WeChat pays"""
    rpc = RPC(*server)
    rpc.login(*ADMIN)
    shop, = rpc('model.web.shop.search', [('name', '=', '小程序商城')],
        0, None, None, {})
    store, = rpc('model.stock.location.search', [('code', '=', 'SA')],
        0, None, None, {})
    products = mall_api(server, '/catalog/products?' + urllib.parse.urlencode(
            {'shop': shop, 'lat': 30.2592, 'lon': 120.1487, 'q': "冻顶"}))
    tea, = products['items']
    assert (tea['name'], tea['nearby_stock']) == ("冻顶乌龙", True)
    # Its tin, drawn when the demo was built, shows without a session
    with urllib.request.urlopen(
            f'{server.url}/{server.name}/omni/mp/v1{tea["thumbnail"]}',
            timeout=60) as response:
        assert response.headers['Content-Type'] == 'image/jpeg'
        picture = Image.open(io.BytesIO(response.read()))
    assert (picture.format, picture.size) == ('JPEG', (250, 250))

    session = mall_api(server, '/login', {'shop': shop, 'code': 'walk-1'})
    assert session['member'] is False
    token = session['token']
    me = mall_api(server, '/me/phone', {'code': 'phone-13900139123'}, token)
    assert me['member']['mobile'].endswith('9123')

    answer = mall_api(server, '/orders', {
            'items': [{'product': tea['id'], 'quantity': 1}],
            'fulfilment': 'pickup', 'store': store,
            }, token, key=secrets.token_hex(8))
    order = answer['order']
    assert answer['payment']['package'].startswith('prepay_id=')
    deadline = time.monotonic() + 30
    while order['status'] != 'paid' and time.monotonic() < deadline:
        time.sleep(0.5)
        order = mall_api(server, f"/orders/{order['id']}", token=token)
    assert order['status'] == 'paid'


def test_mall_walkthrough(server):
    """`make mall-demo`'s walk-through shops end to end with the
    mini-program's API client in node: 张伟 orders the last 2019 老班章 at
    西湖店, the fake WeChat pays, the till hands it over"""
    rpc = RPC(*server)
    rpc.login(*ADMIN)
    shop, = rpc('model.web.shop.search', [('name', '=', '小程序商城')],
        0, None, None, {})
    walk = subprocess.run([
            'node', str(ROOT / 'miniprogram' / 'tools' / 'walkthrough.js'),
            '--base', server.url, '--database', server.name,
            '--shop', str(shop)],
        capture_output=True, text=True, timeout=300)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / 'mall-walkthrough.txt').write_text(walk.stdout)
    assert walk.returncode == 0, walk.stdout + walk.stderr
    assert "张伟" in walk.stdout
    assert "附近门店有货" in walk.stdout
    assert "完成 / Done" in walk.stdout
    orders = rpc('model.sale.sale.search_read', [
            ('party.name', '=', '张伟'), ('pickup_state', '=', 'picked_up'),
            ('pickup_store.code', '=', 'SA')],
        0, None, None, ['number'], {})
    assert orders


def test_make_run_again(server):
    """After the stories and the walk-through played on the demo, `make run`
    serves it again, and its banner says what it finds (its time is
    printed; under load it varies, so only a hang fails)"""
    rpc = RPC(*server)
    rpc.login(*ADMIN)
    waiting = rpc('model.sale.sale.search_count', [
            ('party.name', '=', '李娜'), ('pickup_state', '=', 'ready')],
        0, None, {})
    with server.make_run() as (url, output, elapsed):
        banner = output.read_text()
    print(f"`make run` answered again after {elapsed:.1f} s")
    assert elapsed <= 120, (elapsed, banner)
    assert "Demo logins:" in banner
    assert f"Mall API: {url}/{server.name}/omni/mp/v1/" in banner
    if waiting:
        assert "Pickup code of 李娜's order" in banner, banner
    else:
        assert "`make demo-reset`" in banner, banner
