# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Record the mall API's answers to every operation the mini-program uses
(miniprogram/utils/api.js), and the errors its pages handle, on the tea
demo that `make run` serves: the mini-program's jest tests replay them
(miniprogram/test/fixtures/recorded/, one JSON file per answer).

The member is 刘洋, a store member no other test plays: he logs in with
WeChat, binds his phone, signs in, claims the 满100减20 coupon, orders 4
大益 7542 for pickup at 西湖店 with it and his points, pays and cancels.

Each file holds the operation as the OpenAPI document names it, the
request (method, path with its query, JSON body), the status and the JSON
body of the answer. What changes at every run is normalised:
- session tokens, WeChat Pay's signature, nonce and prepay id, the member
  code, the pickup code and the coupon number become fixed values of the
  same form;
- every date and date-time moves by whole days so that the recording's
  day is REFERENCE_DAY; the jest tests move them to the day they run.
Ids, numbers, names and amounts are the server's own.
"""
import datetime
import json
import re
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request

from demo_site import ROOT

RECORDED = ROOT / 'miniprogram' / 'test' / 'fixtures' / 'recorded'
REFERENCE_DAY = datetime.date(2026, 1, 1)
MEMBER_MOBILE = '13777152233'
# Near 西湖店
POSITION = {'lat': 30.2592, 'lon': 120.1487}
PRODUCT = 'PE002'
QUANTITY = 4
STORE = 'SA'
CAMPAIGN = "满100减20"
ADDRESS = {
    'name': "刘洋", 'phone': MEMBER_MOBILE, 'region': "浙江省 杭州市 上城区",
    'street': "解放路 18 号", 'postal_code': '310000'}

DATE = re.compile(
    r'^(\d{4}-\d{2}-\d{2})((?:T| )\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?'
    r'(?:Z|[+-]\d{2}:?\d{2})?)?$')
# {key: fixed value} of what changes at every run
FIXED = {
    'token': 'recorded-session-token',
    'paySign': 'recorded-pay-signature',
    'nonceStr': 'recordednonce',
    'package': 'prepay_id=recorded-prepay-id',
    }
MEMBER_CODE = '880000000000000017'
PICKUP_CODE = '4821365790'
COUPON_NUMBER = 'C0000000000A1'


class Mall:
    "The mall API of the demo server, as the mini-program calls it"

    def __init__(self, server, shop):
        self.server = server
        self.shop = shop
        self.token = None
        self.recordings = {}
        # {name: (status, answer)} of the answers of an unexpected status
        self.unexpected = {}

    def call(self, method, path, body=None, token=None, key=None,
            query=None):
        "Return the status and JSON answer"
        if query:
            path += '?' + urllib.parse.urlencode(query)
        request = urllib.request.Request(
            f'{self.server.url}/{self.server.name}/omni/mp/v1{path}',
            data=json.dumps(body).encode() if body is not None else None,
            method=method, headers={'Content-Type': 'application/json'})
        token = token or self.token
        if token:
            request.add_header('Authorization', f'Bearer {token}')
        if key:
            request.add_header('Idempotency-Key', key)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        return status, json.loads(text) if text else None, path

    def record(self, name, operation, method, path, body=None, status=200,
            **kwargs):
        """Call the operation (kwargs of call), check the status and keep
        the exchange as name; return the answer"""
        got, answer, full_path = self.call(method, path, body, **kwargs)
        if got != status:
            self.unexpected[name] = (got, answer)
        self.recordings[name] = {
            'operation': operation,
            'request': {'method': method, 'path': full_path, 'body': body},
            'status': got,
            'body': answer,
            }
        return answer


def shift(value, days):
    "Return the date or date-time string moved by days, else value"
    match = DATE.match(value) if isinstance(value, str) else None
    if not match:
        return value
    day = datetime.date.fromisoformat(match.group(1))
    return (day + datetime.timedelta(days=days)).isoformat() + (
        match.group(2) or '')


def normalise(value, days, key=None):
    "Return the answer with its volatile values fixed"
    if isinstance(value, dict):
        return {k: normalise(v, days, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, days) for v in value]
    if key in FIXED and isinstance(value, str):
        return FIXED[key]
    if key == 'timeStamp':
        return '1767225600'
    if isinstance(value, str) and re.fullmatch(r'\d{18}', value):
        return MEMBER_CODE
    if isinstance(value, str) and re.fullmatch(r'(OMNIPICKUP:)?\d{10}', value):
        return value[:-10] + PICKUP_CODE
    if isinstance(value, str) and re.fullmatch(r'C[0-9A-F]{12}', value):
        return COUPON_NUMBER
    return shift(value, days)


def record(server, rpc):
    """Play 刘洋's visit to the mall with the fake WeChat paying when told;
    return {name: recording} normalised"""
    shop, = rpc('model.web.shop.search', [('name', '=', '小程序商城')],
        0, None, None, {})
    store, = rpc('model.stock.location.search', [('code', '=', STORE)],
        0, None, None, {})
    product, = rpc('model.product.product.search', [('code', '=', PRODUCT)],
        0, None, None, {})
    mall = Mall(server, shop)
    wechat = server.wechat
    pay_delay, wechat.pay_delay = wechat.pay_delay, -1
    try:
        visit(mall, shop, store, product)
    finally:
        wechat.pay_delay = pay_delay
    assert not mall.unexpected, (
        mall.unexpected, server_errors(server))
    today = datetime.date.today()
    days = (REFERENCE_DAY - today).days
    return {name: normalise(recording, days)
        for name, recording in mall.recordings.items()}


def server_errors(server):
    "Return the tracebacks of the server's log"
    log = server.log.read_text() if server.log else ''
    return log[log.find('Traceback'):] if 'Traceback' in log else ''


def visit(mall, shop, store, product):
    "Play the visit, recording each answer the mini-program's pages read"
    wechat = mall.server.wechat
    catalog = dict(shop=shop, **POSITION)
    mall.record('categories', 'GET /catalog/categories', 'GET',
        '/catalog/categories', query={'shop': shop})
    mall.record('products', 'GET /catalog/products', 'GET',
        '/catalog/products', query=dict(catalog, page=1))
    mall.record('products_search', 'GET /catalog/products', 'GET',
        '/catalog/products', query=dict(catalog, q="龙井", page=1))
    mall.record('product', 'GET /catalog/products/{product}', 'GET',
        f'/catalog/products/{product}', query=catalog)
    mall.record('product_not_found', 'GET /catalog/products/{product}',
        'GET', '/catalog/products/999999', status=404,
        query={'shop': shop})

    code = 'record-liu-yang'
    login = mall.record('login', 'POST /login', 'POST', '/login',
        {'shop': shop, 'code': code})
    assert login['member'] is False, login
    mall.record('login_invalid_code', 'POST /login', 'POST', '/login',
        {'shop': shop, 'code': code}, status=401)
    mall.token = login['token']
    mall.record('me_unauthorized', 'GET /me', 'GET', '/me', status=401,
        token='expired-session')
    mall.record('me_guest', 'GET /me', 'GET', '/me')
    mall.record('member_code_phone_required', 'GET /me/code', 'GET',
        '/me/code', status=403)
    mall.record('me_phone', 'POST /me/phone', 'POST', '/me/phone',
        {'code': f'phone-{MEMBER_MOBILE}'})
    mall.record('member_code', 'GET /me/code', 'GET', '/me/code')
    mall.record('sign_in', 'POST /me/sign-in', 'POST', '/me/sign-in')
    mall.record('sign_in_again', 'POST /me/sign-in', 'POST', '/me/sign-in')
    mall.record('points_signed_in', 'GET /me/points', 'GET', '/me/points')

    coupons = mall.record('coupons', 'GET /coupons', 'GET', '/coupons')
    coupon, = [c['id'] for c in coupons['items'] if c['name'] == CAMPAIGN]
    claimed = mall.record('coupon_claim', 'POST /coupons/{coupon}/claim',
        'POST', f'/coupons/{coupon}/claim')
    mall.record('coupon_claim_limit', 'POST /coupons/{coupon}/claim',
        'POST', f'/coupons/{coupon}/claim', status=409)
    mall.record('my_coupons', 'GET /me/coupons', 'GET', '/me/coupons',
        query={'status': 'usable'})

    cart = {'items': [{'product': product, 'quantity': QUANTITY}],
        'fulfilment': 'pickup', 'store': store}
    mall.record('checkout_preview', 'POST /checkout/preview', 'POST',
        '/checkout/preview', cart)
    points = mall.recordings['points_signed_in']['body']['balance']
    discounted = dict(cart, coupon=claimed['number'], points=points)
    mall.record('checkout_preview_discounts', 'POST /checkout/preview',
        'POST', '/checkout/preview', discounted)
    mall.record('checkout_preview_delivery', 'POST /checkout/preview',
        'POST', '/checkout/preview', {
            'items': cart['items'], 'fulfilment': 'delivery',
            'address': ADDRESS})
    mall.record('order_out_of_stock', 'POST /orders', 'POST', '/orders',
        dict(cart, items=[{'product': product, 'quantity': 999}]),
        status=409, key=secrets.token_hex(8))

    key = secrets.token_hex(8)
    created = mall.record('order_created', 'POST /orders', 'POST', '/orders',
        discounted, status=201, key=key)
    mall.record('order_created_again', 'POST /orders', 'POST', '/orders',
        discounted, key=key)
    order = created['order']['id']
    mall.record('order_awaiting', 'GET /orders/{order}', 'GET',
        f'/orders/{order}')
    paying = mall.record('order_pay', 'POST /orders/{order}/pay', 'POST',
        f'/orders/{order}/pay')
    wechat.pay(wechat.out_trade_no(paying['payment']))
    deadline = time.monotonic() + 60
    while mall.call('GET', f'/orders/{order}')[1]['status'] not in {
            'paid', 'ready'}:
        assert time.monotonic() < deadline, "the payment was not notified"
        time.sleep(0.3)
    mall.record('order_pickup_ready', 'GET /orders/{order}', 'GET',
        f'/orders/{order}')
    mall.record('orders', 'GET /orders', 'GET', '/orders')
    mall.record('my_coupons_used', 'GET /me/coupons', 'GET', '/me/coupons',
        query={'status': 'used'})
    mall.record('me', 'GET /me', 'GET', '/me')
    mall.record('points', 'GET /me/points', 'GET', '/me/points')
    mall.record('tier', 'GET /me/tier', 'GET', '/me/tier')
    mall.record('product_member', 'GET /catalog/products/{product}', 'GET',
        f'/catalog/products/{product}', query=catalog)
    mall.record('order_cancel_refunding', 'POST /orders/{order}/cancel',
        'POST', f'/orders/{order}/cancel')
    # WeChat Pay refunds him, as it would have later
    for number, refund in list(wechat.refunds.items()):
        if refund['status'] == 'PROCESSING':
            wechat.refund_succeeded(number)


def shape(value):
    """Return the shape of a JSON value: the type of each field, lists by
    the union of their items' shapes"""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        merged = {}
        for item in map(shape, value):
            if isinstance(item, dict) and isinstance(merged, dict):
                for k, v in item.items():
                    merged.setdefault(k, v)
            else:
                merged = item
        return [merged] if value else []
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, (int, float)):
        return 'number'
    if value is None:
        return 'null'
    return 'string'


def differences(old, new, where=''):
    "Yield where the shapes old and new differ; an empty list fits any"
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            if key not in new:
                yield f'{where}/{key}: no longer answered'
            elif key not in old:
                yield f'{where}/{key}: new'
            else:
                yield from differences(old[key], new[key], f'{where}/{key}')
    elif isinstance(old, list) and isinstance(new, list):
        if old and new:
            yield from differences(old[0], new[0], f'{where}[]')
    elif old != new:
        yield f'{where or "/"}: {old} became {new}'
