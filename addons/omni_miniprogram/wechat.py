# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The one place that talks to WeChat: the mini-program API through wechatpy
and WeChat Pay v3 (public-key mode) through wechatpayv3.

The base URLs come from the [omni] section of trytond.conf:
wechat_api_url and wechatpay_api_url. Amounts are integers in fen."""
import datetime as dt
import json
import logging
import re
import secrets
import time
from contextlib import contextmanager
from functools import lru_cache

import requests
from trytond import config
from trytond.i18n import gettext
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from trytond.modules.omni_member_hub.party import normalize_mobile

from .exceptions import NotificationError, WeChatError

WECHAT_API_URL = 'https://api.weixin.qq.com'
WECHATPAY_API_URL = 'https://api.mch.weixin.qq.com'
# seconds to connect and to read
TIMEOUT = (5, 10)
NOTIFICATION_MAX_AGE = 5 * 60
SIGNATURE_TYPE = 'WECHATPAY2-SHA256-RSA2048'
CHINA = dt.timezone(dt.timedelta(hours=8), 'Asia/Shanghai')

_SECRET_QUERY = re.compile(r'\b((?:secret|access_token|js_code)=)[^&\s"]*')


class _RedactQuery(logging.Filter):
    "Mask the secrets that the mini-program API takes in its query string"

    def filter(self, record):
        message = record.getMessage()
        if _SECRET_QUERY.search(message):
            record.msg, record.args = _SECRET_QUERY.sub(r'\1***', message), ()
        return True


logging.getLogger('urllib3.connectionpool').addFilter(_RedactQuery())


class _Session(requests.Session):
    "A requests session that never waits forever"

    def request(self, method, url, **kwargs):
        if kwargs.get('timeout') is None:
            kwargs['timeout'] = TIMEOUT
        return super().request(method, url, **kwargs)


class MiniProgramClient(WeChatClient):
    "wechatpy's client with every URL under api_url"

    def __init__(self, api_url, appid, secret):
        super().__init__(appid, secret, timeout=TIMEOUT)
        self._http = _Session()
        self.api_url = api_url
        self.API_BASE_URL = api_url + '/cgi-bin/'
        self.wxa.API_BASE_URL = api_url + '/'

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.api_url + '/cgi-bin/token',
            params={
                'grant_type': 'client_credential',
                'appid': self.appid,
                'secret': self.secret,
                })


def _url(name, default):
    return (config.get('omni', name) or default).rstrip('/')


def _require(shop, *names):
    missing = [n for n in names if not getattr(shop, n)]
    if missing:
        Shop = type(shop)
        raise WeChatError(gettext(
                'omni_miniprogram.msg_shop_wechat_not_configured',
                shop=shop.rec_name,
                fields=', '.join(getattr(Shop, n).string for n in missing)),
            'NOT_CONFIGURED')


def _wechat_error(errcode, errmsg):
    return WeChatError(gettext(
            'omni_miniprogram.msg_wechat_error',
            errcode=errcode, errmsg=errmsg), errcode, errmsg)


def _invalid_response():
    return WeChatError(gettext(
            'omni_miniprogram.msg_wechat_invalid_response'),
        'INVALID_RESPONSE')


def _unreachable():
    return WeChatError(gettext(
            'omni_miniprogram.msg_wechat_unreachable'), 'NETWORK')


@contextmanager
def _calling_wechat():
    """Turn what a call to WeChat raises into WeChatError, without the
    request: its URL may hold the app secret"""
    try:
        yield
    except WeChatClientException as exception:
        if exception.errcode is None:
            raise _invalid_response() from None
        raise _wechat_error(exception.errcode, exception.errmsg) from None
    except (requests.exceptions.InvalidJSONError, ValueError, KeyError):
        raise _invalid_response() from None
    except requests.RequestException:
        raise _unreachable() from None


@lru_cache(maxsize=64)
def _mini_program_client(api_url, appid, secret):
    return MiniProgramClient(api_url, appid, secret)


def mini_program_client(shop):
    """Return the wechatpy WeChatClient of the shop's mini-program (the API
    of wechatpy is under its wxa attribute); one per process and settings,
    so that it keeps its access token until it expires"""
    _require(shop, 'wechat_appid', 'wechat_app_secret')
    return _mini_program_client(
        _url('wechat_api_url', WECHAT_API_URL),
        shop.wechat_appid, shop.get_secret('wechat_app_secret'))


def code_to_session(shop, code):
    """Exchange the code of wx.login for a dict with openid, unionid (None
    unless the app is bound to an open platform account) and session_key"""
    client = mini_program_client(shop)
    with _calling_wechat():
        result = client.wxa.code_to_session(code)
        return {
            'openid': result['openid'],
            'unionid': result.get('unionid'),
            'session_key': result['session_key'],
            }


def phone_number(shop, code):
    "Exchange the code of getPhoneNumber for the mobile number in E.164"
    client = mini_program_client(shop)
    with _calling_wechat():
        info = client.post(
            client.api_url + '/wxa/business/getuserphonenumber',
            data={'code': code})['phone_info']
        appid = info['watermark']['appid']
        mobile = '+%s%s' % (info['countryCode'], info['purePhoneNumber'])
    if appid != shop.wechat_appid:
        raise WeChatError(gettext(
                'omni_miniprogram.msg_wechat_phone_other_app'),
            'APPID_MISMATCH')
    return normalize_mobile(mobile)


def send_subscribe_message(shop, openid, template_id, data, page=None):
    """Send a subscribe message; data maps each template key to its value,
    page is the mini-program page that the message opens"""
    client = mini_program_client(shop)
    with _calling_wechat():
        client.wxa.send_subscribe_message(
            openid, template_id,
            {key: {'value': value} for key, value in data.items()},
            page=page)


@lru_cache(maxsize=64)
def _wechat_pay(gateway, notify_url, appid, mchid, serial_no, private_key,
        apiv3_key, public_key, public_key_id):
    pay = WeChatPay(
        wechatpay_type=WeChatPayType.JSAPI,
        mchid=mchid,
        private_key=private_key,
        cert_serial_no=serial_no,
        appid=appid,
        apiv3_key=apiv3_key,
        notify_url=notify_url,
        timeout=TIMEOUT,
        public_key=public_key,
        public_key_id=public_key_id)
    pay._core._gate_way = gateway
    return pay


def wechat_pay(shop, notify_url=None):
    """Return the wechatpayv3 WeChatPay of the shop in public-key mode
    (it downloads no certificate), for JSAPI payments"""
    _require(shop, 'wechat_appid', 'wechatpay_mchid', 'wechatpay_serial_no',
        'wechatpay_private_key', 'wechatpay_apiv3_key',
        'wechatpay_public_key', 'wechatpay_public_key_id')
    return _wechat_pay(
        _url('wechatpay_api_url', WECHATPAY_API_URL), notify_url,
        shop.wechat_appid, shop.wechatpay_mchid, shop.wechatpay_serial_no,
        shop.get_secret('wechatpay_private_key'),
        shop.get_secret('wechatpay_apiv3_key'),
        shop.wechatpay_public_key, shop.wechatpay_public_key_id)


def _pay_call(method, *args, **kwargs):
    "Call WeChat Pay and return its answer as a dict or raise WeChatError"
    try:
        status, text = method(*args, **kwargs)
    except requests.RequestException:
        raise _unreachable() from None
    except Exception as exception:
        # wechatpayv3 raises a bare Exception when the signature is wrong
        if str(exception) != 'failed to verify the signature':
            raise
        raise WeChatError(gettext(
                'omni_miniprogram.msg_wechat_response_signature'),
            'INVALID_RESPONSE_SIGNATURE') from None
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    try:
        result = json.loads(text) if text else {}
    except ValueError:
        raise _invalid_response() from None
    if not 200 <= status < 300:
        raise _wechat_error(
            result.get('code', 'HTTP_%s' % status), result.get('message', ''))
    return result


def china_time(value):
    "Return the datetime (naive ones are UTC) in China time"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(CHINA)


def _rfc3339(value):
    "Format the datetime in China time, as WeChat does"
    return china_time(value).isoformat(timespec='seconds')


def jsapi_prepay(shop, out_trade_no, description, amount_fen, openid,
        notify_url, expires_at):
    """Create a JSAPI payment for the payer's openid, payable until
    expires_at, and return the parameters of wx.requestPayment"""
    if not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValueError("amount_fen must be a positive integer")
    pay = wechat_pay(shop, notify_url)
    result = _pay_call(
        pay.pay, description=description, out_trade_no=out_trade_no,
        amount={'total': amount_fen, 'currency': 'CNY'},
        payer={'openid': openid}, time_expire=_rfc3339(expires_at),
        notify_url=notify_url, pay_type=WeChatPayType.JSAPI)
    try:
        prepay_id = result['prepay_id']
    except KeyError:
        raise _invalid_response() from None
    return request_payment(shop, prepay_id)


def request_payment(shop, prepay_id):
    """Return the parameters of wx.requestPayment for the prepay_id (valid
    two hours), signed with the merchant key as WeChat Pay documents it:
    RSA-SHA256 over "appId\\ntimeStamp\\nnonceStr\\npackage\\n"."""
    pay = wechat_pay(shop)
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(16)
    package = 'prepay_id=%s' % prepay_id
    return {
        'timeStamp': timestamp,
        'nonceStr': nonce,
        'package': package,
        'signType': 'RSA',
        'paySign': pay.sign([shop.wechat_appid, timestamp, nonce, package]),
        }


def query_order(shop, out_trade_no):
    "Return WeChat Pay's transaction (trade_state, amount, ...) of the order"
    return _pay_call(wechat_pay(shop).query, out_trade_no=out_trade_no)


def close_order(shop, out_trade_no):
    "Close the unpaid order at WeChat Pay so that it can no longer be paid"
    _pay_call(wechat_pay(shop).close, out_trade_no)


def refund(shop, out_trade_no, out_refund_no, refund_fen, total_fen, reason,
        notify_url):
    """Ask WeChat Pay to refund refund_fen of the order that was paid
    total_fen; return the refund (refund_id, status PROCESSING, ...).
    The same out_refund_no asks for the same refund only once."""
    if not isinstance(refund_fen, int) or refund_fen <= 0:
        raise ValueError("refund_fen must be a positive integer")
    return _pay_call(
        wechat_pay(shop).refund, out_refund_no=out_refund_no,
        amount={'refund': refund_fen, 'total': total_fen, 'currency': 'CNY'},
        out_trade_no=out_trade_no, reason=reason, notify_url=notify_url)


def query_refund(shop, out_refund_no):
    "Return WeChat Pay's refund (status, amount, ...)"
    return _pay_call(wechat_pay(shop).query_refund, out_refund_no)


def parse_notification(shop, headers, body, max_age=NOTIFICATION_MAX_AGE,
        now=None):
    """Verify and decrypt a WeChat Pay notification sent to the shop

    Return the event (id, create_time, event_type, summary, ...) with its
    decrypted resource, or raise NotificationError. The caller checks the
    amount and currency against the order and processes each
    resource['transaction_id'] (or refund_id) once."""
    headers = {str(k).lower(): v for k, v in headers.items()}
    names = ['Wechatpay-Signature', 'Wechatpay-Timestamp', 'Wechatpay-Nonce',
        'Wechatpay-Serial', 'Wechatpay-Signature-Type']
    signed = {name: headers.get(name.lower(), '') for name in names}
    if isinstance(body, bytes):
        try:
            body = body.decode('utf-8')
        except UnicodeDecodeError:
            raise _notification_error('malformed') from None
    if (not all(signed.values())
            or signed['Wechatpay-Signature-Type'] != SIGNATURE_TYPE
            or not signed['Wechatpay-Timestamp'].isdigit()):
        raise _notification_error('malformed')
    # wechatpayv3 would download certificates to look an unknown key up
    if signed['Wechatpay-Serial'] != shop.wechatpay_public_key_id:
        raise _notification_error('unknown_key')
    if now is None:
        now = time.time()
    if abs(now - int(signed['Wechatpay-Timestamp'])) > max_age:
        raise _notification_error('stale')
    pay = wechat_pay(shop)
    try:
        event = pay.callback(signed, body)
    except Exception:
        # only a signed body reaches the parsing that raises
        raise _notification_error('malformed') from None
    if not event:
        raise _notification_error('signature')
    resource = event['resource']
    if (not isinstance(resource, dict)
            or resource.get('mchid') != shop.wechatpay_mchid
            or (event.get('event_type', '').startswith('TRANSACTION.')
                and resource.get('appid') != shop.wechat_appid)):
        raise _notification_error('merchant')
    return event


def _notification_error(reason):
    return NotificationError(
        gettext('omni_miniprogram.msg_notification_%s' % reason), reason)
