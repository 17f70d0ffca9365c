# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""One price: what the preview shows, what the order saves and what WeChat
Pay is asked for are the same to the fen, over random carts."""
from decimal import Decimal
from unittest.mock import patch

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from trytond.pool import Pool
from trytond.tests.test_tryton import RouteTestCase

from trytond.modules.omni_inventory_bridge.tests.tools import run
from trytond.modules.omni_miniprogram.tests.tools import (
    OrderTestMixin,
    check_response,
    create_store,
    create_teas,
    put_stock,
)

# Prices that round: a tax of 13 % on 9.99 is 1.2987
PRICES = ['123.45', '9.99', '58.80', '0.35']

carts = st.fixed_dictionaries({
        'items': st.lists(
            st.tuples(
                st.integers(0, len(PRICES) - 1), st.integers(1, 3)),
            min_size=1, max_size=4),
        'pickup': st.sampled_from([None, 0, 1, 2]),
        'coupon': st.booleans(),
        'points': st.sampled_from([0, 1, 99, 250, 1234, 5000]),
        'gold': st.booleans(),
        })


class PricingTestCase(OrderTestMixin, RouteTestCase):
    "Test that one function prices the preview, the order and the payment"

    @classmethod
    def setUpMall(cls, company):
        super().setUpMall(company)
        pool = Pool()
        Account = pool.get('account.account')
        Category = pool.get('product.category')
        Entry = pool.get('member.points.entry')
        Party = pool.get('party.party')
        Product = pool.get('product.product')
        Shop = pool.get('web.shop')
        Tax = pool.get('account.tax')
        Template = pool.get('product.template')
        account, = Account.search([('code', '=', '6.3.6')], limit=1)
        tax, = Tax.create([{
                    'name': "VAT 13%", 'description': "VAT 13%",
                    'type': 'percentage',
                    'rate': Decimal('0.13'),
                    'invoice_account': account.id,
                    'credit_note_account': account.id}])
        accounting, = Category.copy(
            [Product(cls.tea_id).template.account_category],
            {'name': "Taxed Tea"})
        Category.write([accounting], {
                'customer_taxes': [('add', [tax.id])]})
        shop = Shop(cls.shop_id)
        category = shop.categories[0]
        teas = create_teas(
            ["Priced %s" % p for p in PRICES], category)
        for tea, price in zip(teas, PRICES, strict=True):
            Template.write([tea.template], {
                    'list_price': Decimal(price),
                    'account_category': accounting.id})
        # A third store with its own pickup discount, the others take the
        # mall's
        store = create_store('PD', '30.2500', '120.1500')
        store.pickup_discount = Decimal('0.075')
        store.save()
        stores = [*shop.warehouses, store]
        for tea in teas:
            for each in stores:
                put_stock(tea, each, 10000)
        shop.warehouses = stores
        shop.products = [*shop.products, *teas]
        shop.pickup_discount = Decimal('0.1')
        shop.mp_max_unpaid_orders = None
        shop.mp_order_rate_member = None
        shop.mp_order_rate_address = None
        shop.save()
        cls.priced_ids = [t.id for t in teas]
        cls.all_store_ids = [s.id for s in stores]
        other, = Party.search([('member_mobile', '=', '+8613700137000')])
        for member in [Party(cls.member_id), other]:
            Entry.adjust(member, 1000000, "Pricing")

    def claim(self, gold):
        def claim():
            pool = Pool()
            Coupon = pool.get('sale.promotion.coupon')
            Party = pool.get('party.party')
            if gold:
                member = Party(self.member_id)
            else:
                member, = Party.search(
                    [('member_mobile', '=', '+8613700137000')])
            return Coupon.claim(member, self.coupon_id).number
        return run({'company': self.company_id}, claim)

    @settings(max_examples=30, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck))
    @given(carts)
    def test_one_price(self, example):
        "The preview, the order, the sale and the prepay agree to the fen"
        token = self.token if example['gold'] else self.other_token
        cart = {'items': [
                {'product': self.priced_ids[i], 'quantity': q}
                for i, q in example['items']]}
        if example['pickup'] is None:
            cart.update(fulfilment='delivery', address={
                    'name': "张伟", 'phone': '13800138000',
                    'region': "浙江省杭州市西湖区",
                    'street': "文三路 90 号",
                    'latitude': 30.2590, 'longitude': 120.1300})
        else:
            cart.update(fulfilment='pickup',
                store=self.all_store_ids[example['pickup']])
        if example['coupon']:
            cart['coupon'] = self.claim(example['gold'])
        if example['points']:
            cart['points'] = example['points']

        response = self.request(
            'POST', '/checkout/preview', token, json=cart)
        quote = check_response(response, '/checkout/preview', 'post')
        if response.status_code == 409:
            # Over the cap of the points or below the coupon's minimum
            self.assertIn(
                quote['code'], {'points_over_cap', 'coupon_unusable'})
            event(quote['code'])
            return
        event('ordered')
        self.assertEqual(response.status_code, 200, quote)
        response = self.order(cart, token=token)
        data = check_response(response, '/orders', 'post')
        self.assertEqual(response.status_code, 201, data)
        order = data['order']
        self.assertEqual(order['totals'], quote['totals'])
        self.assertEqual(order['lines'], quote['lines'])
        self.assertEqual(order['store'], quote['store'])
        total = Decimal(quote['totals']['total'])
        if data['payment']:
            trade = self.fake.orders[self.fake.out_trade_no(data['payment'])]
            self.assertEqual(trade['amount']['total'], int(total * 100))
        else:
            self.assertEqual(total, 0)

        def check(pool):
            Sale = pool.get('sale.sale')
            sale = Sale(order['id'])
            self.assertEqual(sale.state, 'quotation')
            self.assertEqual(sale.total_amount, total)
            self.assertEqual(sale.total_amount,
                sale.untaxed_amount + sale.tax_amount)
            if any(i == 1 for i, _ in example['items']):
                # 9.99 is taxed with a remainder
                self.assertTrue(sale.tax_amount)
        self.read(check)

    def test_preview_saves_nothing(self):
        "The preview prices the cart without a sale: no number is burnt"
        Sale = self.read(lambda pool: pool.get('sale.sale'))
        cart = {
            'items': [{'product': self.priced_ids[0], 'quantity': 2}],
            'fulfilment': 'pickup', 'store': self.all_store_ids[2],
            'coupon': self.claim(True), 'points': 100}
        with patch.object(Sale, 'create', side_effect=AssertionError), \
                patch.object(Sale, 'set_number', side_effect=AssertionError):
            response = self.request(
                'POST', '/checkout/preview', self.token, json=cart)
        quote = check_response(response, '/checkout/preview', 'post')
        self.assertEqual(response.status_code, 200, quote)
        self.assertEqual(quote['totals']['points'], 100)
        self.assertEqual(quote['store']['id'], self.all_store_ids[2])
