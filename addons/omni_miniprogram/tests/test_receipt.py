# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The receipt of a purchase at a till, which the QR code of the printed
receipt opens in the mini-program: each member sees only their own."""
from decimal import Decimal

from trytond.pool import Pool
from trytond.tests.test_tryton import RouteTestCase

from trytond.modules.omni_miniprogram.tests.tools import (
    OrderTestMixin,
    check_response,
)


def create_point(store):
    "Create a till of the store and a card payment method; return both"
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    Location = pool.get('stock.location')
    Method = pool.get('sale.point.payment.method')
    ModelData = pool.get('ir.model.data')
    POS = pool.get('sale.point')
    Sequence = pool.get('ir.sequence.strict')
    journal, = Journal.search([('type', '=', 'revenue')], limit=1)
    customer, = Location.search([('code', '=', 'CUS')], limit=1)
    sequence, = Sequence.create([{
                'name': "Till",
                'sequence_type': ModelData.get_id(
                    'sale_point', 'sequence_type_sale'),
                'prefix': 'T1/',
                }])
    point, = POS.create([{
                'name': "Till 1", 'journal': journal.id,
                'sequence': sequence.id,
                'storage_location': store.storage_location.id,
                'return_location': store.storage_location.id,
                'customer_location': customer.id,
                }])
    cash, = Account.search([('code', '=', '1.1.1')], limit=1)
    method, = Method.create([{'name': "银行卡", 'account': cash.id}])
    return point, method


def create_sale(point, method, member, tea, quantity):
    "Create a sale of quantity teas of the member, paid and done"
    pool = Pool()
    Line = pool.get('sale.point.sale.line')
    Payment = pool.get('sale.point.payment')
    POSSale = pool.get('sale.point.sale')
    sale, = POSSale.create([{'point': point.id, 'member': member.id}])
    line = Line(sale=sale, product=tea, quantity=quantity)
    line.on_change_product()
    line.save()
    sale = POSSale(sale.id)
    Payment.create([{
                'sale': sale.id, 'method': method.id, 'amount': sale.total}])
    POSSale.do([POSSale(sale.id)])
    return POSSale(sale.id)


class ReceiptTestCase(OrderTestMixin, RouteTestCase):
    "Test the receipts of the till sales in the mall API"

    @classmethod
    def setUpMall(cls, company):
        super().setUpMall(company)
        pool = Pool()
        Location = pool.get('stock.location')
        Party = pool.get('party.party')
        POSSale = pool.get('sale.point.sale')
        Product = pool.get('product.product')
        Rule = pool.get('member.points.rule')
        Rule.create([{'channel': 'pos', 'points_per_yuan': Decimal(1)}])
        # The store with 5 boxes
        store = Location(cls.store_ids[1])
        point, method = create_point(store)
        member = Party(cls.member_id)
        other, = Party.search([('member_mobile', '=', '+8613700137000')])
        tea = Product(cls.tea_id)
        sale = create_sale(point, method, member, tea, 2)
        cls.number = sale.number
        cls.store_name = store.rec_name
        cls.total = sale.total
        cls.other_number = create_sale(point, method, other, tea, 1).number
        # A sale reopened after it was done keeps its number
        reopened = create_sale(point, method, member, tea, 1)
        POSSale.open([reopened])
        cls.reopened_number = reopened.number

    def receipt(self, number, token=None):
        return self.request('GET', '/me/receipts/' + number, token)

    def test_own_receipt(self):
        "The member's receipt: store, lines, total, payment and points"
        response = self.receipt(self.number, self.token)
        self.assertEqual(response.status_code, 200, response.json)
        check_response(response, '/me/receipts/{number}', 'get')
        data = response.json
        self.assertEqual(data['number'], self.number)
        self.assertEqual(data['store'], self.store_name)
        line, = data['lines']
        self.assertEqual(line['product'], "2019 老班章")
        self.assertEqual(line['quantity'], 2)
        self.assertEqual(
            Decimal(line['amount']), Decimal(line['unit_price']) * 2)
        self.assertEqual(Decimal(data['total']), self.total)
        self.assertEqual(data['coupon_discount'], '0.00')
        payment, = data['payments']
        self.assertEqual(payment['method'], "银行卡")
        self.assertEqual(Decimal(payment['amount']), self.total)
        self.assertGreater(data['points_earned'], 0)

    def test_number_with_slash(self):
        "The number of the QR code's link, with its slash encoded"
        response = self.receipt(
            self.number.replace('/', '%2F'), self.token)
        self.assertEqual(response.status_code, 200, response.json)

    def test_not_found(self):
        """Another member's receipt, a sale not done and an unknown number
        answer the same 404"""
        answers = [
            self.receipt(number, self.token)
            for number in [
                self.other_number, self.reopened_number, 'T1/999999']]
        for response in answers:
            self.assertEqual(response.status_code, 404)
            self.assertEqual(response.json, answers[-1].json)
        self.assertEqual(answers[-1].json['code'], 'receipt_not_found')
        # The other member sees their own
        response = self.receipt(self.other_number, self.other_token)
        self.assertEqual(response.status_code, 200)

    def test_unauthenticated(self):
        "Without a session or with an expired one it is a 401"
        for token in [None, self.expired_token]:
            with self.subTest(token=token):
                response = self.receipt(self.number, token)
                self.assertEqual(response.status_code, 401)
                self.assertEqual(response.json['code'], 'unauthorized')

    def test_guest(self):
        "A guest without a bound phone has no receipt"
        response = self.receipt(self.number, self.guest_token)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json['code'], 'phone_required')

    def test_bad_number(self):
        "A number over 64 characters is a bad request"
        response = self.receipt('9' * 65, self.token)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json['code'], 'invalid_request')
        self.assertEqual(response.json['details'], {'parameter': 'number'})
