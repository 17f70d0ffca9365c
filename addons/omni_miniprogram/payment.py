# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""WeChat Pay JSAPI payments of the mall orders and their refunds.

A payment is processed once however often WeChat Pay tells it: by its
notification, by the query cron that finds the notifications that never
came, or both."""
import datetime
import logging
import secrets
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from . import wechat
from .exceptions import NotificationError, WeChatError

logger = logging.getLogger(__name__)

# WeChat Pay's trade states of an order that will never be paid
UNPAID_STATES = {'NOTPAY', 'CLOSED', 'REVOKED', 'PAYERROR'}
# WeChat Pay's errors that retrying the same call will not cure
NETWORK_ERRORS = {'NETWORK', 'INVALID_RESPONSE', 'SYSTEM_ERROR'}


def to_fen(amount):
    return int((amount * 100).quantize(Decimal(1)))


def notify_url(shop):
    "The address of the shop's notification endpoint"
    base = (shop.wechat_notify_url or '').rstrip('/')
    return '%s/%s/omni/mp/v1/wechatpay/notify/%s' % (
        base, Transaction().database.name, shop.id)


class Payment(Workflow, ModelSQL, ModelView):
    "Mini-Program Payment"
    __name__ = 'web.shop.mp_payment'

    shop = fields.Many2One(
        'web.shop', "Shop", required=True, readonly=True,
        ondelete='RESTRICT')
    sale = fields.Many2One(
        'sale.sale', "Sale", required=True, readonly=True,
        ondelete='RESTRICT')
    party = fields.Function(
        fields.Many2One('party.party', "Member"), 'get_party')
    out_trade_no = fields.Char(
        "Out Trade No", required=True, readonly=True, strip=False,
        help="Our number of the order at WeChat Pay.")
    amount = fields.Numeric(
        "Amount", digits=(16, 2), required=True, readonly=True)
    openid = fields.Char("Payer OpenID", readonly=True, strip=False)
    prepay_id = fields.Char("Prepay ID", readonly=True, strip=False)
    expires_at = fields.DateTime("Expires at", required=True, readonly=True)
    transaction_id = fields.Char(
        "Transaction ID", readonly=True, strip=False,
        help="WeChat Pay's number of the payment.")
    paid_at = fields.DateTime("Paid at", readonly=True)
    state = fields.Selection([
            ('pending', "Pending"),
            ('paid', "Paid"),
            ('closed', "Closed"),
            ], "State", required=True, readonly=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('out_trade_no_unique', Unique(t, t.out_trade_no),
                'omni_miniprogram.msg_payment_out_trade_no_unique'),
            ('transaction_id_unique', Unique(t, t.transaction_id),
                'omni_miniprogram.msg_payment_transaction_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.expires_at, Index.Range()),
                where=t.state == 'pending'))
        cls._order.insert(0, ('id', 'DESC'))
        cls._transitions |= {
            ('pending', 'paid'),
            ('pending', 'closed'),
            ('closed', 'paid'),
            }
        cls._buttons.update({
                'synchronize': {
                    'invisible': Eval('state') != 'pending',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'pending'

    def get_party(self, name):
        return self.sale.party.id

    @property
    def amount_fen(self):
        return to_fen(self.amount)

    @classmethod
    def start(cls, sale, shop, openid):
        """Return the payment of the sale awaiting payment and the
        parameters of wx.requestPayment, asking WeChat Pay for a prepay
        only the first time"""
        deadline = sale.mp_pay_deadline
        if not deadline or deadline <= datetime.datetime.now():
            deadline = datetime.datetime.now() + shop.payment_time
        payments = [p for p in sale.mp_payments
            if p.state == 'pending' and p.prepay_id and p.openid == openid
            and p.amount == sale.mall_total
            and p.expires_at > datetime.datetime.now()]
        if payments:
            payment = payments[0]
        else:
            payment = cls(
                shop=shop, sale=sale, amount=sale.mall_total,
                openid=openid, expires_at=deadline,
                out_trade_no='MP' + secrets.token_hex(12).upper())
            parameters = wechat.jsapi_prepay(
                shop, payment.out_trade_no,
                gettext('omni_miniprogram.msg_payment_description',
                    shop=shop.name, sale=sale.number),
                payment.amount_fen, openid, notify_url(shop),
                deadline)
            payment.prepay_id = parameters['package'].split('=', 1)[1]
            payment.save()
            return payment, parameters
        return payment, wechat.request_payment(shop, payment.prepay_id)

    @classmethod
    def succeeded(cls, shop, transaction):
        """Process the SUCCESS transaction of WeChat Pay once; raise
        NotificationError if it does not match one of our payments"""
        Sale = Pool().get('sale.sale')
        payments = cls.search([
                ('shop', '=', shop.id),
                ('out_trade_no', '=', transaction.get('out_trade_no')),
                ])
        if not payments:
            raise NotificationError(gettext(
                    'omni_miniprogram.msg_notification_unknown_order',
                    order=transaction.get('out_trade_no')), 'unknown_order')
        payment, = payments
        cls.lock([payment])
        payment = cls(payment.id)
        amount = transaction.get('amount') or {}
        if (transaction.get('trade_state') != 'SUCCESS'
                or amount.get('total') != payment.amount_fen
                or amount.get('currency') != 'CNY'):
            raise NotificationError(gettext(
                    'omni_miniprogram.msg_notification_mismatch',
                    order=payment.out_trade_no), 'mismatch')
        if payment.state == 'paid':
            return payment
        payment.transaction_id = transaction['transaction_id']
        payment.paid_at = datetime.datetime.now()
        payment.save()
        cls.pay([payment])
        Sale.mall_paid([payment.sale], payment.transaction_id)
        return payment

    @classmethod
    @Workflow.transition('paid')
    def pay(cls, payments):
        pass

    @classmethod
    @Workflow.transition('closed')
    def close(cls, payments):
        "Close the payments at WeChat Pay so they can no longer be paid"
        for payment in payments:
            wechat.close_order(payment.shop, payment.out_trade_no)

    @classmethod
    @ModelView.button
    def synchronize(cls, payments):
        """Ask WeChat Pay for the pending payments: process those paid and
        close the unpaid ones past their deadline with their orders"""
        Sale = Pool().get('sale.sale')
        now = datetime.datetime.now()
        for payment in payments:
            if payment.state != 'pending':
                continue
            transaction = wechat.query_order(
                payment.shop, payment.out_trade_no)
            if transaction.get('trade_state') == 'SUCCESS':
                cls.succeeded(payment.shop, transaction)
            elif (transaction.get('trade_state') in UNPAID_STATES
                    and payment.expires_at < now):
                cls.close([payment])
                Sale.mall_build([payment.sale])
                sale = Sale(payment.sale.id)
                if (sale.state in {'draft', 'quotation'}
                        and not sale.paid_at):
                    Sale.cancel([sale])

    @classmethod
    def check_pending(cls):
        "Find the payments whose notification never came"
        payments = cls.search([
                ('state', '=', 'pending'),
                ('expires_at', '<', datetime.datetime.now()),
                ])
        for payment in payments:
            try:
                cls.synchronize([payment])
            except WeChatError:
                logger.warning(
                    "WeChat Pay query of %s failed", payment.out_trade_no,
                    exc_info=True)


class Refund(metaclass=PoolMeta):
    __name__ = 'sale.refund'

    mp_payment = fields.Many2One(
        'web.shop.mp_payment', "WeChat Payment", readonly=True)
    out_refund_no = fields.Char(
        "Out Refund No", readonly=True, strip=False,
        help="Our number of the refund at WeChat Pay.")
    wechat_refund_id = fields.Char(
        "WeChat Refund ID", readonly=True, strip=False)
    wechat_refund_status = fields.Selection([
            (None, ""),
            ('ABNORMAL', "Abnormal"),
            ('CLOSED', "Closed"),
            ], "WeChat Pay Status", readonly=True,
        help="WeChat Pay could not pay the refund back: ABNORMAL when the "
        "payer's bank account refused it, CLOSED when WeChat Pay closed "
        "it.")
    requested_at = fields.DateTime("Requested at", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls.reason.selection.extend([
                ('cancelled', "Cancelled by the Member"),
                ('late_payment', "Paid after the Stock was Gone"),
                ])
        cls._sql_constraints += [
            ('out_refund_no_unique', Unique(t, t.out_refund_no),
                'omni_miniprogram.msg_refund_out_refund_no_unique'),
            ]
        # A refund that WeChat Pay found ABNORMAL is paid back by hand in
        # the merchant platform and then recorded as done
        cls._transitions.add(('failed', 'done'))
        cls._buttons['do']['invisible'] = ~Eval('state').in_(
            ['pending', 'failed'])

    @classmethod
    def create_for(cls, sale_lines, reason):
        refunds = super().create_for(sale_lines, reason)
        for refund in refunds:
            paid = [p for p in refund.sale.mp_payments if p.state == 'paid']
            if paid:
                refund.mp_payment = paid[0]
        cls.save(refunds)
        return refunds

    @classmethod
    def send_wechat(cls, refunds):
        """Ask WeChat Pay to pay back the pending refunds of WeChat payments
        not asked yet; the REFUND.SUCCESS notification completes them"""
        for refund in refunds:
            payment = refund.mp_payment
            if (refund.state != 'pending' or not payment
                    or refund.requested_at):
                continue
            refund.out_refund_no = (
                refund.out_refund_no or 'RF' + secrets.token_hex(12).upper())
            try:
                result = wechat.refund(
                    payment.shop, payment.out_trade_no, refund.out_refund_no,
                    to_fen(refund.amount), payment.amount_fen,
                    dict(cls.reason.selection)[refund.reason],
                    notify_url(payment.shop))
            except WeChatError as error:
                if error.errcode in NETWORK_ERRORS:
                    refund.error = error.message
                    refund.save()
                else:
                    refund.save()
                    cls.fail([refund], error.message)
                continue
            refund.wechat_refund_id = result.get('refund_id')
            refund.requested_at = datetime.datetime.now()
            refund.error = None
            refund.save()

    @classmethod
    def send_pending(cls):
        "Send the refunds of WeChat payments that were not asked yet"
        cls.send_wechat(cls.search([
                    ('state', '=', 'pending'),
                    ('mp_payment', '!=', None),
                    ('requested_at', '=', None),
                    ]))

    @classmethod
    def _notified(cls, shop, resource):
        "Return the refund of the shop's notification resource, locked"
        refunds = cls.search([
                ('out_refund_no', '=', resource.get('out_refund_no')),
                ('mp_payment.shop', '=', shop.id),
                ])
        if not refunds:
            raise NotificationError(gettext(
                    'omni_miniprogram.msg_notification_unknown_order',
                    order=resource.get('out_refund_no')), 'unknown_order')
        refund, = refunds
        cls.lock([refund])
        return cls(refund.id)

    @classmethod
    def wechat_succeeded(cls, shop, resource):
        "Complete the refund of the REFUND.SUCCESS notification once"
        refund = cls._notified(shop, resource)
        amount = (resource.get('amount') or {}).get('refund')
        if (amount != to_fen(refund.amount)
                or resource.get('refund_status') != 'SUCCESS'):
            raise NotificationError(gettext(
                    'omni_miniprogram.msg_notification_mismatch',
                    order=refund.out_refund_no), 'mismatch')
        if refund.state == 'pending':
            refund.wechat_refund_id = resource.get('refund_id')
            refund.save()
            cls.do([refund])
        return refund

    @classmethod
    def wechat_refused(cls, shop, resource):
        """Record the refund of the REFUND.ABNORMAL or REFUND.CLOSED
        notification as failed once, with WeChat Pay's status and what the
        back office has to do"""
        refund = cls._notified(shop, resource)
        status = resource.get('refund_status')
        amount = (resource.get('amount') or {}).get('refund')
        if (amount != to_fen(refund.amount)
                or status not in {'ABNORMAL', 'CLOSED'}):
            raise NotificationError(gettext(
                    'omni_miniprogram.msg_notification_mismatch',
                    order=refund.out_refund_no), 'mismatch')
        if refund.state == 'pending':
            refund.wechat_refund_id = resource.get('refund_id')
            refund.wechat_refund_status = status
            refund.save()
            cls.fail([refund], gettext(
                    'omni_miniprogram.msg_refund_wechat_%s' % status.lower(),
                    refund=refund.out_refund_no))
        return refund

    @classmethod
    def retry(cls, refunds):
        "Send them again; a refund WeChat Pay closed gets a new number"
        super().retry(refunds)
        for refund in refunds:
            values = {'requested_at': None, 'wechat_refund_status': None}
            if refund.wechat_refund_status == 'CLOSED':
                values.update(out_refund_no=None, wechat_refund_id=None)
            cls.write([refund], values)
