# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The mall end to end on PostgreSQL: a real HTTP server serves trytond's
WSGI application, members log in and order over HTTP as the mini-program
does, and the fake WeChat Pay posts its notifications to the server over
HTTP. Only the crons run in process, through ir.cron as the scheduler
runs them; the database is read to check the figures.

The tea-shop flash sale: 20 members try at the same time to buy 1 of a
tea of which one store has 5 boxes.
"""
import datetime
import os
import secrets
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.wsgi import app
from werkzeug.serving import make_server

from trytond.modules.omni_inventory_bridge.tests.tools import (
    create_tea_company,
    run,
)
from trytond.modules.omni_miniprogram.tests.fake_wechat import FakeWeChat
from trytond.modules.omni_miniprogram.tests.tools import (
    create_catalog,
    create_mall,
    create_teas,
    put_stock,
)

pytestmark = pytest.mark.skipif(
    not os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="concurrent checkouts need PostgreSQL (TRYTOND_DATABASE_URI)")

FLASH_BUYERS = 20
FLASH_STOCK = 5
# The buyers share one server process: an order is ~1.3 s of Python, so 20
# at once on a loaded 2-core runner can wait well over a minute.
HTTP_TIMEOUT = 300
MEMBER_MOBILE = '13800138000'
CRONS = [
    'stock.reservation|release_expired',
    'web.shop.mp_payment|check_pending',
    'sale.refund|send_pending',
    ]


class Mall:
    "The server, the fake WeChat and the ids of what the set-up created"

    def __init__(self, url, fake, ids):
        self.url = url
        self.fake = fake
        self.__dict__.update(ids)

    def api(self, method, path, token=None, key=None, **kwargs):
        headers = {}
        if token:
            headers['Authorization'] = 'Bearer ' + token
        if key:
            headers['Idempotency-Key'] = key
        return requests.request(
            method, '%s/%s/omni/mp/v1%s' % (self.url, DB_NAME, path),
            headers=headers, timeout=HTTP_TIMEOUT, **kwargs)

    def login(self, openid, mobile):
        "Log in with a wx.login code and bind the phone; return the token"
        code, phone_code = secrets.token_hex(8), secrets.token_hex(8)
        self.fake.add_login(code, openid)
        self.fake.add_phone_code(phone_code, '+86 ' + mobile)
        response = self.api(
            'POST', '/login', json={'shop': self.shop, 'code': code})
        assert response.status_code == 200, response.text
        token = response.json()['token']
        response = self.api(
            'POST', '/me/phone', token, json={'code': phone_code})
        assert response.status_code == 200, response.text
        return token

    def order(self, token, cart):
        return self.api(
            'POST', '/orders', token, key=secrets.token_hex(8), json=cart)

    def get_order(self, token, order_id):
        response = self.api('GET', '/orders/%s' % order_id, token)
        assert response.status_code == 200, response.text
        return response.json()

    def figures(self, product, store):
        "(on hand, reserved, available) of the product at the store"
        def get():
            Availability = Pool().get('stock.availability')
            return Availability.get([product], [store])[product, store]
        return run({}, get)

    def run_cron(self, method):
        "Run the ir.cron of the method as the scheduler runs it"
        def run_once():
            Cron = Pool().get('ir.cron')
            Cron.run_once(Cron.search([('method', '=', method)]))
        run({'_skip_warnings': True, '_cron': method}, run_once)


def create_shop(url, fake, company_id):
    """Create the mall of the fake WeChat, notified at url, its member,
    catalog and flash sale tea; return their ids"""
    pool = Pool()
    Company = pool.get('company.company')
    Cron = pool.get('ir.cron')
    Party = pool.get('party.party')
    Shop = pool.get('web.shop')
    shop = Shop(name="Tea Mall", wechat_notify_url=url, **fake.shop_values())
    shop.save()
    member = Party.register_member(MEMBER_MOBILE, "张伟", 'mall')
    tea, _, stores = create_catalog(shop)
    flash, = create_teas(["2008 易武 闪购"], shop.categories[0])
    put_stock(flash, stores[1], FLASH_STOCK)
    shop.products += (flash,)
    shop.save()
    coupon = create_mall(Company(company_id), [tea, flash], member)
    # The crons run for the company, as its administrator sets them
    Cron.write(Cron.search([('method', 'in', CRONS)]), {
            'companies': [('add', [company_id])]})
    return {
        'shop': shop.id, 'tea': tea.id, 'flash': flash.id,
        'stores': [s.id for s in stores], 'coupon': coupon.id,
        'member': member.id}


@pytest.fixture(scope='module')
def mall():
    activate_module('omni_insights')
    server = make_server('127.0.0.1', 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = 'http://127.0.0.1:%s' % server.server_port
    context = create_tea_company()
    with FakeWeChat() as fake:
        ids = run(context, lambda: create_shop(url, fake, context['company']))
        yield Mall(url, fake, ids)
    server.shutdown()
    drop_db()


def test_flash_sale(mall):
    "Of 20 members buying at once 5 get the 5 boxes, the others a 409"
    store = mall.stores[1]
    tokens = [mall.login('o-flash-%s' % i, '1390000%04d' % i)
        for i in range(FLASH_BUYERS)]
    cart = {
        'items': [{'product': mall.flash, 'quantity': 1}],
        'fulfilment': 'pickup', 'store': store}
    start = threading.Barrier(FLASH_BUYERS)

    def buy(token):
        start.wait(timeout=60)
        return mall.order(token, cart)

    with ThreadPoolExecutor(FLASH_BUYERS) as executor:
        responses = list(executor.map(buy, tokens))

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: FLASH_STOCK, 409: FLASH_BUYERS - FLASH_STOCK}, (
        responses[0].text)
    assert {r.json()['code'] for r in responses
        if r.status_code == 409} == {'out_of_stock'}
    assert mall.figures(mall.flash, store) == (FLASH_STOCK, FLASH_STOCK, 0)

    orders = [(token, r.json())
        for token, r in zip(tokens, responses, strict=True)
        if r.status_code == 201]
    for _, data in orders:
        notification = mall.fake.pay(mall.fake.out_trade_no(data['payment']))
        assert notification.status == 204
    assert [mall.get_order(token, data['order']['id'])['status']
        for token, data in orders] == ['paid'] * FLASH_STOCK
    on_hand, reserved, available = mall.figures(mall.flash, store)
    assert (on_hand, reserved, available) == (FLASH_STOCK, FLASH_STOCK, 0)
    assert reserved - on_hand <= 0

    def check():
        pool = Pool()
        Availability = pool.get('stock.availability')
        Sale = pool.get('sale.sale')
        sales = Sale.search([('lines.product', '=', mall.flash)])
        assert len(sales) == FLASH_STOCK
        assert [p.state for s in sales for p in s.mp_payments] == (
            ['paid'] * FLASH_STOCK)
        assert [r.state for r in Sale.pickup_reservations(sales)] == (
            ['confirmed'] * FLASH_STOCK)
        assert Availability.reconcile() == []
    run({}, check)


def points_balance(mall):
    def balance():
        pool = Pool()
        Entry = pool.get('member.points.entry')
        Party = pool.get('party.party')
        return Entry.balance(Party(mall.member))
    return run({}, balance)


def claim_coupon(mall, token):
    response = mall.api('POST', '/coupons/%s/claim' % mall.coupon, token)
    assert response.status_code == 200, response.text
    return response.json()['number']


def all_figures(mall):
    return [mall.figures(mall.tea, s) for s in mall.stores]


def refund(mall, token, data, amount):
    "Cancel the paid order, check what WeChat Pay refunds and succeed it"
    order_id = data['order']['id']
    out_trade_no = mall.fake.out_trade_no(data['payment'])
    response = mall.api('POST', '/orders/%s/cancel' % order_id, token)
    assert response.status_code == 200, response.text
    assert response.json()['status'] == 'refunding'
    wechat_refund, = [
        r for r in mall.fake.refunds.values()
        if r['out_trade_no'] == out_trade_no]
    assert wechat_refund['amount']['refund'] == amount
    notification = mall.fake.refund_succeeded(wechat_refund['out_refund_no'])
    assert notification.status == 204
    order = mall.get_order(token, order_id)
    assert order['status'] == 'refunded'
    assert not order['can_cancel']


def test_pickup_checkout(mall):
    "A pickup order with tier, pickup discount, coupon and points, refunded"
    token = mall.login('o-member', MEMBER_MOBILE)
    before, balance = all_figures(mall), points_balance(mall)
    cart = {
        'items': [{'product': mall.tea, 'quantity': 1}],
        'fulfilment': 'pickup', 'store': mall.stores[0],
        'coupon': claim_coupon(mall, token), 'points': 1000}
    response = mall.api('POST', '/checkout/preview', token, json=cart)
    assert response.status_code == 200, response.text
    quote = response.json()
    # 300 at gold -5% = 285, pickup -10% = 256.50, coupon -20,
    # 1000 points = 10 yuan
    assert quote['totals'] == {
        'goods': '300.00', 'tier_discount': '15.00',
        'pickup_discount': '28.50', 'coupon_discount': '20.00',
        'points': 1000, 'points_value': '10.00', 'total': '226.50'}

    response = mall.order(token, cart)
    assert response.status_code == 201, response.text
    data = response.json()
    assert data['order']['totals'] == quote['totals']
    out_trade_no = mall.fake.out_trade_no(data['payment'])
    assert mall.fake.orders[out_trade_no]['amount']['total'] == 22650
    notification = mall.fake.pay(out_trade_no)
    assert notification.status == 204
    # WeChat Pay repeats a notification until it gets an answer
    assert mall.fake.deliver(notification).status == 204
    order = mall.get_order(token, data['order']['id'])
    assert order['status'] == 'paid'
    assert order['pickup']['code'].isdigit()
    assert points_balance(mall) == balance - 1000
    assert mall.figures(mall.tea, mall.stores[0])[2] == before[0][2] - 1

    refund(mall, token, data, 22650)
    assert all_figures(mall) == before
    # the 1000 points come back, nothing was earned
    assert points_balance(mall) == balance


def test_delivery_checkout(mall):
    "A delivery order with tier, coupon and points, paid then refunded"
    token = mall.login('o-member', MEMBER_MOBILE)
    before, balance = all_figures(mall), points_balance(mall)
    code = claim_coupon(mall, token)
    response = mall.order(token, {
            'items': [{'product': mall.tea, 'quantity': 1}],
            'fulfilment': 'delivery', 'coupon': code, 'points': 500,
            'address': {
                'name': "张伟", 'phone': MEMBER_MOBILE,
                'region': "浙江省杭州市", 'street': "文三路 90 号",
                'latitude': 30.28, 'longitude': 120.12}})
    assert response.status_code == 201, response.text
    data = response.json()
    # 285 at gold, coupon -20, 500 points -5
    assert data['order']['totals']['total'] == '260.00'
    assert mall.fake.pay(
        mall.fake.out_trade_no(data['payment'])).status == 204
    order = mall.get_order(token, data['order']['id'])
    assert order['status'] == 'paid'
    assert "文三路 90 号" in order['address']
    assert order['can_cancel']
    assert sum(f[2] for f in all_figures(mall)) == (
        sum(f[2] for f in before) - 1)
    # the order earns 1 point a yuan paid
    assert points_balance(mall) == balance - 500 + 260

    refund(mall, token, data, 26000)
    assert all_figures(mall) == before
    assert points_balance(mall) == balance


def lapse(mall, order_id):
    "Let the payment deadline of the order pass; the expiry cron runs"
    def expire():
        pool = Pool()
        Reservation = pool.get('stock.reservation')
        Sale = pool.get('sale.sale')
        past = datetime.datetime.now() - datetime.timedelta(minutes=1)
        Reservation.write(
            Sale.pickup_reservations([Sale(order_id)]),
            {'expires_at': past})
    run({}, expire)
    mall.run_cron('stock.reservation|release_expired')


def test_late_notification(mall):
    "Paid after the hold lapsed: held again, or refunded and flagged"
    token = mall.login('o-member', MEMBER_MOBILE)
    store = mall.stores[0]
    on_hand, _, available = mall.figures(mall.tea, store)
    cart = {
        'items': [{'product': mall.tea, 'quantity': available}],
        'fulfilment': 'pickup', 'store': store}
    first = mall.order(token, cart).json()
    lapse(mall, first['order']['id'])
    # the first order's boxes went back, the second takes them
    second = mall.order(token, cart).json()
    lapse(mall, second['order']['id'])
    assert mall.figures(mall.tea, store)[2] == available

    assert mall.fake.pay(
        mall.fake.out_trade_no(first['payment'])).status == 204
    assert mall.get_order(token, first['order']['id'])['status'] == 'paid'
    second_no = mall.fake.out_trade_no(second['payment'])
    assert mall.fake.pay(second_no).status == 204
    assert mall.get_order(token, second['order']['id'])['status'] == (
        'refunding')
    assert mall.figures(mall.tea, store) == (on_hand, available, 0)

    mall.run_cron('sale.refund|send_pending')
    wechat_refund, = [
        r for r in mall.fake.refunds.values()
        if r['out_trade_no'] == second_no]
    # 285 at gold, pickup -10% = 256.50 a box
    assert wechat_refund['amount']['refund'] == 25650 * available

    def flagged():
        return Pool().get('sale.sale')(second['order']['id']).mp_flagged
    assert run({}, flagged)
    refund(mall, token, first, 25650 * available)


def test_lost_notification(mall):
    "The query cron pays what WeChat Pay never told and closes the rest"
    token = mall.login('o-member', MEMBER_MOBILE)
    store = mall.stores[1]
    cart = {
        'items': [{'product': mall.tea, 'quantity': 1}],
        'fulfilment': 'pickup', 'store': store}
    paid, unpaid = [mall.order(token, cart).json() for _ in range(2)]
    paid_no = mall.fake.out_trade_no(paid['payment'])
    unpaid_no = mall.fake.out_trade_no(unpaid['payment'])
    mall.fake.pay(paid_no, deliver=False)
    before = mall.figures(mall.tea, store)

    def expire():
        Payment = Pool().get('web.shop.mp_payment')
        past = datetime.datetime.now() - datetime.timedelta(minutes=1)
        Payment.write(Payment.search([
                    ('out_trade_no', 'in', [paid_no, unpaid_no])]),
            {'expires_at': past})
    run({}, expire)
    mall.run_cron('web.shop.mp_payment|check_pending')
    mall.run_cron('web.shop.mp_payment|check_pending')

    assert mall.get_order(token, paid['order']['id'])['status'] == 'paid'
    assert mall.get_order(token, unpaid['order']['id'])['status'] == (
        'cancelled')
    assert mall.fake.orders[unpaid_no]['trade_state'] == 'CLOSED'
    assert mall.figures(mall.tea, store)[2] == before[2] + 1
