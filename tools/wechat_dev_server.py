#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The demo's WeChat: the tests' fake WeChat server as a dev server on
127.0.0.1, which `make run` starts next to trytond.

Its identity (appid, secrets, merchant and platform keys) is generated once
in the state folder, where the demo's shop reads it. Any wx.login code logs
a user in, the same openid for the same code; a getPhoneNumber code that
ends with 11 digits gives that Chinese mobile number; every subscribe
message is accepted. Each JSAPI order is paid and each refund succeeds
after --pay-delay seconds, notified to the shop's notify URL signed and
encrypted as WeChat Pay does; with --pay-delay -1 they wait for
POST /dev/pay/<out_trade_no> and POST /dev/refund/<out_refund_no>.

Usage: tools/wechat_dev_server.py [--port 8001] [--state var/state]
    [--pay-delay 1]
"""
import argparse
import hashlib
import json
import pathlib
import re
import sys
import threading

from cryptography.hazmat.primitives import serialization

from trytond.modules.omni_miniprogram.tests.fake_wechat import FakeWeChat
from trytond.modules.omni_miniprogram.tests.fake_wechatpay import (
    private_pem,
    rsa_key,
)

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.tea_house import DEMO_APPID  # noqa: E402

IDENTITY_FILE = 'wechat-dev.json'
PHONE = re.compile(r'(1\d{10})$')


def identity(state_dir):
    "Return the dev server's identity, made once in state_dir"
    path = pathlib.Path(state_dir) / IDENTITY_FILE
    if path.exists():
        return json.loads(path.read_text())
    fake = FakeWeChat()
    values = {
        'appid': DEMO_APPID,
        'secret': fake.secret,
        'mchid': fake.mchid,
        'mch_serial_no': fake.mch_serial_no,
        'apiv3_key': fake.apiv3_key,
        'v2_key': fake.v2_key,
        'public_key_id': fake.public_key_id,
        'merchant_key': private_pem(rsa_key('dev merchant')),
        'platform_key': private_pem(rsa_key('dev platform')),
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


def load_key(pem):
    return serialization.load_pem_private_key(pem.encode(), password=None)


class DevWeChat(FakeWeChat):
    "The fake WeChat with a lasting identity, for people rather than tests"

    ROUTES = FakeWeChat.ROUTES + [
        ('POST', re.compile(r'^/dev/pay/([^/]+)$'), 'dev', 'dev_pay'),
        ('POST', re.compile(r'^/dev/refund/([^/]+)$'), 'dev', 'dev_refund'),
        ]

    def __init__(self, values, pay_delay=1.0):
        super().__init__(
            merchant_key=load_key(values['merchant_key']),
            platform_key=load_key(values['platform_key']))
        for name in ['appid', 'secret', 'mchid', 'mch_serial_no',
                'apiv3_key', 'public_key_id']:
            setattr(self, name, values[name])
        # An identity made before the payment code has no v2 key: one
        # derived from its APIv3 key lasts as well
        self.v2_key = values.get('v2_key') or hashlib.sha256(
            ('v2:' + values['apiv3_key']).encode()).hexdigest()[:32]
        self.pay_delay = pay_delay

    def later(self, func, *args):
        "Run func outside the request, which holds the lock, after a delay"
        delay = self.pay_delay if self.pay_delay >= 0 else 0
        timer = threading.Timer(delay, func, args)
        timer.daemon = True
        timer.start()

    def mp_code2session(self, query, data):
        code = query.get('js_code')
        if code and code not in self.logins:
            digest = hashlib.sha256(f'{self.appid}:{code}'.encode())
            self._add_login(code, 'o' + digest.hexdigest()[:27])
        return super().mp_code2session(query, data)

    def mp_phone(self, query, data):
        code = (data or {}).get('code') or ''
        match = PHONE.search(code)
        if match and code not in self.phone_codes:
            number = match.group(1)
            self.phone_codes[code] = {
                'phoneNumber': number, 'purePhoneNumber': number,
                'countryCode': '86', 'used': False}
        return super().mp_phone(query, data)

    def mp_subscribe(self, query, data):
        "Accept every message: the member said yes in the mini-program"
        data = data or {}
        template = data.get('template_id')
        if isinstance(data.get('data'), dict):
            self.templates.setdefault(template, set(data['data']))
        key = (data.get('touser'), template)
        self.subscriptions[key] = self.subscriptions.get(key, 0) + 1
        return super().mp_subscribe(query, data)

    def pay_jsapi(self, query, data):
        result = super().pay_jsapi(query, data)
        if self.pay_delay >= 0:
            self.later(self.pay, data['out_trade_no'])
        return result

    def refund_create(self, query, data):
        result = super().refund_create(query, data)
        if self.pay_delay >= 0 and result['status'] == 'PROCESSING':
            self.later(self.refund_succeeded, data['out_refund_no'])
        return result

    def dev_pay(self, query, data, out_trade_no):
        self._order(out_trade_no)
        self.later(self.pay, out_trade_no)

    def dev_refund(self, query, data, out_refund_no):
        self.refund_query(query, data, out_refund_no)
        self.later(self.refund_succeeded, out_refund_no)


def start(state_dir, port, pay_delay=1.0):
    "Start the dev server in a thread and return it"
    return DevWeChat(identity(state_dir), pay_delay).start(port)


def shop_settings(state_dir):
    "Return what the shop configures to call the dev server"
    return DevWeChat(identity(state_dir)).settings


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--port', type=int, default=8001)
    parser.add_argument('--state', default=str(ROOT / 'var' / 'state'))
    parser.add_argument('--pay-delay', type=float, default=1.0)
    options = parser.parse_args()
    server = start(options.state, options.port, options.pay_delay)
    print(f"Fake WeChat on {server.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == '__main__':
    sys.exit(main())
