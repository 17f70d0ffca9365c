# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The real wechatpy and wechatpayv3, driven through wechat.py, against the
fake WeChat server on 127.0.0.1"""
import datetime as dt
import http.server
import socket
import threading
import time
import unittest

from trytond import config
from trytond.tests.test_tryton import (
    with_transaction,
)

from trytond.modules.omni_miniprogram import wechat
from trytond.modules.omni_miniprogram.exceptions import (
    NotificationError,
    WeChatError,
)

from .fake_wechatpay import private_pem, rsa_key, rsa_verify
from .tools import WeChatTestMixin


class WeChatTestCase(WeChatTestMixin, unittest.TestCase):
    "WeChat login, phone, subscribe messages and WeChat Pay v3"

    @with_transaction()
    def test_login_and_phone(self):
        "A wx.login code gives the openid once, a phone code the number"
        shop = self.create_shop()
        self.fake.add_login('code-1', 'o-1', 'u-1')
        self.fake.add_login('code-2', 'o-2')
        self.fake.add_phone_code('phone-1', '+86 138 0013 8000')
        self.fake.add_phone_code('phone-2', '+852 5123 4567')

        session = wechat.code_to_session(shop, 'code-1')
        self.assertEqual(session['openid'], 'o-1')
        self.assertEqual(session['unionid'], 'u-1')
        self.assertTrue(session['session_key'])
        self.assertIsNone(wechat.code_to_session(shop, 'code-2')['unionid'])
        with self.assertRaises(WeChatError) as used:
            wechat.code_to_session(shop, 'code-1')
        self.assertEqual(used.exception.errcode, 40163)
        with self.assertRaises(WeChatError) as unknown:
            wechat.code_to_session(shop, 'code-9')
        self.assertEqual(unknown.exception.errcode, 40029)

        self.assertEqual(
            wechat.phone_number(shop, 'phone-1'), '+8613800138000')
        self.assertEqual(
            wechat.phone_number(shop, 'phone-2'), '+85251234567')
        with self.assertRaises(WeChatError) as reused:
            wechat.phone_number(shop, 'phone-1')
        self.assertEqual(reused.exception.errcode, 40029)

        # One access token served every call
        self.assertEqual(len(self.fake.token_requests), 1)
        self.assert_only_fake()

    @with_transaction()
    def test_access_token_refresh(self):
        "An access token that WeChat revoked or that expires is renewed"
        shop = self.create_shop()
        self.fake.add_phone_code('phone-1', '+86 13800138000')
        self.fake.add_phone_code('phone-2', '+86 13900139000')
        self.fake.add_phone_code('phone-3', '+86 13700137000')
        wechat.phone_number(shop, 'phone-1')
        self.assertEqual(len(self.fake.token_requests), 1)

        self.fake.expire_tokens()
        self.fake.token_ttl = 60
        self.assertEqual(
            wechat.phone_number(shop, 'phone-2'), '+8613900139000')
        self.assertEqual(len(self.fake.token_requests), 2)
        # less than a minute left: renewed before the call
        wechat.phone_number(shop, 'phone-3')
        self.assertEqual(len(self.fake.token_requests), 3)

    @with_transaction()
    def test_wrong_secret(self):
        "WeChat's refusal of the app secret is a WeChatError without it"
        shop = self.create_shop(wechat_app_secret='not-the-secret-42')
        self.fake.add_login('code-1', 'o-1')
        with self.assertRaises(WeChatError) as refused:
            wechat.code_to_session(shop, 'code-1')
        self.assertEqual(refused.exception.errcode, 40125)
        self.assertNotIn('not-the-secret-42', self.error_text(
                refused.exception))

    @with_transaction()
    def test_unreachable(self):
        "An unreachable WeChat is a WeChatError that quotes no URL"
        shop = self.create_shop()
        with socket.socket() as closed:
            closed.bind(('127.0.0.1', 0))
            port = closed.getsockname()[1]
        config.set('omni', 'wechat_api_url', 'http://127.0.0.1:%s' % port)
        config.set('omni', 'wechatpay_api_url', 'http://127.0.0.1:%s' % port)
        with self.assertRaises(WeChatError) as mini_program:
            wechat.code_to_session(shop, 'code-1')
        with self.assertRaises(WeChatError) as pay:
            wechat.query_order(shop, 'ORDER-1')
        for error in [mini_program.exception, pay.exception]:
            self.assertEqual(error.errcode, 'NETWORK')
            text = self.error_text(error)
            self.assertNotIn(self.fake.secret, text)
            self.assertNotIn(str(port), text)

    @with_transaction()
    def test_default_urls(self):
        "Without configuration the SDKs call WeChat itself"
        shop = self.create_shop()
        config.set('omni', 'wechat_api_url', '')
        config.set('omni', 'wechatpay_api_url', '')
        client = wechat.mini_program_client(shop)
        self.assertEqual(
            client.API_BASE_URL, 'https://api.weixin.qq.com/cgi-bin/')
        self.assertEqual(client.wxa.API_BASE_URL, 'https://api.weixin.qq.com/')
        pay = wechat.wechat_pay(shop)
        self.assertEqual(pay._core._gate_way, 'https://api.mch.weixin.qq.com')
        # public-key mode fetched no certificate
        self.assertEqual(self.fake.requests, [])

    @with_transaction()
    def test_not_configured(self):
        "A shop without WeChat settings says which ones are missing"
        shop = self.create_shop(
            wechat_app_secret=None, wechatpay_private_key=None)
        with self.assertRaises(WeChatError) as mini_program:
            wechat.code_to_session(shop, 'code-1')
        self.assertEqual(mini_program.exception.errcode, 'NOT_CONFIGURED')
        self.assertIn("App Secret", mini_program.exception.message)
        with self.assertRaises(WeChatError) as pay:
            wechat.query_order(shop, 'ORDER-1')
        self.assertIn("Merchant Private Key", pay.exception.message)

    @with_transaction()
    def test_prepay(self):
        "A JSAPI prepay gives wx.requestPayment parameters signed by us"
        shop = self.create_shop()
        expires_at = dt.datetime(2026, 11, 26, 8, 0)
        self.fake.add_login('code-1', 'o-buyer')
        params = wechat.jsapi_prepay(
            shop, 'ORDER-0001', "西湖龙井 250g", 2500, 'o-buyer',
            'https://mall.example.com/notify/pay', expires_at)

        self.assertEqual(
            set(params),
            {'timeStamp', 'nonceStr', 'package', 'signType', 'paySign'})
        self.assertEqual(params['signType'], 'RSA')
        order = self.fake.orders['ORDER-0001']
        self.assertEqual(params['package'], 'prepay_id=' + order['prepay_id'])
        self.assertLessEqual(
            abs(int(params['timeStamp']) - time.time()), 5)
        # WeChat's documented string: appId, timeStamp, nonceStr, package
        message = '%s\n%s\n%s\n%s\n' % (
            self.fake.appid, params['timeStamp'], params['nonceStr'],
            params['package'])
        self.assertTrue(rsa_verify(
                self.fake.merchant_key.public_key(), message,
                params['paySign']))
        self.assertEqual(order['request'], {
                'notify_url': 'https://mall.example.com/notify/pay',
                'description': "西湖龙井 250g",
                'out_trade_no': 'ORDER-0001',
                'amount': {'total': 2500, 'currency': 'CNY'},
                'payer': {'openid': 'o-buyer'},
                'time_expire': '2026-11-26T16:00:00+08:00',
                'appid': self.fake.appid,
                'mchid': self.fake.mchid,
                })

        again = wechat.jsapi_prepay(
            shop, 'ORDER-0001', "西湖龙井 250g", 2500, 'o-buyer',
            'https://mall.example.com/notify/pay', expires_at)
        self.assertEqual(again['package'], params['package'])
        with self.assertRaises(WeChatError) as changed:
            wechat.jsapi_prepay(
                shop, 'ORDER-0001', "西湖龙井 250g", 2400, 'o-buyer',
                'https://mall.example.com/notify/pay', expires_at)
        self.assertEqual(changed.exception.errcode, 'INVALID_REQUEST')
        with self.assertRaises(WeChatError) as stranger:
            wechat.jsapi_prepay(
                shop, 'ORDER-0002', "西湖龙井 250g", 2500, 'o-stranger',
                'https://mall.example.com/notify/pay', expires_at)
        self.assertEqual(stranger.exception.errcode, 'PARAM_ERROR')
        with self.assertRaises(ValueError):
            wechat.jsapi_prepay(
                shop, 'ORDER-0003', "西湖龙井 250g", 0, 'o-buyer',
                'https://mall.example.com/notify/pay', expires_at)
        self.assert_only_fake()

    @with_transaction()
    def test_merchant_signature_checked(self):
        "The fake refuses a request signed with another merchant key"
        shop = self.create_shop(
            wechatpay_private_key=private_pem(rsa_key('intruder')))
        with self.assertRaises(WeChatError) as refused:
            self.prepay(shop, 'ORDER-0001')
        self.assertEqual(refused.exception.errcode, 'SIGN_ERROR')

    @with_transaction()
    def test_forged_answer(self):
        "An answer not signed with the WeChat Pay key is refused"
        shop = self.create_shop()
        self.prepay(shop, 'ORDER-0001')
        self.fake.forge_key = rsa_key('intruder')
        with self.assertRaises(WeChatError) as forged:
            wechat.query_order(shop, 'ORDER-0001')
        self.assertEqual(
            forged.exception.errcode, 'INVALID_RESPONSE_SIGNATURE')

    @with_transaction()
    def test_query_and_close(self):
        "An unpaid order is queried and closed, a paid one not closed"
        shop = self.create_shop()
        self.prepay(shop, 'ORDER-0001')
        self.prepay(shop, 'ORDER-0002')
        self.assertEqual(
            wechat.query_order(shop, 'ORDER-0001')['trade_state'], 'NOTPAY')
        self.assertIsNone(wechat.close_order(shop, 'ORDER-0001'))
        self.assertEqual(
            wechat.query_order(shop, 'ORDER-0001')['trade_state'], 'CLOSED')
        with self.assertRaises(WeChatError) as closed:
            self.prepay(shop, 'ORDER-0001')
        self.assertEqual(closed.exception.errcode, 'ORDER_CLOSED')

        self.fake.pay('ORDER-0002', deliver=False)
        transaction = wechat.query_order(shop, 'ORDER-0002')
        self.assertEqual(transaction['trade_state'], 'SUCCESS')
        self.assertEqual(transaction['amount']['payer_total'], 2500)
        self.assertTrue(transaction['transaction_id'])
        with self.assertRaises(WeChatError) as paid:
            wechat.close_order(shop, 'ORDER-0002')
        self.assertEqual(paid.exception.errcode, 'ORDERPAID')
        with self.assertRaises(WeChatError) as unknown:
            wechat.query_order(shop, 'ORDER-9999')
        self.assertEqual(unknown.exception.errcode, 'ORDER_NOT_EXIST')
        self.assert_only_fake()

    @with_transaction()
    def test_notification(self):
        "A payment notification is verified, decrypted and checked"
        shop = self.create_shop()
        self.prepay(shop, 'ORDER-0001')
        notification = self.fake.pay('ORDER-0001', deliver=False)

        event = wechat.parse_notification(
            shop, notification.headers, notification.body)
        self.assertEqual(event['event_type'], 'TRANSACTION.SUCCESS')
        resource = event['resource']
        self.assertEqual(resource['out_trade_no'], 'ORDER-0001')
        self.assertEqual(resource['trade_state'], 'SUCCESS')
        self.assertEqual(
            resource['amount'],
            {'total': 2500, 'payer_total': 2500, 'currency': 'CNY',
                'payer_currency': 'CNY'})
        self.assertEqual(
            resource['transaction_id'],
            self.fake.orders['ORDER-0001']['transaction_id'])
        # Headers as a WSGI server gives them, and the body as bytes
        lower = {k.lower(): v for k, v in notification.headers.items()}
        replayed = wechat.parse_notification(
            shop, lower, notification.body.encode())
        # a replay parses the same: the caller processes each id once
        self.assertEqual(replayed['id'], event['id'])
        self.assertEqual(
            replayed['resource']['transaction_id'],
            resource['transaction_id'])

    @with_transaction()
    def test_notification_refused(self):
        "Forged, tampered, stale and foreign notifications are refused"
        shop = self.create_shop()
        self.prepay(shop, 'ORDER-0001')
        good = self.fake.pay('ORDER-0001', deliver=False)
        resource = wechat.parse_notification(
            shop, good.headers, good.body)['resource']
        url = 'https://mall.example.com/notify/pay'

        def refused(headers, body, **kwargs):
            with self.assertRaises(NotificationError) as error:
                wechat.parse_notification(shop, headers, body, **kwargs)
            return error.exception.reason

        tampered = good.body.replace('"支付成功"', '"支付失败"')
        self.assertNotEqual(tampered, good.body)
        self.assertEqual(refused(good.headers, tampered), 'signature')
        forged = self.fake.notification(
            'TRANSACTION.SUCCESS', "支付成功", 'transaction', resource, url,
            key=rsa_key('intruder'))
        self.assertEqual(refused(forged.headers, forged.body), 'signature')
        wrong_key = self.fake.notification(
            'TRANSACTION.SUCCESS', "支付成功", 'transaction', resource, url,
            apiv3_key='0' * 32)
        self.assertEqual(
            refused(wrong_key.headers, wrong_key.body), 'signature')

        for delay in [-301, 301]:
            stale = self.fake.notification(
                'TRANSACTION.SUCCESS', "支付成功", 'transaction', resource,
                url, timestamp=time.time() + delay)
            self.assertEqual(refused(stale.headers, stale.body), 'stale')
        self.assertEqual(
            refused(good.headers, good.body, now=time.time() + 600), 'stale')

        other_merchant = self.fake.notification(
            'TRANSACTION.SUCCESS', "支付成功", 'transaction',
            dict(resource, mchid='1900000109'), url)
        self.assertEqual(
            refused(other_merchant.headers, other_merchant.body), 'merchant')
        other_app = self.fake.notification(
            'TRANSACTION.SUCCESS', "支付成功", 'transaction',
            dict(resource, appid='wx0000000000000000'), url)
        self.assertEqual(
            refused(other_app.headers, other_app.body), 'merchant')

        requests_before = len(self.fake.requests)
        unknown_key = dict(good.headers, **{
                'Wechatpay-Serial': 'PUB_KEY_ID_0000'})
        self.assertEqual(refused(unknown_key, good.body), 'unknown_key')
        # no certificate download to look the key up
        self.assertEqual(len(self.fake.requests), requests_before)

        unsigned = {k: v for k, v in good.headers.items()
            if k != 'Wechatpay-Signature'}
        self.assertEqual(refused(unsigned, good.body), 'malformed')
        self.assertEqual(refused(good.headers, b'\xff\xfe'), 'malformed')

    @with_transaction()
    def test_refund(self):
        "A refund is asked once per number, then notified as succeeded"
        shop = self.create_shop()
        self.prepay(shop, 'ORDER-0001')
        with self.assertRaises(WeChatError) as unpaid:
            wechat.refund(
                shop, 'ORDER-0001', 'REFUND-0001', 2500, 2500, "取消订单",
                'https://mall.example.com/notify/refund')
        self.assertEqual(unpaid.exception.errcode, 'INVALID_REQUEST')
        self.fake.pay('ORDER-0001', deliver=False)

        refund = wechat.refund(
            shop, 'ORDER-0001', 'REFUND-0001', 2000, 2500, "取消订单",
            'https://mall.example.com/notify/refund')
        self.assertEqual(refund['status'], 'PROCESSING')
        self.assertEqual(refund['amount']['refund'], 2000)
        again = wechat.refund(
            shop, 'ORDER-0001', 'REFUND-0001', 2000, 2500, "取消订单",
            'https://mall.example.com/notify/refund')
        self.assertEqual(again['refund_id'], refund['refund_id'])
        with self.assertRaises(WeChatError) as too_much:
            wechat.refund(
                shop, 'ORDER-0001', 'REFUND-0002', 600, 2500, "取消订单",
                'https://mall.example.com/notify/refund')
        self.assertEqual(too_much.exception.errcode, 'NOT_ENOUGH')
        self.assertEqual(
            wechat.query_order(shop, 'ORDER-0001')['trade_state'], 'REFUND')

        notification = self.fake.refund_succeeded(
            'REFUND-0001', deliver=False)
        self.assertEqual(
            notification.url, 'https://mall.example.com/notify/refund')
        event = wechat.parse_notification(
            shop, notification.headers, notification.body)
        self.assertEqual(event['event_type'], 'REFUND.SUCCESS')
        self.assertEqual(event['resource']['refund_status'], 'SUCCESS')
        self.assertEqual(event['resource']['out_refund_no'], 'REFUND-0001')
        self.assertEqual(event['resource']['refund_id'], refund['refund_id'])
        self.assertEqual(event['resource']['amount']['refund'], 2000)
        self.assertEqual(
            wechat.query_refund(shop, 'REFUND-0001')['status'], 'SUCCESS')
        self.assert_only_fake()

    @with_transaction()
    def test_deliver(self):
        "The fake posts the notification to the order's notify_url"
        shop = self.create_shop()
        received = []

        class Receiver(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers['Content-Length']))
                received.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(('127.0.0.1', 0), Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        self.fake.add_login('code-1', 'o-buyer')
        wechat.jsapi_prepay(
            shop, 'ORDER-0001', "龙井", 100, 'o-buyer',
            'http://127.0.0.1:%s/notify' % server.server_address[1],
            dt.datetime.utcnow() + dt.timedelta(minutes=15))

        notification = self.fake.pay('ORDER-0001')
        self.assertEqual(notification.status, 204)
        (headers, body), = received
        event = wechat.parse_notification(shop, headers, body)
        self.assertEqual(event['resource']['out_trade_no'], 'ORDER-0001')

    @with_transaction()
    def test_subscribe_message(self):
        "A subscribe message needs the user's consent and the template keys"
        shop = self.create_shop()
        self.fake.add_login('code-1', 'o-1')
        self.fake.add_template('tpl-ready', ['thing1', 'character_string2'])
        data = {'thing1': "西湖店", 'character_string2': '384921'}

        with self.assertRaises(WeChatError) as refused:
            wechat.send_subscribe_message(
                shop, 'o-1', 'tpl-ready', data, 'pages/order/index?id=1')
        self.assertEqual(refused.exception.errcode, 43101)
        self.fake.accept_subscription('o-1', 'tpl-ready')
        wechat.send_subscribe_message(
            shop, 'o-1', 'tpl-ready', data, 'pages/order/index?id=1')
        self.assertEqual(self.fake.subscribe_messages, [{
                    'touser': 'o-1',
                    'template_id': 'tpl-ready',
                    'page': 'pages/order/index?id=1',
                    'data': {
                        'thing1': {'value': "西湖店"},
                        'character_string2': {'value': '384921'},
                        },
                    }])
        # one consent, one message
        with self.assertRaises(WeChatError) as used:
            wechat.send_subscribe_message(shop, 'o-1', 'tpl-ready', data)
        self.assertEqual(used.exception.errcode, 43101)
        for openid, template, values, errcode in [
                ('o-1', 'tpl-ready', {'thing1': "西湖店"}, 47003),
                ('o-1', 'tpl-other', data, 40037),
                ('o-9', 'tpl-ready', data, 40003),
                ]:
            self.fake.accept_subscription(openid, template)
            with self.assertRaises(WeChatError) as error:
                wechat.send_subscribe_message(shop, openid, template, values)
            self.assertEqual(error.exception.errcode, errcode)
        self.assertEqual(len(self.fake.subscribe_messages), 1)
        self.assert_only_fake()
