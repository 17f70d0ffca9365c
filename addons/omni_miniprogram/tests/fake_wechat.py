# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A fake WeChat server on 127.0.0.1 for the real wechatpy and wechatpayv3

It serves the mini-program API (token, jscode2session,
getuserphonenumber, subscribe send) and WeChat Pay (fake_wechatpay.py: v3
and v2's payment code). It checks what WeChat checks and signs its
answers as WeChat does.

    with FakeWeChat() as fake:       # also points [omni] *_api_url at it
        shop.wechat_appid = fake.appid ...   # or fake.shop_values()
        fake.add_login('code-1', 'o-openid-1')
        fake.add_phone_code('phone-1', '+86 13800138000')
        ... prepay through the module ...
        notification = fake.pay(out_trade_no)   # posted to notify_url
"""
import base64
import json
import re
import secrets
import threading
import time
from collections import namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from trytond import config

from .fake_wechatpay import (
    PaymentCode,
    WeChatPay,
    WeChatPayError,
    private_pem,
    public_pem,
    rsa_key,
)

# What the server got and what it answered: for assertions
Request = namedtuple('Request', 'method path query body')


class MiniProgramError(Exception):
    def __init__(self, errcode, errmsg):
        super().__init__(errmsg)
        self.errcode, self.errmsg = errcode, errmsg


class FakeWeChat(WeChatPay, PaymentCode):
    "The fake server and what it knows: apps, users, orders, refunds"

    def __init__(self, token_ttl=7200, merchant_key=None, platform_key=None):
        self.appid = 'wx' + secrets.token_hex(8)
        self.secret = secrets.token_hex(16)
        self.mchid = '1900%06d' % secrets.randbelow(10 ** 6)
        self.mch_serial_no = secrets.token_hex(20).upper()
        self.apiv3_key = secrets.token_hex(16)
        self.v2_key = secrets.token_hex(16)
        self.public_key_id = 'PUB_KEY_ID_' + secrets.token_hex(16).upper()
        self.merchant_key = merchant_key or rsa_key('merchant')
        self.platform_key = platform_key or rsa_key('platform')
        self.token_ttl = token_ttl
        # signs answers with this key instead of the platform key
        self.forge_key = None
        self.lock = threading.Lock()
        self.requests = []
        self.tokens = {}
        self.logins = {}
        self.openids = set()
        self.phone_codes = {}
        self.templates = {}
        self.subscriptions = {}
        self.subscribe_messages = []
        self.orders = {}
        self.refunds = {}
        self.payment_codes = {}
        self.micropays = {}
        self.server = None
        self._config = None

    # The merchant side ------------------------------------------------
    @property
    def settings(self):
        "What the merchant configures"
        return {
            'appid': self.appid,
            'secret': self.secret,
            'mchid': self.mchid,
            'mch_serial_no': self.mch_serial_no,
            'private_key': private_pem(self.merchant_key),
            'apiv3_key': self.apiv3_key,
            'v2_key': self.v2_key,
            'public_key': public_pem(self.platform_key),
            'public_key_id': self.public_key_id,
            }

    def shop_values(self):
        "The settings as values of a web.shop"
        settings = self.settings
        return {
            'type': 'mini_program',
            'wechat_appid': settings['appid'],
            'wechat_app_secret': settings['secret'],
            'wechatpay_mchid': settings['mchid'],
            'wechatpay_serial_no': settings['mch_serial_no'],
            'wechatpay_private_key': settings['private_key'],
            'wechatpay_apiv3_key': settings['apiv3_key'],
            'wechatpay_public_key': settings['public_key'],
            'wechatpay_public_key_id': settings['public_key_id'],
            }

    # Life cycle -------------------------------------------------------
    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return 'http://%s:%s' % (host, port)

    def start(self, port=0):
        fake = self

        class Handler(_Handler):
            server_fake = fake
        self.server = ThreadingHTTPServer(('127.0.0.1', port), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        "Start and point trytond's [omni] wechat URLs at the fake"
        self.start()
        if not config.has_section('omni'):
            config.add_section('omni')
        self._config = {
            name: config.get('omni', name)
            for name in ['wechat_api_url', 'wechatpay_api_url']}
        for name in self._config:
            config.set('omni', name, self.url)
        return self

    def __exit__(self, *exc_info):
        for name, value in self._config.items():
            config.set('omni', name, value or '')
        self.stop()

    # What tests set up ------------------------------------------------
    def add_login(self, code, openid, unionid=None):
        "Make code a wx.login code of the user openid"
        with self.lock:
            self._add_login(code, openid, unionid)

    def _add_login(self, code, openid, unionid=None):
        self.openids.add(openid)
        self.logins[code] = {
            'openid': openid,
            'session_key': base64.b64encode(
                secrets.token_bytes(16)).decode(),
            'unionid': unionid,
            'used': False,
            }

    def add_phone_code(self, code, phone):
        """Make code a getPhoneNumber code for phone, written with its
        country code: '+86 13800138000'"""
        country, number = phone.lstrip('+').split(' ', 1)
        number = number.replace(' ', '').replace('-', '')
        with self.lock:
            self.phone_codes[code] = {
                'phoneNumber': number if country == '86'
                else '+%s%s' % (country, number),
                'purePhoneNumber': number,
                'countryCode': country,
                'used': False,
                }

    def add_template(self, template_id, keys):
        "Declare a subscribe message template with its data keys"
        self.templates[template_id] = set(keys)

    def accept_subscription(self, openid, template_id, times=1):
        "The user accepts times messages (wx.requestSubscribeMessage)"
        with self.lock:
            key = (openid, template_id)
            self.subscriptions[key] = self.subscriptions.get(key, 0) + times

    def expire_tokens(self):
        "Invalidate every access token, as WeChat does when one is renewed"
        with self.lock:
            self.tokens.clear()

    @property
    def token_requests(self):
        return [r for r in self.requests if r.path == '/cgi-bin/token']

    # The mini-program API ---------------------------------------------
    def _check_app(self, query):
        if query.get('appid') != self.appid:
            raise MiniProgramError(40013, "invalid appid")
        if query.get('secret') != self.secret:
            raise MiniProgramError(40125, "invalid appsecret")

    def _check_token(self, query):
        if query.get('access_token') not in self.tokens or (
                self.tokens[query['access_token']] < time.time()):
            raise MiniProgramError(40001,
                "invalid credential, access_token is invalid or not latest")

    def mp_token(self, query, data):
        if query.get('grant_type') != 'client_credential':
            raise MiniProgramError(40002, "invalid grant_type")
        self._check_app(query)
        token = secrets.token_urlsafe(48)
        self.tokens[token] = time.time() + self.token_ttl
        return {'access_token': token, 'expires_in': self.token_ttl}

    def mp_code2session(self, query, data):
        if query.get('grant_type') != 'authorization_code':
            raise MiniProgramError(40002, "invalid grant_type")
        self._check_app(query)
        login = self.logins.get(query.get('js_code'))
        if not login:
            raise MiniProgramError(40029, "invalid code")
        if login['used']:
            raise MiniProgramError(40163, "code been used")
        login['used'] = True
        result = {
            'openid': login['openid'],
            'session_key': login['session_key'],
            }
        if login['unionid']:
            result['unionid'] = login['unionid']
        return result

    def mp_phone(self, query, data):
        self._check_token(query)
        phone = self.phone_codes.get((data or {}).get('code'))
        if not phone or phone['used']:
            raise MiniProgramError(40029, "invalid code")
        phone['used'] = True
        info = {k: v for k, v in phone.items() if k != 'used'}
        info['watermark'] = {
            'timestamp': int(time.time()), 'appid': self.appid}
        return {'errcode': 0, 'errmsg': 'ok', 'phone_info': info}

    def mp_subscribe(self, query, data):
        self._check_token(query)
        data = data or {}
        if data.get('touser') not in self.openids:
            raise MiniProgramError(40003, "invalid openid")
        keys = self.templates.get(data.get('template_id'))
        if keys is None:
            raise MiniProgramError(40037, "invalid template id")
        values = data.get('data')
        if (not isinstance(values, dict) or set(values) != keys
                or not all(isinstance(v, dict)
                    and isinstance(v.get('value'), str)
                    for v in values.values())):
            raise MiniProgramError(47003, "argument invalid! data invalid")
        subscription = (data['touser'], data['template_id'])
        if not self.subscriptions.get(subscription):
            raise MiniProgramError(43101, "user refuse to accept the msg")
        self.subscriptions[subscription] -= 1
        self.subscribe_messages.append(data)
        return {'errcode': 0, 'errmsg': 'ok'}

    ROUTES = [
        ('GET', re.compile(r'^/cgi-bin/token$'), 'mp', 'mp_token'),
        ('GET', re.compile(r'^/sns/jscode2session$'), 'mp',
            'mp_code2session'),
        ('POST', re.compile(r'^/wxa/business/getuserphonenumber$'), 'mp',
            'mp_phone'),
        ('POST', re.compile(r'^/cgi-bin/message/subscribe/send$'), 'mp',
            'mp_subscribe'),
        ('POST', re.compile(r'^/v3/pay/transactions/jsapi$'), 'pay',
            'pay_jsapi'),
        ('GET', re.compile(r'^/v3/pay/transactions/out-trade-no/([^/]+)$'),
            'pay', 'pay_query'),
        ('POST',
            re.compile(r'^/v3/pay/transactions/out-trade-no/([^/]+)/close$'),
            'pay', 'pay_close'),
        ('POST', re.compile(r'^/v3/refund/domestic/refunds$'), 'pay',
            'refund_create'),
        ('GET', re.compile(r'^/v3/refund/domestic/refunds/([^/]+)$'), 'pay',
            'refund_query'),
        ('POST', re.compile(r'^/pay/micropay$'), 'v2', 'v2_micropay'),
        ('POST', re.compile(r'^/pay/orderquery$'), 'v2', 'v2_orderquery'),
        ('POST', re.compile(r'^/secapi/pay/reverse$'), 'v2', 'v2_reverse'),
        ]

    def route(self, method, path):
        "Return the kind, the method name and the match of the route"
        for route_method, pattern, kind, name in self.ROUTES:
            match = pattern.match(path)
            if match and route_method == method:
                return kind, name, match


class _Handler(BaseHTTPRequestHandler):
    server_fake = None
    protocol_version = 'HTTP/1.1'

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self._handle('GET')

    def do_POST(self):
        self._handle('POST')

    def _handle(self, method):
        fake = self.server_fake
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length).decode() if length else ''
        with fake.lock:
            fake.requests.append(Request(method, url.path, query, body))
            route = fake.route(method, url.path)
            if not route:
                return self._answer(404, kind='pay', result={
                        'code': 'NOT_FOUND', 'message': "Not Found"})
            kind, name, match = route
            if kind == 'v2':
                return self._answer_v2(fake.v2_call(name, body))
            try:
                data = json.loads(body) if body else None
            except ValueError:
                data = None
            try:
                if kind == 'pay':
                    fake._check_authorization(
                        method, self.path, self.headers, body)
                result = getattr(fake, name)(query, data, *match.groups())
                status = 200 if result is not None else 204
            except WeChatPayError as error:
                status, result = error.status, {
                    'code': error.code, 'message': error.message}
            except MiniProgramError as error:
                status, result = 200, {
                    'errcode': error.errcode, 'errmsg': error.errmsg}
        self._answer(status, kind, result)

    def _answer(self, status, kind, result):
        fake = self.server_fake
        body = '' if result is None else json.dumps(
            result, ensure_ascii=False)
        self.send_response(status)
        if body:
            self.send_header('Content-Type', 'application/json; charset=utf-8')
        if kind == 'pay':
            self.send_header('Request-ID', secrets.token_hex(16))
            for name, value in fake.signed_headers(body).items():
                self.send_header(name, value)
        data = body.encode()
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _answer_v2(self, xml):
        data = xml.encode()
        self.send_response(200)
        self.send_header('Content-Type', 'text/xml; charset=utf-8')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
