# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Checkout, WeChat Pay and orders, driven over HTTP as the mini-program
and WeChat Pay call them."""
import datetime
import json
import time
from decimal import Decimal

from trytond.pool import Pool
from trytond.pyson import PYSONDecoder
from trytond.tests.test_tryton import RouteTestCase

from trytond.modules.omni_inventory_bridge.tests.tools import run
from trytond.modules.omni_miniprogram.tests.fake_wechatpay import (
    rsa_verify,
)
from trytond.modules.omni_miniprogram.tests.tools import (
    CheckoutTestMixin,
    check_response,
)


def fen(amount):
    return int(Decimal(amount) * 100)


class CheckoutTestCase(CheckoutTestMixin, RouteTestCase):
    "Test the mall's checkout, payments and orders"

    def test_pickup_checkout(self):
        "A pickup order with tier, pickup discount, coupon and points"
        code = self.claim_coupon()
        balance = self.read(lambda pool: pool.get(
                'member.points.entry').balance(
                pool.get('party.party')(self.member_id)))
        cart = {
            'items': [{'product': self.tea_id, 'quantity': 1}],
            'fulfilment': 'pickup', 'store': self.store_ids[0],
            'coupon': code, 'points': 1000}
        response = self.request(
            'POST', '/checkout/preview', self.token, json=cart)
        quote = check_response(response, '/checkout/preview', 'post')
        self.assertEqual(response.status_code, 200, quote)
        # 300 at gold -5% = 285, pickup -10% = 256.50, coupon -20,
        # 1000 points = 10 yuan
        self.assertEqual(quote['totals'], {
                'goods': '300.00', 'tier_discount': '15.00',
                'pickup_discount': '28.50', 'coupon_discount': '20.00',
                'points': 1000, 'points_value': '10.00',
                'total': '226.50'})

        response = self.order(cart)
        self.assertEqual(response.status_code, 201)
        data = check_response(response, '/orders', 'post')
        order, payment = data['order'], data['payment']
        self.assertEqual(order['status'], 'awaiting_payment')
        self.assertEqual(order['totals'], quote['totals'])
        self.assertTrue(order['can_pay'])
        message = '\n'.join([self.fake.appid, payment['timeStamp'],
                payment['nonceStr'], payment['package'], ''])
        self.assertTrue(rsa_verify(
                self.fake.merchant_key.public_key(), message,
                payment['paySign']))

        out_trade_no = self.fake.out_trade_no(payment)
        self.assertEqual(
            self.fake.orders[out_trade_no]['amount']['total'], 22650)
        notification = self.fake.pay(out_trade_no, deliver=False)
        self.assertEqual(self.notify(notification).status_code, 204)
        # WeChat Pay repeats a notification until it gets an answer
        self.assertEqual(self.notify(notification).status_code, 204)

        response = self.request('GET', '/orders/%s' % order['id'], self.token)
        order = check_response(response, '/orders/{order}', 'get')
        self.assertEqual(order['status'], 'paid')
        self.assertRegex(order['pickup']['code'], r'^[0-9]{8,}$')

        def check(pool):
            Sale = pool.get('sale.sale')
            Entry = pool.get('member.points.entry')
            sale = Sale(order['id'])
            self.assertEqual(len(sale.mp_payments), 1)
            self.assertEqual(sale.mp_payments[0].state, 'paid')
            self.assertEqual(
                [r.state for r in Sale.pickup_reservations([sale])],
                ['confirmed'])
            self.assertEqual(Entry.balance(sale.party), balance - 1000)
        self.read(check)
        self.assertStatusFilter()

    def test_refund_refused(self):
        """A refund WeChat Pay finds ABNORMAL or CLOSED is recorded failed
        with its status for the back office; a forged one changes nothing,
        a closed one is retried with a new number"""
        for status in ['ABNORMAL', 'CLOSED']:
            with self.subTest(status=status):
                order, out_trade_no = self.paid_order(self.delivery_cart())
                response = self.request(
                    'POST', '/orders/%s/cancel' % order['id'], self.token)
                self.assertEqual(check_response(
                        response, '/orders/{order}/cancel', 'post')['status'],
                    'refunding')
                refund, = [r for r in self.fake.refunds.values()
                    if r['out_trade_no'] == out_trade_no]
                number = refund['out_refund_no']

                genuine = self.fake.refund_ends(number, status, deliver=False)
                resource = {
                    'mchid': self.fake.mchid, 'out_refund_no': number,
                    'refund_status': status,
                    'amount': {'refund': refund['amount']['refund']}}
                for wrong, key, answer in [
                        ({'amount': {'refund': 1}}, None, 400),
                        ({}, self.fake.merchant_key, 401)]:
                    response = self.notify(self.fake.notification(
                            'REFUND.%s' % status, "退款异常", 'refund',
                            dict(resource, **wrong), genuine.url, key=key))
                    self.assertEqual(response.status_code, answer)
                    self.assertEqual(self.refund_of(order['id'])[:2], (
                            'pending', None))

                self.assertEqual(self.notify(genuine).status_code, 204)
                self.assertEqual(self.notify(genuine).status_code, 204)
                state, wechat_status, error, refused = self.refund_of(
                    order['id'])
                self.assertEqual((state, wechat_status), ('failed', status))
                self.assertIn(number, error)
                self.assertTrue(refused)
                self.assertEqual(
                    self.get_order(order['id'])[1]['status'], 'refunding')

        def retry(pool):
            Refund = pool.get('sale.refund')
            refund, = Refund.search([('wechat_refund_status', '=', 'CLOSED')])
            Refund.retry([refund])
            Refund.send_pending()
            return Refund(refund.id).out_refund_no
        new_number = run({'company': self.company_id}, lambda: retry(Pool()))
        self.assertNotEqual(new_number, number)
        self.notify(self.fake.refund_succeeded(new_number, deliver=False))
        self.assertEqual(self.get_order(order['id'])[1]['status'], 'refunded')
        self.assertStatusFilter()

    def refund_of(self, sale_id):
        """The state, WeChat Pay status and error of the sale's refund and
        whether the refunds list's filter of refused refunds shows it"""
        def read(pool):
            ActionDomain = pool.get('ir.action.act_window.domain')
            ModelData = pool.get('ir.model.data')
            Refund = pool.get('sale.refund')
            refund, = Refund.search([('sale', '=', sale_id)])
            domain = ActionDomain(ModelData.get_id(
                    'omni_miniprogram',
                    'act_sale_refund_domain_wechat_refused')).domain
            refused = Refund.search(
                [('id', '=', refund.id), PYSONDecoder().decode(domain)])
            return (refund.state, refund.wechat_refund_status,
                refund.error, bool(refused))
        return self.read(read)

    def test_cancel_unpaid(self):
        "An unpaid order cancelled is closed at WeChat Pay, its stock freed"
        before = self.figures(0)
        response = self.order({
                'items': [{'product': self.tea_id, 'quantity': 1}],
                'fulfilment': 'pickup', 'store': self.store_ids[0]})
        data = check_response(response, '/orders', 'post')
        self.assertEqual(self.figures(0)[2], before[2] - 1)
        out_trade_no = self.fake.out_trade_no(data['payment'])
        response = self.request(
            'POST', '/orders/%s/cancel' % data['order']['id'], self.token)
        order = check_response(response, '/orders/{order}/cancel', 'post')
        self.assertEqual(order['status'], 'cancelled')
        self.assertEqual(
            self.fake.orders[out_trade_no]['trade_state'], 'CLOSED')
        self.assertEqual(self.figures(0), before)
        response = self.request(
            'POST', '/orders/%s/cancel' % order['id'], self.token)
        self.assertEqual(response.status_code, 409)
        self.assertStatusFilter()

    def test_idempotency_key(self):
        "The same key answers the same order; a new key orders again"
        cart = {
            'items': [{'product': self.tea_id, 'quantity': 1}],
            'fulfilment': 'pickup', 'store': self.store_ids[1]}
        first = self.order(cart, key='key-0001')
        again = self.order(cart, key='key-0001')
        self.assertEqual(first.status_code, 201)
        self.assertEqual(again.status_code, 200)
        first = check_response(first, '/orders', 'post')
        again = check_response(again, '/orders', 'post')
        self.assertEqual(first['order']['id'], again['order']['id'])
        self.assertEqual(
            first['payment']['package'], again['payment']['package'])
        other = check_response(self.order(cart, key='key-0002'),
            '/orders', 'post')
        self.assertNotEqual(other['order']['id'], first['order']['id'])
        response = self.order(cart, key='bad key!')
        self.assertEqual(response.status_code, 400)
        for order in [first, other]:
            self.request('POST', '/orders/%s/cancel' % order['order']['id'],
                self.token)

    def test_out_of_stock(self):
        "More than the store has is a 409 naming the stores that have it"
        before, orders = self.figures(0), len(self.fake.orders)
        response = self.order({
                'items': [{'product': self.tea_id, 'quantity': 3}],
                'fulfilment': 'pickup', 'store': self.store_ids[0]})
        self.assertEqual(response.status_code, 409)
        data = check_response(response, '/orders', 'post')
        self.assertEqual(data['code'], 'out_of_stock')
        self.assertEqual(data['details']['product']['id'], self.tea_id)
        self.assertIn(self.store_ids[1],
            [s['id'] for s in data['details']['stores']])
        self.assertEqual(self.figures(0), before)
        self.assertEqual(len(self.fake.orders), orders)

    def test_late_notification(self):
        "Paid after the hold lapsed: held again, or refunded and flagged"
        cart = {
            'items': [{'product': self.tea_id, 'quantity': 2}],
            'fulfilment': 'pickup', 'store': self.store_ids[0]}
        first, first_no = self.paid_order(cart, pay=False)
        self.lapse(first['id'])
        second, second_no = self.paid_order(cart, pay=False)
        self.lapse(second['id'])
        # stock allows: the first is held again
        self.notify(self.fake.pay(first_no, deliver=False))
        self.assertEqual(self.get_order(first['id'])[1]['status'], 'paid')
        # the first took the last boxes: the second is refunded
        self.notify(self.fake.pay(second_no, deliver=False))
        _, order = self.get_order(second['id'])
        self.assertEqual(order['status'], 'refunding')

        def send(pool):
            pool.get('sale.refund').send_pending()
        self.run_cron(send)
        refund, = [r for r in self.fake.refunds.values()
            if r['out_trade_no'] == second_no]
        # 300 at gold -5% = 285, pickup -10% = 256.50, twice
        self.assertEqual(refund['amount']['refund'], 51300)
        self.read(lambda pool: self.assertTrue(
                pool.get('sale.sale')(second['id']).mp_flagged))
        self.request('POST', '/orders/%s/cancel' % first['id'], self.token)
        self.assertStatusFilter()

    def lapse(self, sale_id):
        "Let the payment deadline of the order pass and run the expiry cron"
        def lapse(pool):
            Reservation = pool.get('stock.reservation')
            Sale = pool.get('sale.sale')
            past = datetime.datetime.now() - datetime.timedelta(minutes=1)
            sale = Sale(sale_id)
            Reservation.write(Sale.pickup_reservations([sale]), {
                    'expires_at': past})
            Reservation.release_expired()
        self.run_cron(lapse)

    def test_lost_notification(self):
        "The query cron pays what WeChat Pay never told and closes the rest"
        cart = {
            'items': [{'product': self.tea_id, 'quantity': 1}],
            'fulfilment': 'pickup', 'store': self.store_ids[1]}
        paid, paid_no = self.paid_order(cart, pay=False)
        self.fake.pay(paid_no, deliver=False)
        unpaid, unpaid_no = self.paid_order(cart, pay=False)
        before = self.figures(1)

        def check_pending(pool):
            Payment = pool.get('web.shop.mp_payment')
            past = datetime.datetime.now() - datetime.timedelta(minutes=1)
            Payment.write(Payment.search([]), {'expires_at': past})
            Payment.check_pending()
        self.run_cron(check_pending)
        self.run_cron(check_pending)
        self.assertEqual(self.get_order(paid['id'])[1]['status'], 'paid')
        self.assertEqual(
            self.get_order(unpaid['id'])[1]['status'], 'cancelled')
        self.assertEqual(
            self.fake.orders[unpaid_no]['trade_state'], 'CLOSED')
        self.assertEqual(self.figures(1)[2], before[2] + 1)
        self.request('POST', '/orders/%s/cancel' % paid['id'], self.token)

    def test_other_member(self):
        "A member can't read, pay or cancel another member's order"
        order, _ = self.paid_order({
                'items': [{'product': self.tea_id, 'quantity': 1}],
                'fulfilment': 'pickup', 'store': self.store_ids[1]},
            pay=False)
        for method, path in [
                ('GET', '/orders/%s'), ('POST', '/orders/%s/pay'),
                ('POST', '/orders/%s/cancel')]:
            with self.subTest(path=path):
                response = self.request(
                    method, path % order['id'], self.other_token)
                self.assertEqual(response.status_code, 404)
                self.assertEqual(
                    check_response(response, path.replace(
                            '%s', '{order}'), method.lower())['code'],
                    'order_not_found')
        response = self.request('GET', '/orders', self.other_token)
        self.assertEqual(
            check_response(response, '/orders', 'get')['items'], [])
        response = self.request('GET', '/orders', self.token)
        self.assertIn(order['id'], [
                o['id'] for o in check_response(
                    response, '/orders', 'get')['items']])
        self.request('POST', '/orders/%s/cancel' % order['id'], self.token)

    def test_rejected_notifications(self):
        "Forged, tampered, stale and mismatched notifications change nothing"
        order, out_trade_no = self.paid_order({
                'items': [{'product': self.tea_id, 'quantity': 1}],
                'fulfilment': 'pickup', 'store': self.store_ids[1]},
            pay=False)
        genuine = self.fake.pay(out_trade_no, deliver=False)
        fake = self.fake
        resource = dict(fake._transaction(fake.orders[out_trade_no]))
        wrong_amount = dict(resource, amount=dict(
                resource['amount'], total=1))
        cases = {
            'forged': fake.notification(
                'TRANSACTION.SUCCESS', "支付成功", 'transaction', resource,
                genuine.url, key=fake.merchant_key),
            'tampered': genuine._replace(
                body=genuine.body.replace('"summary"', '"summary" ', 1)),
            'stale': fake.notification(
                'TRANSACTION.SUCCESS', "支付成功", 'transaction', resource,
                genuine.url, timestamp=time.time() - 3600),
            'wrong key': fake.notification(
                'TRANSACTION.SUCCESS', "支付成功", 'transaction', resource,
                genuine.url, apiv3_key='x' * 32),
            'mismatch': fake.notification(
                'TRANSACTION.SUCCESS', "支付成功", 'transaction',
                wrong_amount, genuine.url),
            }
        for name, notification in cases.items():
            with self.subTest(case=name):
                response = self.notify(notification)
                self.assertIn(response.status_code, {400, 401})
                self.assertEqual(json.loads(response.get_data())['code'],
                    'notification_rejected')
                self.assertEqual(
                    self.get_order(order['id'])[1]['status'],
                    'awaiting_payment')
        self.assertEqual(self.notify(genuine).status_code, 204)
        self.assertEqual(self.get_order(order['id'])[1]['status'], 'paid')
        self.request('POST', '/orders/%s/cancel' % order['id'], self.token)

    def test_ready_subscribe_message(self):
        "The member who accepted is told by WeChat that the order is ready"
        self.fake.add_template(
            'tpl-ready', ['character_string1', 'thing2', 'time3'])
        self.fake.accept_subscription('o-member', 'tpl-ready')
        order, _ = self.paid_order({
                'items': [{'product': self.tea_id, 'quantity': 1}],
                'fulfilment': 'pickup', 'store': self.store_ids[1]})

        def ready(pool):
            Sale = pool.get('sale.sale')
            Sale.pickup_ready([Sale(order['id'])])
        self.run_cron(ready)
        self.assertEqual(self.get_order(order['id'])[1]['status'], 'ready')

        def send(pool):
            pool.get('member.notification').send_queued()
        self.run_cron(send)
        self.run_cron(send)
        message, = [m for m in self.fake.subscribe_messages
            if m['template_id'] == 'tpl-ready']
        self.assertEqual(message['touser'], 'o-member')
        self.assertEqual(message['template_id'], 'tpl-ready')
        self.assertEqual(message['page'], 'pages/order/index?id=%s' % (
                order['id']))
        self.assertEqual(
            message['data']['character_string1']['value'], order['number'])
        self.assertEqual(message['data']['thing2']['value'], 'CJ')

        def state(pool):
            Notification = pool.get('member.notification')
            notification, = Notification.search([
                    ('kind', '=', 'pickup_ready'),
                    ('origin', '=', 'sale.sale,%s' % order['id'])])
            return notification.state
        self.assertEqual(self.read(state), 'sent')
        self.request('POST', '/orders/%s/cancel' % order['id'], self.token)

    def test_campaign_subscribe_message(self):
        """A targeted campaign's coupon reaches the member as a subscribe
        message naming the nearby store that has the goods, which his
        coupons show too"""
        self.fake.add_template('tpl-campaign', ['thing1', 'thing2', 'date3'])
        self.fake.accept_subscription('o-member', 'tpl-campaign')

        def issue(pool):
            Campaign = pool.get('member.target_campaign')
            Party = pool.get('party.party')
            Product = pool.get('product.product')
            Shop = pool.get('web.shop')
            Shop.write([Shop(self.shop_id)], {
                    'wechat_template_campaign': 'tpl-campaign'})
            category, = Product(self.tea_id).template.categories
            campaign = Campaign(
                name="普洱回购", company=self.company_id,
                bought_category=category, bought_channel='pos', days=30,
                not_bought_category=category, not_bought_channel='mall',
                coupon=self.coupon_id)
            campaign.save()
            issue, = campaign.issue([Party(self.member_id)])
            return (issue.number.number, issue.number.coupon.rec_name,
                issue.store.id, issue.store.name)
        number, coupon, store_id, store = self.run_cron(issue)
        self.assertIn(store_id, self.store_ids)

        def send(pool):
            pool.get('member.notification').send_queued()
        self.run_cron(send)
        message, = [m for m in self.fake.subscribe_messages
            if m['template_id'] == 'tpl-campaign']
        self.assertEqual(message['touser'], 'o-member')
        self.assertEqual(message['page'], 'pages/coupons/index')
        self.assertEqual(message['data']['thing1']['value'], coupon[:20])
        self.assertEqual(message['data']['thing2']['value'], store)

        response = self.request('GET', '/me/coupons', self.token)
        item, = [i for i in response.json['items'] if i['number'] == number]
        self.assertEqual(item['store'], {'id': store_id, 'name': store})

    def test_prepay_refused(self):
        "WeChat Pay refusing the prepay leaves no order and no hold"
        self.fake.openids.discard('o-other')
        before = self.figures(1)
        count = self.read(lambda pool: pool.get('sale.sale').search_count([]))
        response = self.order({
                'items': [{'product': self.tea_id, 'quantity': 1}],
                'fulfilment': 'pickup', 'store': self.store_ids[1]},
            token=self.other_token)
        self.assertEqual(response.status_code, 502)
        self.assertEqual(
            check_response(response, '/orders', 'post')['code'],
            'wechat_unavailable')
        self.assertEqual(self.figures(1), before)
        self.assertEqual(
            self.read(lambda pool: pool.get('sale.sale').search_count([])),
            count)
