# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""WeChat Pay v2's payment code (付款码) through wechatpy: charge the code
the customer shows, query while the customer confirms (USERPAYING) and
reverse what does not end paid, so that a till never keeps half a payment.

The base URL is [omni] wechatpay_api_url of trytond.conf, as for v3.
Amounts are integers in fen. Neither the key nor the payment code is
logged."""
import contextlib
import logging
import tempfile
import time

import requests
from trytond import config
from trytond.i18n import gettext
from trytond.transaction import Transaction
from wechatpy.exceptions import WeChatPayException
from wechatpy.pay import WeChatPay

from trytond.modules.omni_miniprogram.wechat import (
    TIMEOUT,
    WECHATPAY_API_URL,
    _require,
    _url,
)

from .exceptions import MicropayError

logger = logging.getLogger(__name__)
# How long the customer has to confirm in WeChat, and how often to ask
USERPAYING_WAIT = 30
QUERY_INTERVAL = 2
# Answers that leave the charge's outcome to a query
UNKNOWN = {'USERPAYING', 'SYSTEMERROR', 'BANKERROR', 'ORDERPAID'}
REFUSED_STATES = {'PAYERROR', 'CLOSED', 'REVOKED'}
# wechatpy logs its requests, with the payment code, at DEBUG
logging.getLogger('wechatpy.pay').setLevel(logging.INFO)


@contextlib.contextmanager
def v2_client(shop):
    """Yield wechatpy's v2 client of the shop's merchant, with its API
    certificate (for reverse) in files that last the call"""
    _require(shop, 'wechat_appid', 'wechatpay_mchid', 'wechatpay_v2_key')
    with contextlib.ExitStack() as stack:
        cert = key = None
        if shop.wechatpay_api_cert and shop.wechatpay_private_key:
            cert, key = (
                stack.enter_context(tempfile.NamedTemporaryFile('w'))
                for _ in range(2))
            cert.write(shop.wechatpay_api_cert)
            key.write(shop.get_secret('wechatpay_private_key'))
            cert.flush()
            key.flush()
        client = WeChatPay(
            shop.wechat_appid, shop.get_secret('wechatpay_v2_key'),
            shop.wechatpay_mchid, mch_cert=cert and cert.name,
            mch_key=key and key.name, timeout=TIMEOUT)
        client.API_BASE_URL = (
            _url('wechatpay_api_url', WECHATPAY_API_URL) + '/')
        yield client


def _signed(client, data):
    "Return WeChat's answer once its signature is checked"
    if not isinstance(data, dict) or not client.check_signature(data):
        raise MicropayError(gettext('omni_till.msg_micropay_signature'))
    return data


def _paid(client, data, total_fee):
    data = _signed(client, data)
    if int(data.get('total_fee') or 0) != total_fee:
        raise MicropayError(gettext('omni_till.msg_micropay_amount_differs'))
    return data


def client_ip():
    request = Transaction().context.get('_request') or {}
    return request.get('remote_addr') or '127.0.0.1'


def micropay(shop, out_trade_no, total_fee, auth_code, body):
    """Charge total_fee to the payment code and return WeChat's answer of
    the paid order; raise MicropayError when it is not paid, after
    reversing what may have been charged.  [omni] micropay_wait of
    trytond.conf is how long the customer has to confirm, in seconds"""
    wait = config.getfloat('omni', 'micropay_wait', default=USERPAYING_WAIT)
    interval = min(QUERY_INTERVAL, wait / 10)
    with v2_client(shop) as client:
        try:
            answer = client.micropay.create(
                body=body, total_fee=total_fee, auth_code=auth_code,
                client_ip=client_ip(), out_trade_no=out_trade_no)
        except WeChatPayException as exception:
            if exception.return_code != 'SUCCESS':
                # WeChat did not take the request: nothing was charged
                raise MicropayError(gettext(
                        'omni_till.msg_micropay_refused',
                        code=exception.return_code or 'HTTP',
                        message=exception.return_msg or '')) from None
            if exception.errcode not in UNKNOWN:
                raise MicropayError(gettext(
                        'omni_till.msg_micropay_refused',
                        code=exception.errcode,
                        message=exception.errmsg or '')) from None
            answer = _query(client, out_trade_no, wait, interval)
        except requests.RequestException:
            answer = _query(client, out_trade_no, wait, interval)
        try:
            if answer is None:
                raise MicropayError(gettext(
                        'omni_till.msg_micropay_reversed'))
            return _paid(client, answer, total_fee)
        except MicropayError:
            reverse(client, out_trade_no)
            raise


def _query(client, out_trade_no, wait, interval):
    """Query the order until it is paid or refused, or the wait is over;
    return the answer of the paid order or None"""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(interval)
        try:
            answer = _signed(
                client, client.micropay.query(out_trade_no=out_trade_no))
        except (WeChatPayException, requests.RequestException):
            continue
        state = answer.get('trade_state')
        if state == 'SUCCESS':
            return answer
        if state in REFUSED_STATES:
            return None
    return None


def reverse(client, out_trade_no):
    "Reverse the order, or log that it must be reversed by hand"
    try:
        client.order.reverse(out_trade_no=out_trade_no)
    except (WeChatPayException, requests.RequestException) as exception:
        logger.error(
            "WeChat Pay did not reverse the payment-code order %s (%s): "
            "reverse it in the merchant platform", out_trade_no,
            getattr(exception, 'errcode', None) or type(exception).__name__)


def reverse_order(shop, out_trade_no):
    with v2_client(shop) as client:
        reverse(client, out_trade_no)
