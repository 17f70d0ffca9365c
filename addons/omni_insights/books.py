# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""One set of books for the stores and the mall.

Revenue by channel goes through journals: a POS sale posts in its point's
journal, as sale_point does, and the invoice of an order goes to the
journal of its channel (mall delivery, mall pickup or endless aisle, by the
rule of reporting.py).

WeChat Pay money goes through a clearing account that mirrors the balance
WeChat holds for us: a payment debits it against the member's receivable
the moment WeChat confirms it, a refund credits it when WeChat pays it
back, the statement's fees credit it, and the daily settlement to the bank
empties it.  The invoice of a mall order is reconciled with its payment and
refunds instead of being paid again."""
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import BooksError

CHANNEL_JOURNALS = {
    'mall_delivery': 'mall_delivery_journal',
    'mall_pickup': 'mall_pickup_journal',
    'endless_aisle': 'endless_aisle_journal',
    }


class Configuration(metaclass=PoolMeta):
    __name__ = 'sale.configuration'

    mall_delivery_journal = fields.Many2One(
        'account.journal', "Mall Delivery Journal",
        domain=[('type', '=', 'revenue')],
        help="Where the invoices of the mall's delivery orders post.")
    mall_pickup_journal = fields.Many2One(
        'account.journal', "Mall Pickup Journal",
        domain=[('type', '=', 'revenue')],
        help="Where the invoices of the mall's pickup orders post.")
    endless_aisle_journal = fields.Many2One(
        'account.journal', "Endless Aisle Journal",
        domain=[('type', '=', 'revenue')],
        help="Where the invoices of the orders taken at a store for "
        "another store post.")
    wechat_journal = fields.Many2One(
        'account.journal', "WeChat Pay Journal",
        help="Where the WeChat payments, refunds and fees post.")
    wechat_clearing_account = fields.Many2One(
        'account.account', "WeChat Pay Clearing Account",
        domain=[
            ('type', '!=', None),
            ('closed', '!=', True),
            ('party_required', '=', False),
            ],
        help="The money WeChat Pay holds for us until it settles to the "
        "bank.")
    wechat_fee_account = fields.Many2One(
        'account.account', "WeChat Pay Fee Account",
        domain=[
            ('type.expense', '=', True),
            ('closed', '!=', True),
            ],
        help="The expense account of the fees WeChat Pay keeps.")

    def channel_journal(self, channel):
        "The journal of the channel's invoices or None"
        name = CHANNEL_JOURNALS.get(channel)
        return getattr(self, name) if name else None

    def wechat_books(self):
        "Whether the WeChat Pay money is booked"
        return bool(self.wechat_journal and self.wechat_clearing_account)


def wechat_move(origin, date, amount, counterpart):
    """Return a draft move of amount into the clearing account against the
    counterpart move line (account and party); a negative amount goes
    out"""
    pool = Pool()
    Configuration = pool.get('sale.configuration')
    Line = pool.get('account.move.line')
    Move = pool.get('account.move')
    Period = pool.get('account.period')
    configuration = Configuration(1)
    company = counterpart.account.company
    clearing = Line(
        account=configuration.wechat_clearing_account,
        debit=max(amount, Decimal(0)), credit=max(-amount, Decimal(0)))
    counterpart.debit, counterpart.credit = clearing.credit, clearing.debit
    return Move(
        company=company, journal=configuration.wechat_journal,
        period=Period.find(company, date=date), date=date, origin=origin,
        lines=[clearing, counterpart])


def today(company):
    Date = Pool().get('ir.date')
    with Transaction().set_context(company=company.id):
        return Date.today()


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    @property
    def books_channel(self):
        "The channel of the order, by the rule of the reports"
        if self.credited_store:
            return 'endless_aisle'
        if self.pickup_store:
            return 'mall_pickup'
        if self.web_shop:
            return 'mall_delivery'
        return 'back_office'

    def _get_invoice(self):
        Configuration = Pool().get('sale.configuration')
        invoice = super()._get_invoice()
        journal = Configuration(1).channel_journal(self.books_channel)
        if journal:
            invoice.journal = journal
        return invoice

    def wechat_receivable_line(self):
        "A move line on the receivable of the order's invoices"
        MoveLine = Pool().get('account.move.line')
        party = self.invoice_party or self.party
        return MoveLine(account=party.account_receivable_used, party=party)

    @property
    def wechat_move_lines(self):
        "The receivable lines of the WeChat payments and refunds booked"
        moves = [p.move for p in self.mp_payments if p.move]
        moves += [r.move for r in self.refunds if r.move]
        return [line for move in moves for line in move.lines
            if line.account.type.receivable]

    @classmethod
    def _pay_invoices(cls, sales):
        """Reconcile the invoices of the orders paid by WeChat Pay with
        their payments and refunds, pay the others as before"""
        Invoice = Pool().get('account.invoice')
        sales = cls.browse(sales)
        wechat = [s for s in sales if s.wechat_move_lines]
        super()._pay_invoices([s for s in sales if s not in wechat])
        Invoice.post([i for sale in wechat for i in sale.invoices
                if i.state in {'draft', 'validated'}])
        cls.reconcile_wechat(wechat)

    @property
    def posted_invoices(self):
        "The posted invoices of the order and their credit notes"
        InvoiceLine = Pool().get('account.invoice.line')
        invoices = set(self.invoices)
        invoices.update(line.invoice for line in InvoiceLine.search([
                    ('origin', 'in', [str(line)
                            for invoice in invoices
                            for line in invoice.lines]),
                    ]))
        return [i for i in invoices if i.state in {'posted', 'paid'}]

    @classmethod
    def reconcile_wechat(cls, sales):
        """Reconcile the posted invoices and credit notes of each order with
        its WeChat payments and refunds when they balance"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        MoveLine = pool.get('account.move.line')
        invoices = []
        for sale in cls.browse(sales):
            posted = sale.posted_invoices
            lines = sale.wechat_move_lines + [
                line for i in posted for line in i.lines_to_pay]
            lines = [line for line in lines if not line.reconciliation]
            if lines and not sum(line.debit - line.credit for line in lines):
                MoveLine.reconcile(lines)
                invoices.extend(posted)
        Invoice.process(invoices)


class Payment(metaclass=PoolMeta):
    __name__ = 'web.shop.mp_payment'

    move = fields.Many2One(
        'account.move', "Move", readonly=True,
        domain=[('company', '=', Eval('company', -1))])
    company = fields.Function(
        fields.Many2One('company.company', "Company"), 'get_company')

    def get_company(self, name):
        return self.sale.company.id

    @classmethod
    def copy(cls, payments, default=None):
        default = default.copy() if default else {}
        default.setdefault('move')
        return super().copy(payments, default=default)

    @classmethod
    def pay(cls, payments):
        super().pay(payments)
        cls.post_moves(payments)

    @classmethod
    def post_moves(cls, payments):
        """Book the paid payments not booked yet: the clearing account
        against the member's receivable"""
        pool = Pool()
        Configuration = pool.get('sale.configuration')
        Move = pool.get('account.move')
        if not Configuration(1).wechat_books():
            return
        payments = [p for p in cls.browse(payments)
            if p.state == 'paid' and not p.move]
        moves = []
        for payment in payments:
            sale = payment.sale
            payment.move = wechat_move(
                payment, today(sale.company), payment.amount,
                sale.wechat_receivable_line())
            payment.move.description = payment.out_trade_no
            moves.append(payment.move)
        Move.save(moves)
        Move.post(moves)
        cls.save(payments)


class Refund(metaclass=PoolMeta):
    __name__ = 'sale.refund'

    move = fields.Many2One('account.move', "Move", readonly=True)

    @classmethod
    def copy(cls, refunds, default=None):
        default = default.copy() if default else {}
        default.setdefault('move')
        return super().copy(refunds, default=default)

    @classmethod
    def do(cls, refunds):
        super().do(refunds)
        cls.post_moves(refunds)

    @classmethod
    def post_moves(cls, refunds):
        """Book the WeChat refunds done and not booked yet: the member's
        receivable against the clearing account; reconcile their orders"""
        pool = Pool()
        Move = pool.get('account.move')
        Sale = pool.get('sale.sale')
        refunds = [r for r in cls.browse(refunds)
            if r.state == 'done' and r.mp_payment and not r.move]
        refunds = [r for r in refunds if r.mp_payment.move]
        moves = []
        for refund in refunds:
            sale = refund.sale
            refund.move = wechat_move(
                refund, today(sale.company), -refund.amount,
                sale.wechat_receivable_line())
            refund.move.description = refund.out_refund_no
            moves.append(refund.move)
        Move.save(moves)
        Move.post(moves)
        cls.save(refunds)
        Sale.reconcile_wechat({r.sale for r in refunds})


class Move(metaclass=PoolMeta):
    __name__ = 'account.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + [
            'web.shop.mp_payment', 'sale.refund',
            'wechat.statement']


def check_wechat_books():
    "Raise BooksError unless the WeChat Pay books are configured"
    Configuration = Pool().get('sale.configuration')
    configuration = Configuration(1)
    if not configuration.wechat_books() or not (
            configuration.wechat_fee_account):
        raise BooksError(gettext('omni_insights.msg_wechat_books_missing'))
    return configuration
