# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The two-phase checkout with a queue worker: POST /orders takes the order
and answers; the worker builds its sale. The member sees one order, with
one id, before and after; payment, cancel and a failed build work whether
or not the sale is built yet."""
import contextlib
import datetime
from unittest.mock import patch

from trytond import config
from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.worker import run_task

from trytond.modules.omni_miniprogram.tests.tools import (
    OrderTestMixin,
    check_response,
)


@contextlib.contextmanager
def queue_worker():
    "Configure a queue worker: the requests queue their tasks"
    if not config.has_section('queue'):
        config.add_section('queue')
    configured = config.get('queue', 'worker') or 'False'
    config.set('queue', 'worker', 'True')
    try:
        yield
    finally:
        config.set('queue', 'worker', configured)


class IntakeTestCase(OrderTestMixin, RouteTestCase):
    "Test the mall's orders taken at once and built behind"

    def cart(self, quantity=1):
        return {
            'items': [{'product': self.tea_id, 'quantity': quantity}],
            'fulfilment': 'pickup', 'store': self.store_ids[1]}

    def take(self, quantity=1):
        "Order the cart with a worker configured; return the answer"
        with queue_worker():
            response = self.order(self.cart(quantity))
        self.assertEqual(response.status_code, 201, response.text)
        return check_response(response, '/orders', 'post')

    def work(self):
        """Run the queued tasks as trytond-worker does; return how many
        builds of mall orders it ran"""
        def pending(pool):
            return [(t.id, t.data['method']) for t in pool.get(
                    'ir.queue').search([('finished_at', '=', None)])]
        tasks = self.read(pending)
        with queue_worker():
            for task_id, _ in tasks:
                run_task(DB_NAME, task_id)
        return [m for _, m in tasks].count('mall_build_queued')

    def sale(self, sale_id):
        def read(pool):
            sale = pool.get('sale.sale')(sale_id)
            return {
                'state': sale.state,
                'build': sale.mp_build,
                'error': sale.mp_build_error,
                'lines': len(sale.line_lines),
                'total': sale.total_amount,
                'reservations': sorted(
                    (r.origin.__name__, r.state) for r in pool.get(
                        'stock.reservation').search([
                            ('origin', 'in', [str(sale)] + [
                                    str(line) for line in sale.lines]),
                            ])),
                }
        return self.read(read)

    def get(self, order_id):
        response = self.request('GET', '/orders/%s' % order_id, self.token)
        return check_response(response, '/orders/{order}', 'get')

    def test_taken_then_built(self):
        """The answer comes from the intake: numbered, priced, its box held;
        the worker builds the same order at the same prices"""
        before = self.figures(1)
        data = self.take(2)
        order = data['order']
        self.assertTrue(order['number'])
        self.assertEqual(order['status'], 'awaiting_payment')
        self.assertEqual([line['quantity'] for line in order['lines']], [2])
        self.assertTrue(data['payment']['package'].startswith('prepay_id='))
        out_trade_no = self.fake.out_trade_no(data['payment'])
        self.assertEqual(
            self.fake.orders[out_trade_no]['amount']['total'],
            int(float(order['totals']['total']) * 100))
        self.assertEqual(self.sale(order['id']), {
                'state': 'draft', 'build': 'waiting', 'error': None,
                'lines': 0, 'total': 0,
                'reservations': [('sale.sale', 'held')],
                })
        self.assertEqual(self.figures(1)[2], before[2] - 2)
        self.assertEqual(self.get(order['id']), order)

        self.assertEqual(self.work(), 1)
        built = self.sale(order['id'])
        self.assertEqual(built['state'], 'quotation')
        self.assertIsNone(built['build'])
        self.assertEqual(str(built['total']), order['totals']['total'])
        self.assertEqual(built['reservations'], [('sale.line', 'held')])
        self.assertEqual(self.figures(1)[2], before[2] - 2)
        self.assertEqual(self.get(order['id']), order)
        self.assertEqual(self.work(), 0)
        self.request('POST', '/orders/%s/cancel' % order['id'], self.token)
        self.assertEqual(self.figures(1), before)

    def test_paid_before_built(self):
        "WeChat Pay's notification before the worker: built and paid once"
        data = self.take()
        order = data['order']
        notification = self.fake.pay(
            self.fake.out_trade_no(data['payment']), deliver=False)
        with queue_worker():
            self.assertEqual(self.notify(notification).status_code, 204)
            self.assertEqual(self.notify(notification).status_code, 204)
        self.assertEqual(self.sale(order['id'])['build'], None)
        self.assertEqual(self.get(order['id'])['status'], 'paid')
        # The queued build finds it built
        self.assertEqual(self.work(), 1)
        self.assertEqual(self.get(order['id'])['status'], 'paid')
        self.request('POST', '/orders/%s/cancel' % order['id'], self.token)

    def test_cancelled_before_built(self):
        "Cancelled before the worker: stock back, prepay closed"
        before = self.figures(1)
        data = self.take()
        order = data['order']
        with queue_worker():
            response = self.request(
                'POST', '/orders/%s/cancel' % order['id'], self.token)
        cancelled = check_response(
            response, '/orders/{order}/cancel', 'post')
        self.assertEqual(cancelled['id'], order['id'])
        self.assertEqual(cancelled['status'], 'cancelled')
        self.assertEqual(self.fake.orders[self.fake.out_trade_no(
                    data['payment'])]['trade_state'], 'CLOSED')
        self.assertEqual(self.figures(1), before)
        self.work()
        self.assertEqual(self.sale(order['id'])['state'], 'cancelled')

    def test_failed_build_flagged_and_retried(self):
        """A build that fails keeps the order, flagged with its error, and
        the cron builds it again"""
        data = self.take()
        order = data['order']
        Sale = Pool(DB_NAME).get('sale.sale')

        def refuse(sales):
            raise UserError("the accounting period is closed")
        with patch.object(Sale, 'quote', refuse):
            self.assertEqual(self.work(), 1)
        failed = self.sale(order['id'])
        self.assertEqual(failed['build'], 'failed')
        self.assertEqual(failed['error'], "the accounting period is closed")
        self.assertEqual(failed['reservations'], [('sale.sale', 'held')])
        self.assertEqual(self.get(order['id']), order)

        def lost(pool):
            pool.get('sale.sale').mall_build_lost()
        self.run_cron(lost)
        self.assertEqual(self.work(), 1)
        built = self.sale(order['id'])
        self.assertEqual((built['state'], built['build'], built['error']),
            ('quotation', None, None))
        self.assertEqual(str(built['total']), order['totals']['total'])
        self.request('POST', '/orders/%s/cancel' % order['id'], self.token)

    def test_lapsed_before_built(self):
        """The worker was down past the payment deadline and the hold
        lapsed: the queue builds the order cancelled, its box stays free"""
        before = self.figures(1)
        order = self.take()['order']

        def lapse(pool):
            Reservation = pool.get('stock.reservation')
            past = datetime.datetime.now() - datetime.timedelta(minutes=1)
            Sale = pool.get('sale.sale')
            Sale.write([Sale(order['id'])], {'mp_pay_deadline': past})
            Reservation.write(Reservation.search([
                        ('origin', '=', 'sale.sale,%s' % order['id'])]),
                {'expires_at': past})
            Reservation.release_expired()
        self.run_cron(lapse)
        self.assertEqual(self.figures(1), before)
        self.assertEqual(self.work(), 1)
        cancelled = self.sale(order['id'])
        self.assertEqual((cancelled['state'], cancelled['build']),
            ('cancelled', None))
        self.assertEqual(cancelled['lines'], 1)
        self.assertEqual(self.get(order['id'])['status'], 'cancelled')
        self.assertEqual(self.figures(1), before)
