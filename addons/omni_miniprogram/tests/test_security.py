# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Attacks on the mall API over HTTP, as a member or a bot with many
sessions would send them: each is refused and changes nothing."""
import base64
import datetime
import json
from unittest.mock import patch

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from trytond.modules.omni_inventory_bridge.tests.tools import run
from trytond.modules.omni_miniprogram import routes
from trytond.modules.omni_miniprogram.tests.tools import (
    OrderTestMixin,
    check_response,
    put_stock,
)

BOT_SESSIONS = 10


class RpcError(Exception):
    "The error a JSON-RPC call answered"


class SecurityTestCase(OrderTestMixin, RouteTestCase):
    "The mall's limits against hoarding bots and bursts"

    @classmethod
    def setUpMall(cls, company):
        super().setUpMall(company)
        pool = Pool()
        Location = pool.get('stock.location')
        Product = pool.get('product.product')
        # Enough tea for a bot to hoard
        put_stock(Product(cls.tea_id), Location(cls.store_ids[1]), 50)
        # A product the shop does not publish, stocked in its store
        put_stock(Product(cls.hidden_id), Location(cls.store_ids[0]), 3)

    def setUp(self):
        super().setUp()
        # Windows of a day: a test's requests never span two windows
        self.shop_values = self.write_shop({
                'mp_rate_window': datetime.timedelta(days=1)})

    def tearDown(self):
        self.write_shop(self.shop_values)
        self.write_tea_limits(None, None, None)
        self.cancel_open_orders()
        super().tearDown()

    def write_shop(self, values):
        "Write values on the shop and return those it had"
        with Transaction().start(DB_NAME, 0) as transaction:
            Shop = Pool().get('web.shop')
            shop = Shop(self.shop_id)
            names = {n for n in Shop._fields if n.startswith('mp_')}
            before = {n: getattr(shop, n) for n in names}
            if values:
                Shop.write([shop], values)
            transaction.commit()
        return before

    def write_tea_limits(self, per_order, per_member, period):
        with Transaction().start(DB_NAME, 0) as transaction:
            Template = Pool().get('product.template')
            tea = Pool().get('product.product')(self.tea_id)
            Template.write([tea.template], {
                    'mp_purchase_limit_order': per_order,
                    'mp_purchase_limit_member': per_member,
                    'mp_purchase_limit_period': period,
                    })
            transaction.commit()

    def cancel_open_orders(self):
        "Cancel the orders awaiting payment, as the member would"
        def cancel(pool):
            Sale = pool.get('sale.sale')
            Sale.mall_cancel(Sale.search([
                        ('state', 'in', ['draft', 'quotation']),
                        ('web_shop', '=', self.shop_id),
                        ]))
        self.run_cron(cancel)

    def open_sessions(self, count, prefix, members=False):
        """Return count session tokens of new WeChat users, each a new
        member if members"""
        def open_sessions():
            pool = Pool()
            Party = pool.get('party.party')
            Session = pool.get('web.shop.mp_session')
            Shop = pool.get('web.shop')
            tokens = []
            for i in range(count):
                openid = '%s-%s' % (prefix, i)
                member = None
                if members:
                    member = Party.register_member(
                        '1361234%04d' % len(Party.search([])), None, 'mall')
                self.fake.openids.add(openid)
                tokens.append(Session.open(
                        Shop(self.shop_id), openid, member=member)[1])
            return tokens
        return run({}, open_sessions)

    def cart(self, quantity=1):
        return {
            'items': [{'product': self.tea_id, 'quantity': quantity}],
            'fulfilment': 'pickup', 'store': self.store_ids[1]}

    def counts(self):
        "The member's orders, the held tea and the sessions"
        def read(pool):
            Availability = pool.get('stock.availability')
            Sale = pool.get('sale.sale')
            Session = pool.get('web.shop.mp_session')
            _, reserved, _ = Availability.get(
                [self.tea_id], [self.store_ids[1]])[
                self.tea_id, self.store_ids[1]]
            return {
                'orders': Sale.search_count([
                        ('web_shop', '=', self.shop_id)]),
                'reserved': reserved,
                'sessions': Session.search_count([]),
                }
        return self.read(read)

    def assertLimited(self, response, path, method, code, status=429):
        "Check the refusal: its code and, for a 429, its Retry-After"
        data = check_response(response, path, method)
        self.assertEqual(response.status_code, status, data)
        self.assertEqual(data['code'], code)
        if status == 429:
            retry_after = int(response.headers['Retry-After'])
            self.assertGreaterEqual(retry_after, 1)
            self.assertEqual(data['details']['retry_after'], retry_after)
        return data

    def test_one_member_many_sessions(self):
        """A bot logs in 10 times as one member and orders from every
        session: 2 orders hold stock, the rest and an 11th login get 429"""
        before = self.counts()
        tokens = []
        for i in range(BOT_SESSIONS):
            self.fake.add_login('bot-%s' % i, 'o-member')
            response = self.request('POST', '/login', json={
                    'shop': self.shop_id, 'code': 'bot-%s' % i})
            data = check_response(response, '/login', 'post')
            self.assertEqual(response.status_code, 200, data)
            self.assertTrue(data['member'])
            tokens.append(data['token'])
        self.fake.add_login('bot-more', 'o-member')
        response = self.request('POST', '/login', json={
                'shop': self.shop_id, 'code': 'bot-more'})
        self.assertLimited(response, '/login', 'post', 'rate_limited')

        statuses = []
        for token in tokens:
            response = self.order(self.cart(), token=token)
            statuses.append(response.status_code)
            if response.status_code == 429:
                data = self.assertLimited(
                    response, '/orders', 'post', 'too_many_unpaid_orders')
                self.assertEqual(len(data['details']['orders']), 2)
                self.assertLessEqual(
                    int(response.headers['Retry-After']), 15 * 60)
        self.assertEqual(statuses, [201] * 2 + [429] * (BOT_SESSIONS - 2))
        after = self.counts()
        self.assertEqual(after['orders'], before['orders'] + 2)
        self.assertEqual(after['reserved'], before['reserved'] + 2)
        self.assertEqual(after['sessions'], before['sessions'] + BOT_SESSIONS)

        # The 11th order of the minute is over the rate, whatever it asks
        response = self.order(self.cart(), token=tokens[0])
        self.assertLimited(response, '/orders', 'post', 'rate_limited')
        self.assertEqual(self.counts(), after)

    def test_purchase_limit_after_lapse(self):
        """限购 2 per order, 3 per member in 30 days: an order of 3 is
        refused; after an unpaid order of 2 lapsed the member gets 1 more,
        then 429, at the preview too"""
        self.write_tea_limits(2, 3, datetime.timedelta(days=30))
        token, = self.open_sessions(1, 'o-limited', members=True)
        before = self.counts()
        response = self.order(self.cart(3), token=token)
        data = self.assertLimited(
            response, '/orders', 'post', 'quantity_limit', status=409)
        self.assertEqual(data['details']['limit'], 2)
        self.assertNotIn('Retry-After', response.headers)

        response = self.order(self.cart(2), token=token)
        self.assertEqual(response.status_code, 201)
        order = check_response(response, '/orders', 'post')['order']

        def lapse(pool):
            Payment = pool.get('web.shop.mp_payment')
            past = datetime.datetime.now() - datetime.timedelta(minutes=1)
            Payment.write(Payment.search([]), {'expires_at': past})
            Payment.check_pending()
        self.run_cron(lapse)
        response = self.request('GET', '/orders/%s' % order['id'], token)
        self.assertEqual(check_response(
                response, '/orders/{order}', 'get')['status'], 'cancelled')
        self.assertEqual(self.counts()['reserved'], before['reserved'])

        for path in ['/checkout/preview', '/orders']:
            with self.subTest(path=path):
                response = self.request(
                    'POST', path, token, json=self.cart(2),
                    headers={'Idempotency-Key': 'again-key-%s' % len(path)})
                data = self.assertLimited(
                    response, path, 'post', 'purchase_limit')
                self.assertEqual(data['details']['bought'], 2)
                self.assertGreater(
                    int(response.headers['Retry-After']), 29 * 24 * 3600)
        self.assertEqual(self.counts()['reserved'], before['reserved'])
        response = self.order(self.cart(1), token=token)
        self.assertEqual(response.status_code, 201)
        response = self.order(self.cart(1), token=token)
        self.assertLimited(response, '/orders', 'post', 'purchase_limit')
        self.assertEqual(self.counts()['reserved'], before['reserved'] + 1)

    def test_many_members_one_address(self):
        """10 members behind one address: the address's limits let 5 log
        in and 5 order; another address still can, and X-Forwarded-For
        is not believed"""
        self.write_shop({
                'mp_login_rate_address': 5,
                'mp_order_rate_address': 5,
                })
        bot = {'REMOTE_ADDR': '192.0.2.7'}
        before = self.counts()
        statuses = []
        for i in range(BOT_SESSIONS):
            self.fake.add_login('many-%s' % i, 'o-many-%s' % i)
            response = self.request('POST', '/login', json={
                    'shop': self.shop_id, 'code': 'many-%s' % i},
                environ_base=bot,
                headers={'X-Forwarded-For': '198.51.100.%s' % i})
            statuses.append(response.status_code)
            if response.status_code == 429:
                self.assertLimited(response, '/login', 'post', 'rate_limited')
        self.assertEqual(statuses, [200] * 5 + [429] * 5)
        self.assertEqual(self.counts()['sessions'], before['sessions'] + 5)

        tokens = self.open_sessions(BOT_SESSIONS, 'o-members', members=True)
        statuses = []
        for token in tokens:
            response = self.order(self.cart(), token=token, environ_base=bot)
            statuses.append(response.status_code)
            if response.status_code == 429:
                self.assertLimited(
                    response, '/orders', 'post', 'rate_limited')
        self.assertEqual(statuses, [201] * 5 + [429] * 5)
        self.assertEqual(self.counts()['orders'], before['orders'] + 5)
        self.assertEqual(self.counts()['reserved'], before['reserved'] + 5)
        response = self.order(self.cart(), token=tokens[-1],
            environ_base={'REMOTE_ADDR': '192.0.2.8'})
        self.assertEqual(response.status_code, 201)

    def test_burst(self):
        """A burst of sign-ins and coupon claims past the limit of 10 a
        window: the rest get 429 with Retry-After and issue nothing"""
        def numbers(pool):
            Number = pool.get('sale.promotion.coupon.number')
            with Transaction().set_context(active_test=False):
                return Number.search_count([('coupon', '=', self.coupon_id)])
        issued = self.read(numbers)
        for path, method in [
                ('/me/sign-in', 'post'),
                ('/coupons/%s/claim' % self.coupon_id, 'post')]:
            statuses = []
            for _ in range(15):
                response = self.request(method.upper(), path, self.token)
                statuses.append(response.status_code)
                if response.status_code == 429:
                    self.assertLimited(
                        response, path.replace(
                            str(self.coupon_id), '{coupon}'),
                        method, 'rate_limited')
            with self.subTest(path=path):
                self.assertEqual(statuses, [200] * 10 + [429] * 5)
        self.assertEqual(self.read(numbers), issued + 10)

    def test_failed_requests_count(self):
        """Orders that fail still count: after 10 refused orders in a
        window a good one is over the rate; the counters are in the
        database"""
        before = self.counts()
        for _ in range(10):
            response = self.order({
                    'items': [{'product': self.hidden_id, 'quantity': 1}],
                    'fulfilment': 'pickup', 'store': self.store_ids[1]})
            self.assertEqual(response.status_code, 404)
        response = self.order(self.cart())
        self.assertLimited(response, '/orders', 'post', 'rate_limited')
        self.assertEqual(self.counts(), before)

        def counters(pool):
            RateCounter = pool.get('web.shop.mp_rate_counter')
            return {(c.scope, c.key.split(':')[0]): c.count
                for c in RateCounter.search([])}
        self.assertEqual(self.read(counters), {
                ('order', 'member'): 11, ('order', 'ip'): 11})

    def test_stock_changes_published_page(self):
        """Anyone may ask for the stock changes, but gets only the shop's
        published products, a page of at most 500 at a time"""
        response = self.request(
            'GET', '/catalog/stock?shop=%s&since=0' % self.shop_id)
        data = check_response(response, '/catalog/stock', 'get')
        self.assertFalse(data['more'])
        self.assertEqual(
            {c['product'] for c in data['changes']}, {self.tea_id})

        pages, since = [], 0
        while True:
            response = self.request(
                'GET', '/catalog/stock?shop=%s&since=%s&limit=1' % (
                    self.shop_id, since))
            page = check_response(response, '/catalog/stock', 'get')
            self.assertLessEqual(len(page['changes']), 1)
            pages.append(page['changes'])
            since = page['version']
            if not page['more']:
                break
        def rows(changes):
            return sorted(
                (c['product'], c['store'], c['available']) for c in changes)
        self.assertEqual(
            rows(c for p in pages for c in p), rows(data['changes']))
        self.assertGreater(len(pages), 1)
        self.assertEqual(since, data['version'])

        response = self.request(
            'GET', '/catalog/stock?shop=%s&since=0&limit=501' % self.shop_id)
        self.assertEqual(response.status_code, 400)

    def test_health_tells_nothing(self):
        "The health check answers that it runs, not which modules"
        response = self.client().get('/%s/omni/ops/v1/health' % DB_NAME)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(json.loads(response.get_data()), {'status': 'ok'})

    def rpc_user(self, login, groups):
        "Create a user of the groups, log in over JSON-RPC, return the auth"
        password = login + '-pass-2026'

        def create():
            pool = Pool()
            Group = pool.get('res.group')
            ModelData = pool.get('ir.model.data')
            User = pool.get('res.user')
            User.create([{
                        'login': login, 'name': login, 'password': password,
                        'groups': [('add', [
                                    Group(ModelData.get_id(*g.split('.')))
                                    for g in groups])],
                        }])
        run({}, create)
        user_id, session, _ = self.rpc(
            None, 'common.db.login', login, {'password': password}, 'en')
        return 'Session ' + base64.b64encode(
            ('%s:%s:%s' % (login, user_id, session)).encode()).decode()

    def rpc(self, auth, method, *params):
        "Call method over JSON-RPC and return its result or raise its error"
        headers = {'Authorization': auth} if auth else {}
        response = self.client().post(
            '/%s/rpc/' % DB_NAME, headers=headers,
            json={'id': 1, 'method': method, 'params': list(params)})
        answer = json.loads(response.get_data())
        if 'error' in answer:
            raise RpcError(answer['error'])
        return answer['result']

    def test_openids_hidden_from_staff(self):
        """A plain sales user reads no openid or unionid over JSON-RPC: not
        the WeChat identities, not a member's, not a payment's, not in the
        member form; a party administrator does"""
        self.paid_order_exists()
        clerk = self.rpc_user('sales_clerk', ['sale.group_sale'])
        admin = self.rpc_user(
            'member_admin', ['sale.group_sale', 'party.group_party_admin'])
        calls = [
            ('model.party.wechat_identity.search_read',
                [], 0, None, None, ['openid', 'unionid'], {}),
            ('model.party.party.read',
                [self.member_id], ['wechat_identities'], {}),
            ('model.web.shop.mp_payment.search_read',
                [], 0, None, None, ['openid'], {}),
            ]
        for method, *params in calls:
            with self.subTest(method=method):
                with self.assertRaises(RpcError) as refused:
                    self.rpc(clerk, method, *params)
                kind, (message, *_) = refused.exception.args[0]
                self.assertEqual(kind, 'UserError')
                self.assertIn("You are not allowed to access", message)
                self.assertNotIn('o-member', str(refused.exception))
                self.assertTrue(self.rpc(admin, method, *params))
        identities = self.rpc(admin, 'model.party.wechat_identity.search_read',
            [('party', '=', self.member_id)], 0, None, None, ['openid'], {})
        self.assertIn('o-member', [i['openid'] for i in identities])
        form = self.rpc(
            clerk, 'model.party.party.fields_view_get', None, 'form', {})
        self.assertNotIn('wechat_identities', form['fields'])
        # Still the clerk reads the member and the payment
        member, = self.rpc(clerk, 'model.party.party.read',
            [self.member_id], ['name', 'member_number'], {})
        self.assertEqual(member['name'], "张伟")
        self.assertTrue(self.rpc(clerk,
                'model.web.shop.mp_payment.search_read',
                [], 0, None, None, ['out_trade_no', 'amount'], {}))

    def paid_order_exists(self):
        "Make sure the member has a payment with the openid"
        response = self.order(self.cart())
        self.assertEqual(response.status_code, 201)

    def login(self, code, openid, phone=None):
        "Log in with WeChat, bind the phone if given; return the token"
        self.fake.add_login(code, openid)
        response = self.request('POST', '/login', json={
                'shop': self.shop_id, 'code': code})
        self.assertEqual(response.status_code, 200)
        token = check_response(response, '/login', 'post')['token']
        if phone:
            self.fake.add_phone_code('phone-' + code, phone)
            response = self.request(
                'POST', '/me/phone', token, json={'code': 'phone-' + code})
            self.assertEqual(response.status_code, 200, response.get_data())
        return token

    def notices(self, kind):
        "The payloads of the member notifications of the kind"
        def read(pool):
            Notification = pool.get('member.notification')
            return [n.data for n in Notification.search([
                        ('kind', '=', kind)])]
        return self.read(read)

    def test_second_wechat_account(self):
        """A second WeChat account bound to a member queues a notice; the
        member lists the accounts and unbinds the stranger's, whose
        sessions end; another member can't unbind the member's account"""
        owner = self.login('own-1', 'o-owner', '+86 13912340001')
        self.assertEqual(self.notices('wechat_bound'), [])
        stranger = self.login('strange-1', 'o-stranger', '+86 13912340001')
        notice, = self.notices('wechat_bound')
        self.assertEqual(notice['accounts'], 2)

        response = self.request('GET', '/me/wechat', owner)
        accounts = check_response(response, '/me/wechat', 'get')['items']
        self.assertEqual(
            [a['current'] for a in accounts], [True, False])
        self.assertNotIn('o-stranger', json.dumps(accounts))
        other = accounts[1]['id']

        # Another member can't see nor unbind them
        response = self.request(
            'DELETE', '/me/wechat?account=%s' % other, self.other_token)
        self.assertEqual(check_response(
                response, '/me/wechat', 'delete')['code'],
            'wechat_account_not_found')
        self.assertEqual(
            self.request('GET', '/me', stranger).status_code, 200)

        response = self.request(
            'DELETE', '/me/wechat?account=%s' % other, owner)
        self.assertEqual(check_response(
                response, '/me/wechat', 'delete'),
            {'status': 'unbound', 'sessions': 1})
        self.assertEqual(
            self.request('GET', '/me', stranger).status_code, 401)
        again = self.login('strange-2', 'o-stranger')
        response = self.request('GET', '/me', again)
        self.assertIsNone(check_response(response, '/me', 'get')['member'])

        # The owner unbinds the own account: this session ends too
        response = self.request('DELETE', '/me/wechat', owner)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.request('GET', '/me', owner).status_code, 401)
        response = self.request('GET', '/me', self.login('own-2', 'o-owner'))
        self.assertIsNone(check_response(response, '/me', 'get')['member'])

    def test_logout_all(self):
        "Logging out everywhere ends every session of the member"
        tokens = [self.login('all-%s' % i, 'o-all', '+86 13912340002')
            for i in range(3)]
        response = self.request('POST', '/me/logout-all', tokens[0])
        self.assertEqual(check_response(
                response, '/me/logout-all', 'post'),
            {'status': 'logged_out', 'sessions': 3})
        for token in tokens:
            self.assertEqual(
                self.request('GET', '/me', token).status_code, 401)
        self.assertEqual(self.request('GET', '/me', self.token).status_code,
            200)

    def test_merge_notice(self):
        "A mall member who binds another member's phone is merged: a notice"
        token = self.login('merge-1', 'o-merge', '+86 13912340003')
        response = self.request('GET', '/me', token)
        number = check_response(response, '/me', 'get')['member']['number']
        other = self.login('merge-2', 'o-merge-2', '+86 13912340004')
        self.assertEqual(self.notices('member_merged'), [])
        self.fake.add_phone_code('phone-merge-3', '+86 13912340004')
        response = self.request(
            'POST', '/me/phone', token, json={'code': 'phone-merge-3'})
        self.assertEqual(response.status_code, 200)
        notice, = self.notices('member_merged')
        self.assertEqual(notice['merged_member_number'], number)
        self.assertEqual(self.request('GET', '/me', other).status_code, 200)

    def test_user_errors_not_echoed(self):
        """The ORM's errors that no route expects are answered with a
        stable code and our own message, and write nothing"""
        cases = [
            (UserError("Party 42: secret detail"), 400, 'rejected'),
            (AccessError("secret detail of the access rule"), 403,
                'forbidden'),
            ]
        for exception, status, code in cases:
            with self.subTest(code=code), patch.object(
                    routes, 'me_data', side_effect=exception):
                response = self.request(
                    'PUT', '/me', self.token, json={'name': "Mallory"})
                data = check_response(response, '/me', 'put')
                self.assertEqual(response.status_code, status)
                self.assertEqual(data['code'], code)
                self.assertNotIn('secret', json.dumps(data))
        self.assertEqual(self.member_name(), "张伟")

del RouteTestCase
