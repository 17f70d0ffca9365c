# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from decimal import Decimal
from pathlib import Path

from trytond.tests.test_tryton import ModuleTestCase, with_transaction

from trytond.modules.omni_insights.exceptions import StatementError
from trytond.modules.omni_insights.reconciliation import parse_trade_bill
from trytond.modules.omni_inventory_bridge.tests.tools import StackMixin

BILL = (Path(__file__).parent / 'wechat_trade_bill.csv').read_bytes()


class OmniInsightsTestCase(StackMixin, ModuleTestCase):
    "Test Omni Insights module"
    module = 'omni_insights'

    @with_transaction()
    def test_parse_trade_bill(self):
        "The rows of the bill without their backticks, in any encoding"
        for data in [BILL, b'\xef\xbb\xbf' + BILL,
                BILL.decode('utf-8').encode('gb18030')]:
            rows = parse_trade_bill(data)
            self.assertEqual(
                [(r['交易状态'], r['商户订单号'], r['商户退款单号'],
                        Decimal(r['手续费'])) for r in rows],
                [('SUCCESS', 'MP0001', '0', Decimal('1.19')),
                    ('SUCCESS', 'MP0003', '0', Decimal('0.6')),
                    ('REFUND', 'MP0003', 'RF0003', Decimal('-0.6')),
                    ('SUCCESS', 'MP7777', '0', Decimal('0.3'))])

    @with_transaction()
    def test_parse_trade_bill_refused(self):
        "A bill with another header, a bad amount or a wrong summary"
        lines = BILL.split(b'\r\n')
        for data in [
                b'\r\n'.join([b'a,b,c'] + lines[1:]),
                BILL.replace(b'`1.19000', b'`1.19x'),
                BILL.replace(b'`1.49000', b'`1.50000'),
                b'\r\n'.join(lines[:2] + lines[3:]),
                BILL.replace(b',`JSAPI', b''),
                ]:
            with self.assertRaises(StatementError):
                parse_trade_bill(data)


del ModuleTestCase
