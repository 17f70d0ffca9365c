# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The reports see the mall's orders: checked out and paid over HTTP as the
mini-program and WeChat Pay call them."""
from decimal import Decimal

from trytond.pool import Pool
from trytond.tests.test_tryton import RouteTestCase

from trytond.modules.omni_inventory_bridge.tests.tools import run
from trytond.modules.omni_miniprogram.tests.tools import (
    CheckoutTestMixin,
    check_response,
)


class MallCheckoutTestCase(CheckoutTestMixin, RouteTestCase):
    "Test the reports of the mall's orders"
    module = 'omni_insights'

    def assertInsightsRecorded(self, pool, sale, expected):
        "The reports see the sale's lines by channel and revenue"
        Line = pool.get('insights.line')
        self.assertEqual(sorted(
                (line.channel, line.revenue)
                for line in Line.search([('order', '=', str(sale))])),
            expected)
        self.assertEqual(Line.reconcile(), [])
        self.assertEqual(pool.get('insights.shipped').reconcile(), [])

    def test_delivery_cancel_refund(self):
        "A paid delivery order cancelled before it ships is refunded"
        before = self.figures(1)
        code = self.claim_coupon()
        order, out_trade_no = self.paid_order(
            self.delivery_cart(coupon=code, points=500))
        _, order = self.get_order(order['id'])
        self.assertEqual(order['status'], 'paid')
        self.assertIn("文三路 90 号", order['address'])
        # 285 at gold, coupon -20, 500 points -5
        self.assertEqual(order['totals']['total'], '260.00')
        self.assertTrue(order['can_cancel'])

        def paid(pool):
            Sale = pool.get('sale.sale')
            Entry = pool.get('member.points.entry')
            sale = Sale(order['id'])
            self.assertEqual(sale.state, 'processing')
            self.assertEqual(
                [i.state for i in sale.invoices], ['paid'])
            self.assertEqual(
                [r.state for r in Sale.pickup_reservations([sale])],
                ['confirmed'])
            self.assertInsightsRecorded(
                pool, sale, [
                    # the tea at gold less the coupon, and 500 points
                    ('mall_delivery', Decimal(-5)),
                    ('mall_delivery', Decimal(265)),
                    ])
            return Entry.balance(sale.party)
        balance = self.read(paid)

        response = self.request(
            'POST', '/orders/%s/cancel' % order['id'], self.token)
        order = check_response(response, '/orders/{order}/cancel', 'post')
        self.assertEqual(order['status'], 'refunding')
        refund, = self.fake.refunds.values()
        self.assertEqual(refund['amount']['refund'], 26000)
        notification = self.fake.refund_succeeded(
            refund['out_refund_no'], deliver=False)
        self.assertEqual(self.notify(notification).status_code, 204)
        self.assertEqual(self.notify(notification).status_code, 204)
        _, order = self.get_order(order['id'])
        self.assertEqual(order['status'], 'refunded')
        self.assertFalse(order['can_cancel'])
        self.assertEqual(self.figures(1), before)

        def refunded(pool):
            Entry = pool.get('member.points.entry')
            Number = pool.get('sale.promotion.coupon.number')
            Party = pool.get('party.party')
            number = Number.find(code)
            self.assertIsNone(number.redemption)
            self.assertInsightsRecorded(
                pool, pool.get('sale.sale')(order['id']), [])
            # the 500 points come back and the 260 earned go
            self.assertEqual(
                Entry.balance(Party(self.member_id)), balance + 500 - 260)
        self.read(refunded)
        self.assertStatusFilter()

    def test_pay_endless_aisle_order(self):
        "An order a store took for the member is paid in the mall"
        def take_order(pool):
            Line = pool.get('sale.line')
            Location = pool.get('stock.location')
            Party = pool.get('party.party')
            Sale = pool.get('sale.sale')
            member = Party(self.member_id)
            store, source = Location.browse(self.store_ids)
            address = pool.get('party.address')(party=member, street="1")
            address.save()
            sale = Sale(
                company=self.company_id, party=member, credited_store=store,
                warehouse=source, shipment_address=address,
                invoice_address=address)
            sale.lines = [Line(
                    type='line', product=self.tea_id, quantity=1,
                    unit=pool.get('product.product')(self.tea_id).sale_uom,
                    unit_price=Decimal(300))]
            sale.save()
            Sale.quote([sale])
            return sale.id
        sale_id = run({'company': self.company_id},
            lambda: take_order(Pool()))
        _, order = self.get_order(sale_id)
        self.assertEqual(order['status'], 'awaiting_payment')
        self.assertTrue(order['can_pay'])
        self.assertEqual(self.get_order(sale_id, self.other_token)[0]
            .status_code, 404)

        response = self.request(
            'POST', '/orders/%s/pay' % sale_id, self.token)
        data = check_response(response, '/orders/{order}/pay', 'post')
        out_trade_no = self.fake.out_trade_no(data['payment'])
        self.assertEqual(
            self.fake.orders[out_trade_no]['amount']['total'], 30000)
        self.assertEqual(
            self.notify(self.fake.pay(out_trade_no, deliver=False))
            .status_code, 204)
        _, order = self.get_order(sale_id)
        self.assertEqual(order['status'], 'paid')

        def check(pool):
            sale = pool.get('sale.sale')(sale_id)
            self.assertEqual(sale.state, 'processing')
            self.assertEqual([i.state for i in sale.invoices], ['paid'])
            self.assertEqual(sale.credited_store.id, self.store_ids[0])
            self.assertInsightsRecorded(
                pool, sale, [('endless_aisle', Decimal(300))])
        self.read(check)


del RouteTestCase
