# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The refunds to members of what they paid and do not get: the lines
refused at pickup and the expired pickup orders here, the cancelled orders
and the payments that came after the stock was gone in the mall"""
import datetime
from decimal import Decimal

from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pyson import Eval

from trytond.modules.omni_member_hub.model import FormerTableMixin


class SaleRefund(FormerTableMixin, Workflow, ModelSQL, ModelView):
    "Sale Refund"
    __name__ = 'sale.refund'
    _former_table = 'sale_pickup_refund'

    sale = fields.Many2One(
        'sale.sale', "Sale", required=True, readonly=True,
        ondelete='RESTRICT')
    lines = fields.Many2Many(
        'sale.refund-sale.line', 'refund', 'line', "Lines",
        readonly=True)
    amount = fields.Numeric(
        "Amount", digits=(16, 2), required=True, readonly=True)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_currency')
    reason = fields.Selection([
            ('refused', "Refused at Pickup"),
            ('expired', "Pickup Expired"),
            ], "Reason", required=True, readonly=True)
    state = fields.Selection([
            ('pending', "Pending"),
            ('done', "Done"),
            ('failed', "Failed"),
            ], "State", required=True, readonly=True, sort=False)
    date = fields.DateTime("Refunded at", readonly=True)
    error = fields.Text("Error", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.state, Index.Equality(cardinality='low')),
                where=t.state == 'pending'))
        cls._order.insert(0, ('id', 'DESC'))
        cls._transitions |= {
            ('pending', 'done'),
            ('pending', 'failed'),
            ('failed', 'pending'),
            }
        cls._buttons.update({
                'do': {
                    'invisible': Eval('state') != 'pending',
                    'depends': ['state'],
                    },
                'retry': {
                    'invisible': Eval('state') != 'failed',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'pending'

    def get_currency(self, name):
        return self.sale.currency.id

    @classmethod
    def create_for(cls, sale_lines, reason):
        "Create a refund of the {sale: lines} amounts that were paid"
        refunds = []
        for sale, lines in sale_lines.items():
            if not sale.paid_at or not lines:
                continue
            amount = sum(
                (line.amount + sale.currency.round(sum(
                            (t.amount
                                for t in line._get_taxes().values()),
                            Decimal(0)))
                    for line in lines if line.type == 'line'),
                Decimal(0))
            if amount:
                refunds.append(cls(
                        sale=sale, lines=lines, amount=amount,
                        reason=reason))
        cls.save(refunds)
        return refunds

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def do(cls, refunds):
        "Record the refunds paid back by hand or by the payment provider"
        cls.write(refunds, {'date': datetime.datetime.now(), 'error': None})

    @classmethod
    @Workflow.transition('failed')
    def fail(cls, refunds, error):
        cls.write(refunds, {'error': error})

    @classmethod
    @ModelView.button
    @Workflow.transition('pending')
    def retry(cls, refunds):
        pass


class SaleRefundLine(FormerTableMixin, ModelSQL):
    "Sale Refund - Sale Line"
    __name__ = 'sale.refund-sale.line'
    _former_table = 'sale_pickup_refund-sale_line'

    refund = fields.Many2One(
        'sale.refund', "Refund", required=True, ondelete='CASCADE')
    line = fields.Many2One(
        'sale.line', "Line", required=True, ondelete='RESTRICT')
