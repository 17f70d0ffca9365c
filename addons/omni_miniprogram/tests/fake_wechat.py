# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A fake WeChat server on 127.0.0.1 for the real wechatpy and wechatpayv3

It serves the mini-program API (token, jscode2session,
getuserphonenumber, subscribe send) and WeChat Pay v3 in public-key mode
(JSAPI prepay, query, close, refund, refund query). It checks what WeChat
checks, signs its answers with the platform key and builds, signs and
encrypts the notifications that WeChat Pay posts.

It serves WeChat Pay v2's payment-code API too (micropay, orderquery,
reverse): XML signed with the merchant's v2 key (MD5 or HMAC-SHA256), and
answers as WeChat does to the payment codes set with payment_code():
at once, USERPAYING until the customer confirms or for ever, or an error
code such as AUTHCODEEXPIRE, NOTENOUGH or SYSTEMERROR.

    with FakeWeChat() as fake:       # also points [omni] *_api_url at it
        shop.wechat_appid = fake.appid ...   # or fake.shop_values()
        fake.add_login('code-1', 'o-openid-1')
        fake.add_phone_code('phone-1', '+86 13800138000')
        ... prepay through the module ...
        notification = fake.pay(out_trade_no)   # posted to notify_url
"""
import base64
import datetime as dt
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections import namedtuple
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import xmltodict
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from trytond import config
from wechatpy.pay.utils import (
    calculate_signature,
    calculate_signature_hmac,
    dict_to_xml,
)
from wechatpy.utils import random_string

CHINA = dt.timezone(dt.timedelta(hours=8))
SIGNATURE_TYPE = 'WECHATPAY2-SHA256-RSA2048'
AUTHORIZATION = re.compile(r'(\w+)="([^"]*)"')
OUT_NO = re.compile(r'^[A-Za-z0-9_\-|*]{6,32}$')

# What the server got and what it answered: for assertions
Request = namedtuple('Request', 'method path query body')
# A notification as WeChat Pay posts it; status is the answer of the
# notify_url (None when not delivered)
Notification = namedtuple('Notification', 'url headers body status')


@cache
def rsa_key(name):
    "An RSA key per role, generated once per test session"
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()


def public_pem(key):
    return key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def rsa_sign(key, message):
    return base64.b64encode(key.sign(
            message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(public_key, message, signature):
    "Return whether signature (base64) signs message with public_key"
    try:
        public_key.verify(
            base64.b64decode(signature), message.encode(),
            padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def china_time(timestamp=None):
    return dt.datetime.fromtimestamp(
        time.time() if timestamp is None else timestamp, CHINA).isoformat(
        timespec='seconds')


class WeChatPayError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class MiniProgramError(Exception):
    def __init__(self, errcode, errmsg):
        super().__init__(errmsg)
        self.errcode, self.errmsg = errcode, errmsg


class FakeWeChat:
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

    def out_trade_no(self, payment):
        "The order number of the wx.requestPayment parameters"
        prepay_id = payment['package'].split('=', 1)[1]
        out_trade_no, = [
            o for o, v in self.orders.items() if v['prepay_id'] == prepay_id]
        return out_trade_no

    # What WeChat Pay does on its side ---------------------------------
    def pay(self, out_trade_no, deliver=True, timestamp=None):
        """The payer pays the order: it becomes SUCCESS and the
        TRANSACTION.SUCCESS notification is built and, if deliver, posted"""
        with self.lock:
            order = self.orders[out_trade_no]
            if order['trade_state'] not in {'NOTPAY', 'SUCCESS'}:
                raise ValueError("order %s is %s" % (
                        out_trade_no, order['trade_state']))
            order['trade_state'] = 'SUCCESS'
            order['trade_state_desc'] = "支付成功"
            order['transaction_id'] = order.get('transaction_id') or (
                '4200%018d' % secrets.randbelow(10 ** 18))
            order['success_time'] = china_time(timestamp)
            resource = self._transaction(order)
        notification = self.notification(
            'TRANSACTION.SUCCESS', "支付成功", 'transaction', resource,
            order['notify_url'], timestamp=timestamp)
        return self.deliver(notification) if deliver else notification

    def refund_succeeded(self, out_refund_no, deliver=True, timestamp=None):
        "The refund succeeds and REFUND.SUCCESS is built and maybe posted"
        return self.refund_ends(
            out_refund_no, 'SUCCESS', deliver=deliver, timestamp=timestamp)

    REFUND_EVENTS = {
        'SUCCESS': ('REFUND.SUCCESS', "退款成功"),
        'ABNORMAL': ('REFUND.ABNORMAL', "退款异常"),
        'CLOSED': ('REFUND.CLOSED', "退款关闭"),
        }

    def refund_ends(self, out_refund_no, status, deliver=True,
            timestamp=None):
        """The refund ends as SUCCESS, ABNORMAL (the payer's bank card
        refused it) or CLOSED, and the REFUND.<status> notification is
        built and, if deliver, posted"""
        event_type, summary = self.REFUND_EVENTS[status]
        with self.lock:
            refund = self.refunds[out_refund_no]
            refund['status'] = status
            resource = {
                'mchid': self.mchid,
                'out_trade_no': refund['out_trade_no'],
                'transaction_id': refund['transaction_id'],
                'out_refund_no': out_refund_no,
                'refund_id': refund['refund_id'],
                'refund_status': status,
                'user_received_account': "支付用户零钱",
                'amount': {
                    'total': refund['amount']['total'],
                    'refund': refund['amount']['refund'],
                    'payer_total': refund['amount']['total'],
                    'payer_refund': refund['amount']['refund'],
                    },
                }
            if status == 'SUCCESS':
                refund['success_time'] = china_time(timestamp)
                resource['success_time'] = refund['success_time']
        notification = self.notification(
            event_type, summary, 'refund', resource, refund['notify_url'],
            timestamp=timestamp)
        return self.deliver(notification) if deliver else notification

    def notification(self, event_type, summary, original_type, resource,
            url, timestamp=None, key=None, apiv3_key=None):
        """Build the notification as WeChat Pay does: resource encrypted
        with AEAD_AES_256_GCM and the APIv3 key, body signed with the
        platform key (or key)"""
        nonce = secrets.token_hex(6)
        ciphertext = AESGCM((apiv3_key or self.apiv3_key).encode()).encrypt(
            nonce.encode(),
            json.dumps(resource, ensure_ascii=False).encode(),
            original_type.encode())
        body = json.dumps({
                'id': 'EV-%s' % secrets.token_hex(10),
                'create_time': china_time(timestamp),
                'resource_type': 'encrypt-resource',
                'event_type': event_type,
                'summary': summary,
                'resource': {
                    'original_type': original_type,
                    'algorithm': 'AEAD_AES_256_GCM',
                    'ciphertext': base64.b64encode(ciphertext).decode(),
                    'associated_data': original_type,
                    'nonce': nonce,
                    },
                }, ensure_ascii=False)
        return Notification(
            url, self.signed_headers(body, timestamp, key), body, None)

    def deliver(self, notification):
        "POST the notification to its URL and return it with the status"
        request = urllib.request.Request(
            notification.url, data=notification.body.encode(),
            headers=dict(notification.headers, **{
                    'Content-Type': 'application/json'}),
            method='POST')
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        return notification._replace(status=status)

    def signed_headers(self, body, timestamp=None, key=None):
        "The headers with which WeChat Pay signs a body in public-key mode"
        timestamp = str(int(time.time() if timestamp is None else timestamp))
        nonce = secrets.token_hex(16).upper()
        key = key or self.forge_key or self.platform_key
        return {
            'Wechatpay-Timestamp': timestamp,
            'Wechatpay-Nonce': nonce,
            'Wechatpay-Signature': rsa_sign(
                key, '%s\n%s\n%s\n' % (timestamp, nonce, body)),
            'Wechatpay-Serial': self.public_key_id,
            'Wechatpay-Signature-Type': SIGNATURE_TYPE,
            }

    def _transaction(self, order):
        transaction = {
            'appid': self.appid,
            'mchid': self.mchid,
            'out_trade_no': order['out_trade_no'],
            'trade_type': 'JSAPI',
            'trade_state': order['trade_state'],
            'trade_state_desc': order['trade_state_desc'],
            'payer': order['payer'],
            'amount': {
                'total': order['amount']['total'],
                'currency': order['amount']['currency'],
                },
            }
        if order.get('transaction_id'):
            transaction.update({
                    'transaction_id': order['transaction_id'],
                    'bank_type': 'OTHERS',
                    'attach': '',
                    'success_time': order['success_time'],
                    })
            transaction['amount'].update({
                    'payer_total': order['amount']['total'],
                    'payer_currency': order['amount']['currency'],
                    })
        return transaction

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

    # WeChat Pay v3 ----------------------------------------------------
    def _check_authorization(self, method, target, headers, body):
        scheme, _, parameters = headers.get('Authorization', '').partition(
            ' ')
        parameters = dict(AUTHORIZATION.findall(parameters))
        if (scheme != SIGNATURE_TYPE
                or parameters.get('mchid') != self.mchid
                or parameters.get('serial_no') != self.mch_serial_no
                or not parameters.get('timestamp', '').isdigit()
                or abs(time.time() - int(parameters['timestamp'])) > 300
                or not rsa_verify(
                    self.merchant_key.public_key(),
                    '%s\n%s\n%s\n%s\n%s\n' % (method, target,
                        parameters['timestamp'], parameters.get('nonce_str'),
                        body),
                    parameters.get('signature', ''))):
            raise WeChatPayError(401, 'SIGN_ERROR', "签名错误")
        serial = headers.get('Wechatpay-Serial')
        if serial is not None and serial != self.public_key_id:
            raise WeChatPayError(400, 'PARAM_ERROR', "Wechatpay-Serial 错误")

    def _check_mchid(self, mchid):
        if mchid != self.mchid:
            raise WeChatPayError(400, 'MCH_NOT_EXISTS', "商户号不存在")

    def _order(self, out_trade_no):
        order = self.orders.get(out_trade_no)
        if not order:
            raise WeChatPayError(404, 'ORDER_NOT_EXIST', "订单不存在")
        return order

    def pay_jsapi(self, query, data):
        data = data or {}
        if data.get('appid') != self.appid:
            raise WeChatPayError(
                400, 'APPID_MCHID_NOT_MATCH', "appid和mch_id不匹配")
        self._check_mchid(data.get('mchid'))
        amount = data.get('amount') or {}
        total = amount.get('total')
        if (not isinstance(total, int) or isinstance(total, bool)
                or total <= 0 or amount.get('currency', 'CNY') != 'CNY'):
            raise WeChatPayError(400, 'PARAM_ERROR', "amount 错误")
        if (data.get('payer') or {}).get('openid') not in self.openids:
            raise WeChatPayError(400, 'PARAM_ERROR', "openid 与 appid 不匹配")
        if not re.match(r'^https?://[^\s/]+/', data.get('notify_url') or ''):
            raise WeChatPayError(400, 'PARAM_ERROR', "notify_url 格式错误")
        if not OUT_NO.match(data.get('out_trade_no') or ''):
            raise WeChatPayError(400, 'PARAM_ERROR', "out_trade_no 格式错误")
        if not 0 < len(data.get('description') or '') <= 127:
            raise WeChatPayError(400, 'PARAM_ERROR', "description 错误")
        if 'time_expire' in data:
            try:
                expire = dt.datetime.fromisoformat(data['time_expire'])
            except ValueError:
                expire = None
            if expire is None or expire.tzinfo is None:
                raise WeChatPayError(
                    400, 'PARAM_ERROR', "time_expire 格式错误")
        order = self.orders.get(data['out_trade_no'])
        if order:
            if order['trade_state'] == 'SUCCESS':
                raise WeChatPayError(400, 'ORDERPAID', "该订单已支付")
            if order['trade_state'] == 'CLOSED':
                raise WeChatPayError(400, 'ORDER_CLOSED', "订单已关闭")
            if order['request'] != data:
                raise WeChatPayError(
                    400, 'INVALID_REQUEST', "201 商户订单号重复")
            return {'prepay_id': order['prepay_id']}
        prepay_id = 'wx%s' % secrets.token_hex(16)
        self.orders[data['out_trade_no']] = {
            'request': data,
            'out_trade_no': data['out_trade_no'],
            'prepay_id': prepay_id,
            'trade_state': 'NOTPAY',
            'trade_state_desc': "订单未支付",
            'payer': data['payer'],
            'amount': {'total': total, 'currency': 'CNY'},
            'notify_url': data['notify_url'],
            }
        return {'prepay_id': prepay_id}

    def pay_query(self, query, data, out_trade_no):
        self._check_mchid(query.get('mchid'))
        return self._transaction(self._order(out_trade_no))

    def pay_close(self, query, data, out_trade_no):
        self._check_mchid((data or {}).get('mchid'))
        order = self._order(out_trade_no)
        if order['trade_state'] in {'SUCCESS', 'REFUND'}:
            raise WeChatPayError(400, 'ORDERPAID', "该订单已支付")
        order['trade_state'] = 'CLOSED'
        order['trade_state_desc'] = "订单已关闭"
        return None

    def refund_create(self, query, data):
        data = data or {}
        out_refund_no = data.get('out_refund_no') or ''
        if not OUT_NO.match(out_refund_no):
            raise WeChatPayError(400, 'PARAM_ERROR', "out_refund_no 格式错误")
        order = self._order(data.get('out_trade_no'))
        amount = data.get('amount') or {}
        if order['trade_state'] not in {'SUCCESS', 'REFUND'}:
            raise WeChatPayError(
                400, 'INVALID_REQUEST', "订单未支付，不能退款")
        refund = self.refunds.get(out_refund_no)
        if refund:
            if refund['request'] != data:
                raise WeChatPayError(
                    400, 'INVALID_REQUEST', "退款单号重复但参数不一致")
            return self._refund(refund)
        # A closed refund gives its amount back to refund
        refunded = sum(
            r['amount']['refund'] for r in self.refunds.values()
            if r['out_trade_no'] == order['out_trade_no']
            and r['status'] != 'CLOSED')
        if (amount.get('total') != order['amount']['total']
                or amount.get('currency', 'CNY') != 'CNY'
                or not isinstance(amount.get('refund'), int)
                or amount['refund'] <= 0):
            raise WeChatPayError(400, 'PARAM_ERROR', "amount 错误")
        if refunded + amount['refund'] > order['amount']['total']:
            raise WeChatPayError(400, 'NOT_ENOUGH', "退款金额超过订单可退金额")
        refund = self.refunds[out_refund_no] = {
            'request': data,
            'refund_id': '5030%018d' % secrets.randbelow(10 ** 18),
            'out_refund_no': out_refund_no,
            'out_trade_no': order['out_trade_no'],
            'transaction_id': order['transaction_id'],
            'status': 'PROCESSING',
            'create_time': china_time(),
            'amount': {
                'total': order['amount']['total'],
                'refund': amount['refund'],
                'currency': 'CNY',
                },
            'notify_url': data.get('notify_url'),
            }
        order['trade_state'] = 'REFUND'
        order['trade_state_desc'] = "转入退款"
        return self._refund(refund)

    def refund_query(self, query, data, out_refund_no):
        refund = self.refunds.get(out_refund_no)
        if not refund:
            raise WeChatPayError(
                404, 'RESOURCE_NOT_EXISTS', "退款单不存在")
        return self._refund(refund)

    def _refund(self, refund):
        result = {
            k: refund[k] for k in [
                'refund_id', 'out_refund_no', 'out_trade_no',
                'transaction_id', 'status', 'create_time']}
        result['channel'] = 'ORIGINAL'
        result['user_received_account'] = "支付用户零钱"
        result['amount'] = {
            'total': refund['amount']['total'],
            'refund': refund['amount']['refund'],
            'payer_total': refund['amount']['total'],
            'payer_refund': refund['amount']['refund'],
            'currency': 'CNY',
            }
        if refund.get('success_time'):
            result['success_time'] = refund['success_time']
        return result

    # WeChat Pay v2: the payment code (付款码) --------------------------
    def payment_code(self, auth_code, outcome='SUCCESS', queries=None):
        """Set how WeChat answers a charge of the payment code: SUCCESS,
        USERPAYING (paid after that many queries, or never when None) or
        an error code (AUTHCODEEXPIRE, NOTENOUGH, SYSTEMERROR, ...)"""
        self.payment_codes[auth_code] = (outcome, queries)

    V2_ERRORS = {
        'AUTHCODEEXPIRE': "二维码已过期，请用户在微信上刷新后再试",
        'NOTENOUGH': "余额不足",
        'AUTH_CODE_INVALID': (
            "请扫描微信支付授权码(以10/11/12/13/14/15为前缀的18位数字)"),
        'SYSTEMERROR': "系统超时",
        'USERPAYING': "需要用户输入支付密码",
        'ORDERPAID': "该订单已支付",
        'ORDERNOTEXIST': "此交易订单号不存在",
        'PARAM_ERROR': "参数错误",
        }

    def v2_call(self, name, body):
        """Answer a v2 request as WeChat does: return_code FAIL for a
        request it cannot read or whose signature is wrong, result_code
        FAIL with err_code for a refused one; signed with the v2 key"""
        try:
            data = xmltodict.parse(body)['xml']
        except Exception:
            return self.v2_xml({'return_code': 'FAIL',
                    'return_msg': "XML格式错误"}, sign=False)
        sign_type = data.get('sign_type') or 'MD5'
        if not self.v2_sign_ok(data, sign_type):
            return self.v2_xml({'return_code': 'FAIL',
                    'return_msg': "签名错误"}, sign=False)
        if (data.get('mch_id') != self.mchid
                or data.get('appid') != self.appid):
            return self.v2_xml({'return_code': 'FAIL',
                    'return_msg': "appid和mch_id不匹配"}, sign=False)
        result = getattr(self, name)(data)
        answer = {
            'return_code': 'SUCCESS', 'return_msg': 'OK',
            'appid': self.appid, 'mch_id': self.mchid,
            'nonce_str': random_string(32),
            }
        if 'err_code' in result:
            answer.update(result_code='FAIL', err_code=result['err_code'],
                err_code_des=self.V2_ERRORS.get(result['err_code'], ''))
            result = {k: v for k, v in result.items() if k != 'err_code'}
        else:
            answer['result_code'] = 'SUCCESS'
        answer.update(result)
        return self.v2_xml(answer, sign_type=sign_type)

    def v2_sign_ok(self, data, sign_type):
        params = {k: v for k, v in data.items() if k != 'sign'}
        expected = (calculate_signature_hmac(params, self.v2_key)
            if sign_type == 'HMAC-SHA256'
            else calculate_signature(params, self.v2_key))
        return data.get('sign') == expected

    def v2_xml(self, data, sign=True, sign_type='MD5'):
        if not sign:
            return dict_to_xml(data, '')
        signature = (calculate_signature_hmac(data, self.v2_key)
            if sign_type == 'HMAC-SHA256'
            else calculate_signature(data, self.v2_key))
        return dict_to_xml(data, signature)

    def _micropay_result(self, order):
        return {
            'openid': order['openid'], 'trade_type': 'MICROPAY',
            'bank_type': 'OTHERS', 'fee_type': 'CNY',
            'total_fee': order['total_fee'], 'cash_fee': order['total_fee'],
            'out_trade_no': order['out_trade_no'],
            'transaction_id': order['transaction_id'],
            'time_end': dt.datetime.now(CHINA).strftime('%Y%m%d%H%M%S'),
            }

    def v2_micropay(self, data):
        code = data.get('auth_code') or ''
        out_trade_no = data.get('out_trade_no') or ''
        if not OUT_NO.match(out_trade_no) or not (
                data.get('total_fee') or '').isdigit():
            return {'err_code': 'PARAM_ERROR'}
        order = self.micropays.get(out_trade_no)
        if order and order['state'] == 'SUCCESS':
            return {'err_code': 'ORDERPAID'}
        if code in self.payment_codes:
            outcome, queries = self.payment_codes[code]
        elif re.fullmatch(r'1[0-5]\d{16}', code):
            outcome, queries = 'SUCCESS', None
        else:
            outcome, queries = 'AUTH_CODE_INVALID', None
        if outcome not in {'SUCCESS', 'USERPAYING', 'SYSTEMERROR'}:
            return {'err_code': outcome}
        order = self.micropays[out_trade_no] = {
            'out_trade_no': out_trade_no,
            'total_fee': data['total_fee'],
            'auth_code': code,
            'openid': 'o' + code[-12:],
            'transaction_id': '4200%024d' % secrets.randbelow(10 ** 24),
            'state': 'SUCCESS' if outcome != 'USERPAYING' else 'USERPAYING',
            'queries': queries,
            }
        if outcome == 'SUCCESS':
            return self._micropay_result(order)
        return {'err_code': outcome}

    def v2_orderquery(self, data):
        order = self.micropays.get(data.get('out_trade_no'))
        if not order:
            return {'err_code': 'ORDERNOTEXIST'}
        if order['state'] == 'USERPAYING' and order['queries'] is not None:
            order['queries'] -= 1
            if order['queries'] <= 0:
                order['state'] = 'SUCCESS'
        result = {'out_trade_no': order['out_trade_no'],
            'trade_state': order['state'],
            'total_fee': order['total_fee']}
        if order['state'] == 'SUCCESS':
            result.update(self._micropay_result(order))
        return result

    def v2_reverse(self, data):
        order = self.micropays.get(data.get('out_trade_no'))
        if not order:
            return {'err_code': 'ORDERNOTEXIST'}
        order['state'] = 'REVOKED'
        return {'recall': 'N'}

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
