# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime as dt
from decimal import Decimal
from pathlib import Path

from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from trytond.modules.company.tests import create_company
from trytond.modules.omni_insights.exceptions import StatementError
from trytond.modules.omni_insights.reconciliation import parse_trade_bill
from trytond.modules.omni_insights.summary import other_days, whole_months
from trytond.modules.omni_inventory_bridge.tests.tools import SaoWidgetsMixin

BILL = (Path(__file__).parent / 'wechat_trade_bill.csv').read_bytes()


def insert_line(id_, company, date, revenue, product=None):
    "Insert a recorded POS line of one unit"
    line = Pool().get('insights.line').__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*line.insert(
            [line.id, line.company, line.date, line.order, line.channel,
                line.product, line.quantity, line.revenue],
            [[id_, company.id, date, 'sale.sale,%s' % id_, 'pos', product, 1,
                    Decimal(revenue)]]))


class OmniInsightsTestCase(SaoWidgetsMixin, ModuleTestCase):
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

    def test_whole_months(self):
        "The months wholly in a period and the days around them"
        months = whole_months(dt.date(2025, 11, 27), dt.date(2026, 2, 28))
        self.assertEqual(months, [
                dt.date(2025, 12, 1), dt.date(2026, 1, 1),
                dt.date(2026, 2, 1)])
        self.assertEqual(
            whole_months(dt.date(2026, 1, 1), dt.date(2026, 1, 30)), [])
        self.assertEqual(
            other_days(dt.date(2025, 11, 27), dt.date(2026, 3, 2),
                [dt.date(2025, 12, 1), dt.date(2026, 2, 1)]),
            [(dt.date(2025, 11, 27), dt.date(2025, 11, 30)),
                (dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
                (dt.date(2026, 3, 1), dt.date(2026, 3, 2))])

    @with_transaction()
    def test_summarize_again(self):
        "Lines recorded again in a summarized month summarize it again"
        pool = Pool()
        Line = pool.get('insights.line')
        LineMonth = pool.get('insights.line.month')
        Month = pool.get('insights.summarized_month')
        company = create_company()
        line = Line.__table__()
        cursor = Transaction().connection.cursor()
        for id_, date, revenue in [
                (1, dt.date(2026, 1, 5), 10),
                (3, dt.date(2026, 1, 20), 5),
                (5, dt.date(2026, 2, 3), 7)]:
            insert_line(id_, company, date, revenue)

        def revenues():
            rows = LineMonth.rows(
                company.id, dt.date(2026, 1, 1), dt.date(2026, 2, 10))
            cursor.execute(*rows.select(
                    rows.date, rows.revenue, order_by=[rows.date]))
            return [(str(d)[:10], float(r)) for d, r in cursor]

        self.assertEqual(revenues(),
            [('2026-01-05', 10), ('2026-01-20', 5), ('2026-02-03', 7)])
        with Transaction().set_context(company=company.id):
            Month.summarize()
        self.assertEqual(revenues(), [('2026-01-01', 15), ('2026-02-03', 7)])

        cursor.execute(*line.update(
                [line.revenue], [Decimal(20)], where=line.id == 3))
        Month.summarize_again(
            'insights.line', [(company.id, dt.date(2026, 1, 20))])
        self.assertEqual(revenues(), [('2026-01-01', 30), ('2026-02-03', 7)])

        summarized = Month.search([])
        Month.summarize()
        self.assertEqual(Month.search([]), summarized)

    @with_transaction()
    def test_reports_of_user_companies(self):
        "A user reads the recorded lines and reports of his companies only"
        pool = Pool()
        Line = pool.get('insights.line')
        ModelData = pool.get('ir.model.data')
        ProductChannel = pool.get('insights.product_channel')
        Template = pool.get('product.template')
        User = pool.get('res.user')
        ours = create_company()
        theirs = create_company("Other Chain", ours.currency)
        template, = Template.create([{
                    'name': "Tea",
                    'default_uom': ModelData.get_id('product', 'uom_unit'),
                    'products': [('create', [{}])],
                    }])
        product, = template.products
        today = dt.date(2026, 11, 2)
        for id_, company in [(1, ours), (2, theirs)]:
            insert_line(id_, company, today, 10, product.id)
        user, = User.create([{
                    'name': "Owner", 'login': 'owner',
                    'companies': [('add', [ours.id])], 'company': ours.id,
                    'groups': [('add', [
                                ModelData.get_id(
                                    'omni_insights', 'group_owner')])],
                    }])

        context = {'from_date': today, 'to_date': today}
        with Transaction().set_user(user.id), \
                Transaction().set_context(context, _check_access=True):
            self.assertEqual([row.id for row in Line.search([])], [1])
            for company, revenues in [(ours, [Decimal(10)]), (theirs, [])]:
                with Transaction().set_context(company=company.id):
                    self.assertEqual(
                        [r.revenue for r in ProductChannel.search([])],
                        revenues)


del ModuleTestCase
