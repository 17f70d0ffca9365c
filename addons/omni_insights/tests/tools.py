# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Proteus helpers that play WeChat Pay's part: its payment and refund
notifications go through the same methods as the real ones."""
import datetime

from proteus import config as proteus_config
from trytond.pool import Pool
from trytond.transaction import Transaction

from trytond.modules.omni_inventory_bridge.tests.tools import retrying
from trytond.modules.omni_miniprogram.payment import to_fen


def in_server(function, config=None):
    """Call function with the pool in a committed server transaction,
    retried with the locks it asks for as the dispatcher does"""
    config = config or proteus_config.get_config()
    retrying(lambda **extras: Transaction().start(
            config.database_name, 0, context=config.context, **extras),
        lambda: function(Pool()))


def wechat_pays(sale, out_trade_no, config=None):
    """The member pays the quoted mall order in full under out_trade_no
    and WeChat Pay tells it"""
    sale_id = sale.id

    def notify(pool):
        Payment = pool.get('web.shop.mp_payment')
        order = pool.get('sale.sale')(sale_id)
        payment = Payment(
            shop=order.web_shop, sale=order, amount=order.total_amount,
            out_trade_no=out_trade_no,
            expires_at=datetime.datetime.now() + order.web_shop.payment_time)
        payment.save()
        Payment.succeeded(order.web_shop, {
                'out_trade_no': out_trade_no,
                'transaction_id': '42' + out_trade_no,
                'trade_state': 'SUCCESS',
                'amount': {'total': payment.amount_fen, 'currency': 'CNY'},
                })
    in_server(notify, config)


def mall_cancel(sale, config=None):
    "The member cancels the mall order in the mini-program"
    sale_id = sale.id

    def cancel(pool):
        Sale = pool.get('sale.sale')
        Sale.mall_cancel([Sale(sale_id)])
    in_server(cancel, config)


def wechat_refunds(refund, out_refund_no, config=None):
    """WeChat Pay accepts the refund under out_refund_no and tells that it
    paid it back"""
    refund_id = refund.id

    def notify(pool):
        Refund = pool.get('sale.refund')
        record = Refund(refund_id)
        record.out_refund_no = out_refund_no
        record.requested_at = datetime.datetime.now()
        record.save()
        Refund.wechat_succeeded(record.mp_payment.shop, {
                'out_refund_no': out_refund_no,
                'refund_id': '50' + out_refund_no,
                'refund_status': 'SUCCESS',
                'amount': {'refund': to_fen(record.amount)},
                })
    in_server(notify, config)
