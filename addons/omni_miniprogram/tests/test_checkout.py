# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Checkout, WeChat Pay and orders, driven over HTTP as the mini-program
and WeChat Pay call them."""
import secrets
from decimal import Decimal
from urllib.parse import urlsplit

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from trytond.modules.account.tests import create_chart, get_fiscalyear
from trytond.modules.account_invoice.tests import set_invoice_sequences
from trytond.modules.company.tests import set_company
from trytond.modules.omni_miniprogram.tests.fake_wechat import (
    rsa_verify,
)
from trytond.modules.omni_miniprogram.tests.tools import (
    MallTestCase,
    check_response,
)


def fen(amount):
    return int(Decimal(amount) * 100)


class CheckoutTestCase(MallTestCase):
    "Test the mall's checkout, payments and orders"

    @classmethod
    def setUpDatabase(cls):
        super().setUpDatabase()
        pool = Pool()
        Company = pool.get('company.company')
        with Transaction().new_transaction(_lock_tables=[
                    'account_configuration', 'sale_configuration',
                    'member_configuration']) as transaction:
            company, = Company.search([])
            with set_company(company):
                cls.setUpMall(company)
            transaction.commit()

    @classmethod
    def setUpMall(cls, company):
        "Accounts, a WeChat Pay method, points, a gold tier and a coupon"
        pool = Pool()
        Account = pool.get('account.account')
        Category = pool.get('product.category')
        Coupon = pool.get('sale.promotion.coupon')
        Journal = pool.get('account.journal')
        MemberConfiguration = pool.get('member.configuration')
        Method = pool.get('account.invoice.payment.method')
        Party = pool.get('party.party')
        Product = pool.get('product.product')
        Promotion = pool.get('sale.promotion')
        Rule = pool.get('member.points.rule')
        SaleConfiguration = pool.get('sale.configuration')
        Shop = pool.get('web.shop')
        Template = pool.get('product.template')
        Tier = pool.get('member.tier')
        Entry = pool.get('member.points.entry')
        create_chart(company)
        fiscalyear = set_invoice_sequences(get_fiscalyear(company))
        fiscalyear.save()
        fiscalyear.create_period([fiscalyear])
        revenue, receivable = [Account.search([
                    ('type.' + kind, '=', True),
                    ('closed', '!=', True),
                    ], limit=1)[0] for kind in ['revenue', 'receivable']]
        cash, = Account.search([('code', '=', '1.1.1')], limit=1)
        Party.write(Party.search([]), {
                'account_receivable': receivable.id})
        category, = Category.create([{
                    'name': "Tea", 'accounting': True,
                    'account_revenue': revenue.id}])
        tea = Product(cls.tea_id)
        Template.write([tea.template], {
                'account_category': category.id,
                'list_price': Decimal(300)})
        journal, = Journal.search([('type', '=', 'cash')], limit=1)
        method, = Method.create([{
                    'name': "微信支付", 'journal': journal.id,
                    'credit_account': cash.id, 'debit_account': cash.id}])
        SaleConfiguration.write([SaleConfiguration(1)], {
                'pickup_payment_method': method.id})
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
        member = Party(cls.member_id)
        Tier.update_members([member])
        Entry.adjust(member, 2000, "Welcome")
        promotion, = Promotion.create([{
                    'name': "满100减20", 'formula': 'unit_price',
                    'amount': 100, 'currency': company.currency.id}])
        cls.coupon_id = Coupon.create([{
                    'promotion': promotion.id, 'discount_amount': 20,
                    'limit_per_member': 0}])[0].id
        Shop.write([Shop(cls.shop_id)], {
                'wechat_notify_url': 'https://mall.example.com'})

    def setUp(self):
        super().setUp()
        self.fake.openids.add('o-member')

    def claim_coupon(self):
        "Return the code of a new coupon number of the member"
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Coupon = pool.get('sale.promotion.coupon')
            Party = pool.get('party.party')
            number = Coupon.claim(Party(self.member_id), self.coupon_id)
            code = number.number
            transaction.commit()
        return code

    def order(self, cart, key=None, token=None):
        return self.request(
            'POST', '/orders', token or self.token, json=cart,
            headers={'Idempotency-Key': key or secrets.token_hex(8)})

    def notify(self, notification):
        "Post the notification WeChat Pay built to our endpoint"
        return self.client().post(
            urlsplit(notification.url).path, data=notification.body,
            headers=dict(notification.headers),
            content_type='application/json')

    def read(self, func):
        with Transaction().start(DB_NAME, 0):
            return func(Pool())

    def test_pickup_checkout(self):
        "A pickup order with tier, pickup discount, coupon and points"
        code = self.claim_coupon()
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

        out_trade_no, = [
            o for o, v in self.fake.orders.items()
            if v['prepay_id'] == payment['package'].split('=')[1]]
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
            self.assertEqual(
                Entry.balance(sale.party), 1000)
        self.read(check)


del MallTestCase
