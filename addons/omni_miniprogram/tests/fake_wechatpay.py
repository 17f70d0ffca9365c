# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""WeChat Pay as the fake WeChat server serves it: v3 in public-key mode
(JSAPI prepay, query, close, refund, refund query), signed with the
platform key, and the notifications it builds, signs, encrypts and posts;
v2's payment-code API (micropay, orderquery, reverse), XML signed with the
merchant's v2 key (MD5 or HMAC-SHA256), which answers as WeChat does to the
payment codes set with payment_code(): at once, USERPAYING until the
customer confirms or for ever, or an error code such as AUTHCODEEXPIRE,
NOTENOUGH or SYSTEMERROR."""
import base64
import datetime as dt
import json
import re
import secrets
import time
import urllib.error
import urllib.request
from collections import namedtuple
from functools import cache

import xmltodict
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
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


class WeChatPay:
    "WeChat Pay v3 and its notifications, for FakeWeChat"

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


class PaymentCode:
    "WeChat Pay v2's payment code, for FakeWeChat"

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
