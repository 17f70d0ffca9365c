# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What the tests of the mall API share: a mini-program shop with a member,
a guest and a catalog, called over HTTP as the mini-program calls it; and
what the WeChat cases share: a fake WeChat of each test's own."""
import datetime
import io
import json
import secrets
import socket
import traceback
from decimal import Decimal
from unittest.mock import patch
from urllib.parse import urlsplit

from PIL import Image, ImageDraw
from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

from trytond.modules.account.tests import create_chart, get_fiscalyear
from trytond.modules.account_invoice.tests import set_invoice_sequences
from trytond.modules.company.tests import create_company, set_company
from trytond.modules.omni_inventory_bridge.tests.tools import retrying, run
from trytond.modules.omni_miniprogram import wechat
from trytond.modules.omni_miniprogram.api import OPENAPI, validate
from trytond.modules.omni_miniprogram.tests.fake_wechat import FakeWeChat

PREFIX = '/%s/omni/mp/v1' % DB_NAME


def check_response(response, path, method):
    "Check the response against the OpenAPI document and return its data"
    assert response.content_type.startswith('application/json'), (
        response.content_type)
    data = json.loads(response.get_data())
    operation = OPENAPI['paths'][path][method]
    answer = operation['responses'][str(response.status_code)]
    if '$ref' in answer:
        answer = OPENAPI['components']['responses'][
            answer['$ref'].rsplit('/', 1)[1]]
    validate(data, answer['content']['application/json']['schema'])
    return data


def create_store(code, latitude, longitude):
    "Create a store: a warehouse with its zones at the coordinates"
    pool = Pool()
    Location = pool.get('stock.location')
    ModelData = pool.get('ir.model.data')
    zones = Location.create([{'name': code + z, 'type': 'storage'}
            for z in ['-IN', '-OUT', '-STO']])
    store, = Location.create([{
                'name': code, 'code': code, 'type': 'warehouse',
                'latitude': Decimal(latitude),
                'longitude': Decimal(longitude),
                'input_location': zones[0].id,
                'output_location': zones[1].id,
                'storage_location': zones[2].id,
                'lost_found_location': ModelData.get_id(
                    'stock', 'location_lost_found'),
                }])
    Location.write(zones, {'parent': store.id})
    return store


def put_stock(product, store, quantity):
    "Put quantity of the product on the store's shelf by an inventory"
    Inventory = Pool().get('stock.inventory')
    inventory, = Inventory.create([{
                'location': store.storage_location.id,
                'lines': [('create', [{
                                'product': product.id,
                                'quantity': quantity}])],
                }])
    Inventory.confirm([inventory])


def create_teas(names, category):
    "Create a salable tea at 300 of each name in the category"
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    Template = pool.get('product.template')
    unit = ModelData.get_id('product', 'uom_unit')
    templates = Template.create([{
                'name': name, 'type': 'goods', 'salable': True,
                'default_uom': unit, 'sale_uom': unit,
                'gross_price': Decimal('300'),
                'categories': [('add', [category.id])],
                'web_shop_description': "云南勐海",
                'products': [('create', [{}])],
                } for name in names])
    return [t.products[0] for t in templates]


def tea_cake_picture(size=(1000, 800)):
    "Return a JPEG of a brown tea cake on white, 1000 × 800 pixels"
    picture = Image.new('RGB', size, 'white')
    ImageDraw.Draw(picture).ellipse(
        (100, 50, size[0] - 100, size[1] - 50), fill=(120, 70, 30))
    data = io.BytesIO()
    picture.save(data, format='JPEG')
    return data.getvalue()


def create_catalog(shop):
    """Publish a tea stocked in two stores 2.9 km apart (2 and 5 boxes)
    with a picture of its cake; return the tea, an unpublished product and
    the stores"""
    pool = Pool()
    Category = pool.get('product.category')
    ProductImage = pool.get('product.image')
    category = Category(name="普洱")
    category.save()
    tea, hidden = create_teas(["2019 老班章", "Unpublished"], category)
    ProductImage.create([{
                'template': p.template.id, 'image': tea_cake_picture(),
                'description': "茶饼"} for p in [tea, hidden]])
    stores = []
    for code, lat, lon, quantity in [
            ('WL', '30.2590', '120.1300', 2),
            ('CJ', '30.2420', '120.1600', 5)]:
        store = create_store(code, lat, lon)
        put_stock(tea, store, quantity)
        stores.append(store)
    shop.warehouses = stores
    shop.products = [tea]
    shop.categories = [category]
    shop.save()
    return tea, hidden, stores


def create_accounting(company, teas):
    """Create the chart and fiscal year of the company, the accounting
    category of the teas and the WeChat Pay method of pickup payments"""
    pool = Pool()
    Account = pool.get('account.account')
    Category = pool.get('product.category')
    Journal = pool.get('account.journal')
    Method = pool.get('account.invoice.payment.method')
    Party = pool.get('party.party')
    SaleConfiguration = pool.get('sale.configuration')
    Template = pool.get('product.template')
    create_chart(company)
    fiscalyear = set_invoice_sequences(get_fiscalyear(company))
    fiscalyear.save()
    fiscalyear.create_period([fiscalyear])
    revenue, receivable = [Account.search([
                ('type.' + kind, '=', True),
                ('closed', '!=', True),
                ], limit=1)[0] for kind in ['revenue', 'receivable']]
    cash, = Account.search([('code', '=', '1.1.1')], limit=1)
    Party.write(Party.search([]), {'account_receivable': receivable.id})
    category, = Category.create([{
                'name': "Tea", 'accounting': True,
                'account_revenue': revenue.id}])
    Template.write([t.template for t in teas], {
            'account_category': category.id,
            'list_price': Decimal(300)})
    journal, = Journal.search([('type', '=', 'cash')], limit=1)
    method, = Method.create([{
                'name': "微信支付", 'journal': journal.id,
                'credit_account': cash.id, 'debit_account': cash.id}])
    SaleConfiguration.write([SaleConfiguration(1)], {
            'pickup_payment_method': method.id})
    return category


def create_mall(company, teas, member):
    """Create the accounting of the mall and its points, a gold tier of -5%
    for the member with 2000 points and a coupon of 20 off 100; return the
    coupon"""
    pool = Pool()
    Coupon = pool.get('sale.promotion.coupon')
    Entry = pool.get('member.points.entry')
    MemberConfiguration = pool.get('member.configuration')
    Promotion = pool.get('sale.promotion')
    Rule = pool.get('member.points.rule')
    Template = pool.get('product.template')
    Tier = pool.get('member.tier')
    category = create_accounting(company, teas)
    unit = pool.get('ir.model.data').get_id('product', 'uom_unit')
    points_product, = Template.create([{
                'name': "积分抵扣", 'type': 'service',
                'default_uom': unit, 'salable': True, 'sale_uom': unit,
                'account_category': category.id,
                'products': [('create', [{}])]}])
    MemberConfiguration.write([MemberConfiguration(1)], {
            'points_product': points_product.products[0].id})
    Rule.create([{'channel': 'mall', 'points_per_yuan': Decimal(1)}])
    Tier.create([{
                'name': "金卡", 'threshold': 0, 'discount': 5,
                'points_multiplier': 1}])
    Tier.update_members([member])
    Entry.adjust(member, 2000, "Welcome")
    promotion, = Promotion.create([{
                'name': "满100减20", 'formula': 'unit_price',
                'amount': 100, 'currency': company.currency.id}])
    coupon, = Coupon.create([{
                'promotion': promotion.id, 'discount_amount': 20,
                'limit_per_member': 0}])
    return coupon


class MallTestMixin:
    """Set up a shop with the member 张伟, a guest and a tea in two stores,
    for a RouteTestCase"""
    module = 'omni_miniprogram'

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeWeChat().__enter__()
        cls.addClassCleanup(cls.fake.__exit__, None, None, None)
        super().setUpClass()

    @classmethod
    def setUpDatabase(cls):
        pool = Pool()
        Party = pool.get('party.party')
        Session = pool.get('web.shop.mp_session')
        Shop = pool.get('web.shop')
        # The outer transaction must not write party_party, which the
        # new one locks
        with Transaction().new_transaction(
                _lock_tables=[Party._table]) as transaction, \
                set_company(create_company()):
            shop = Shop(name="Tea Mall", **cls.fake.shop_values())
            shop.save()
            member = Party.register_member('13800138000', "张伟", 'mall')
            Party.register_member('13700137000', "李娜", 'pos')
            cls.shop_id = shop.id
            cls.member_id = member.id
            _, cls.token = Session.open(shop, 'o-member', member=member)
            _, cls.guest_token = Session.open(shop, 'o-guest')
            expired, cls.expired_token = Session.open(shop, 'o-old')
            expired.expires_at = datetime.datetime(2020, 1, 1)
            expired.save()
            cls.setUpCatalog(shop)
            transaction.commit()

    @classmethod
    def setUpCatalog(cls, shop):
        "Publish a tea stocked in two stores 2.9 km apart"
        tea, hidden, stores = create_catalog(shop)
        cls.tea_id, cls.hidden_id = tea.id, hidden.id
        cls.store_ids = [s.id for s in stores]

    def setUp(self):
        super().setUp()
        # Every test starts with its rate limits' counters at zero
        with Transaction().start(DB_NAME, 0) as transaction:
            RateCounter = Pool().get('web.shop.mp_rate_counter')
            RateCounter.delete(RateCounter.search([]))
            transaction.commit()

    def member_name(self):
        with Transaction().start(DB_NAME, 0):
            return Pool().get('party.party')(self.member_id).name

    def request(self, method, path, token=None, **kwargs):
        "Send the request from 127.0.0.1 unless environ_base tells"
        headers = kwargs.pop('headers', {})
        if token:
            headers['Authorization'] = 'Bearer ' + token
        kwargs['environ_base'] = dict(
            {'REMOTE_ADDR': '127.0.0.1'}, **kwargs.get('environ_base', {}))
        return self.client().open(
            PREFIX + path, method=method, headers=headers, **kwargs)


class OrderTestMixin(MallTestMixin):
    """The mall with its accounts, points, a gold tier and a coupon, where
    the members order, for a RouteTestCase"""

    @classmethod
    def setUpDatabase(cls):
        super().setUpDatabase()
        Company = Pool().get('company.company')

        def set_up():
            company, = Company.search([])
            with set_company(company):
                cls.setUpMall(company)
        retrying(Transaction().new_transaction, set_up)

    @classmethod
    def setUpMall(cls, company):
        "Accounts, a WeChat Pay method, points, a gold tier and a coupon"
        pool = Pool()
        Party = pool.get('party.party')
        Product = pool.get('product.product')
        Shop = pool.get('web.shop')
        cls.coupon_id = create_mall(
            company, [Product(cls.tea_id)], Party(cls.member_id)).id
        Shop.write([Shop(cls.shop_id)], {
                'wechat_notify_url': 'https://mall.example.com',
                'wechat_template_pickup_ready': 'tpl-ready'})
        pool.get('party.wechat_identity').bind(
            Party(cls.member_id), cls.fake.appid, 'o-member')
        cls.company_id = company.id
        other = Party.search([('member_mobile', '=', '+8613700137000')])[0]
        _, cls.other_token = pool.get('web.shop.mp_session').open(
            Shop(cls.shop_id), 'o-other', member=other)

    def setUp(self):
        super().setUp()
        self.fake.openids.update({'o-member', 'o-other'})

    def order(self, cart, key=None, token=None, **kwargs):
        return self.request(
            'POST', '/orders', token or self.token, json=cart,
            headers={'Idempotency-Key': key or secrets.token_hex(8)},
            **kwargs)

    def notify(self, notification):
        "Post the notification WeChat Pay built to our endpoint"
        return self.client().post(
            urlsplit(notification.url).path, data=notification.body,
            headers=dict(notification.headers),
            content_type='application/json')

    def read(self, func):
        with Transaction().start(DB_NAME, 0):
            return func(Pool())

    def figures(self, store=0):
        "(on hand, reserved, available) of the tea at a store"
        def read(pool):
            Availability = pool.get('stock.availability')
            return Availability.get(
                [self.tea_id], [self.store_ids[store]])[
                (self.tea_id, self.store_ids[store])]
        return self.read(read)

    def run_cron(self, func):
        "Run func as the scheduler runs a cron and return its result"
        return run({'company': self.company_id}, lambda: func(Pool()))


class CheckoutTestMixin(OrderTestMixin):
    """The mall where the members check out and pay with WeChat Pay, for a
    RouteTestCase"""

    def claim_coupon(self):
        "Return the code of a new coupon number of the member"
        def claim():
            pool = Pool()
            Coupon = pool.get('sale.promotion.coupon')
            Party = pool.get('party.party')
            return Coupon.claim(Party(self.member_id), self.coupon_id).number
        return run({'company': self.company_id}, claim)

    def assertStatusFilter(self):
        """Each status of GET /orders?status= lists the member's orders of
        that status, as GET /orders shows them, a page at a time"""
        response = self.request('GET', '/orders', self.token,
            query_string={'per_page': 100})
        orders = check_response(response, '/orders', 'get')['items']
        self.assertTrue(orders)
        for status in sorted({o['status'] for o in orders} | {'done'}):
            expected = [o['id'] for o in orders if o['status'] == status]
            response = self.request('GET', '/orders', self.token,
                query_string={'status': status, 'per_page': 1, 'page': 1})
            data = check_response(response, '/orders', 'get')
            self.assertEqual(data['total'], len(expected), status)
            self.assertEqual(
                [o['id'] for o in data['items']], expected[:1], status)

    def paid_order(self, cart, pay=True):
        "Order the cart, pay it and return the order and its trade number"
        response = self.order(cart)
        data = check_response(response, '/orders', 'post')
        self.assertEqual(response.status_code, 201, data)
        out_trade_no = self.fake.out_trade_no(data['payment'])
        if pay:
            notification = self.fake.pay(out_trade_no, deliver=False)
            self.assertEqual(self.notify(notification).status_code, 204)
        return data['order'], out_trade_no

    def get_order(self, order_id, token=None):
        response = self.request(
            'GET', '/orders/%s' % order_id, token or self.token)
        return response, check_response(response, '/orders/{order}', 'get')

    def delivery_cart(self, quantity=1, **values):
        return dict({
                'items': [{'product': self.tea_id, 'quantity': quantity}],
                'fulfilment': 'delivery',
                'address': {
                    'name': "张伟", 'phone': '13800138000',
                    'region': "浙江省杭州市", 'street': "文三路 90 号",
                    'latitude': 30.28, 'longitude': 120.12}}, **values)


LOCAL_HOSTS = {'127.0.0.1', 'localhost'}
_getaddrinfo = socket.getaddrinfo


def local_only(host, *args, **kwargs):
    "No test reaches the internet"
    if host not in LOCAL_HOSTS:
        raise AssertionError("test tried to reach %s" % host)
    return _getaddrinfo(host, *args, **kwargs)


class WeChatTestMixin:
    """The real wechatpy and wechatpayv3 against a fake WeChat of each
    test's own; nothing else is reachable"""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module('omni_miniprogram')
        guard = patch('socket.getaddrinfo', local_only)
        guard.start()
        cls.addClassCleanup(guard.stop)

    def setUp(self):
        super().setUp()
        self.fake = FakeWeChat().__enter__()
        self.addCleanup(self.fake.__exit__, None, None, None)

    def create_shop(self, **values):
        Shop = Pool().get('web.shop')
        company = create_company()
        # A name of its own: on SQLite in memory a test's shop has been seen
        # to outlive its rolled back transaction in the full run
        shop = Shop(
            name="Mall %s" % secrets.token_hex(4), company=company,
            currency=company.currency,
            **dict(self.fake.shop_values(), **values))
        shop.save()
        return shop

    def prepay(self, shop, out_trade_no, amount=2500, openid='o-buyer'):
        self.fake.add_login('code-%s' % out_trade_no, openid)
        return wechat.jsapi_prepay(
            shop, out_trade_no, "西湖龙井 250g", amount, openid,
            'https://mall.example.com/notify/pay',
            datetime.datetime.utcnow() + datetime.timedelta(minutes=15))

    def assert_only_fake(self):
        self.assertTrue(self.fake.requests)
        for request in self.fake.requests:
            self.assertIsNotNone(self.fake.route(
                    request.method, request.path), request)

    @staticmethod
    def error_text(error):
        text = ''.join(traceback.format_exception(error)) + repr(error)
        if isinstance(error, UserError):
            text += str(error.message) + str(error.description)
        return text
