# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The status of an order as the member sees it in the mini-program, read
from the sale, its pickup and its refunds, and searched in SQL"""
from trytond.model import fields

# The refunds after which the member sees the order refunding or refunded
MP_REFUND_REASONS = {'cancelled', 'late_payment', 'expired'}
# The pickup states that the member sees as they are
MP_PICKUP_STATES = {'awaiting_payment', 'paid', 'ready', 'picked_up'}


class MallStatusMixin:
    "The mall status of the sale, which sale.Sale registers"
    __slots__ = ()

    mp_status = fields.Function(fields.Selection([
                ('awaiting_payment', "Awaiting Payment"),
                ('paid', "Paid"),
                ('ready', "Ready for Pickup"),
                ('picked_up', "Picked Up"),
                ('shipped', "Shipped"),
                ('done', "Done"),
                ('cancelled', "Cancelled"),
                ('expired', "Expired"),
                ('refunding', "Refunding"),
                ('refunded', "Refunded"),
                ], "Mall Status",
            help="The order's status as the mini-program shows it."),
        'get_mp_status', searcher='search_mp_status')

    def get_mp_status(self, name):
        refunds = [r for r in self.refunds
            if r.reason in MP_REFUND_REASONS]
        if refunds:
            if all(r.state == 'done' for r in refunds):
                return 'refunded'
            return 'refunding'
        if self.pickup_state == 'expired':
            return 'expired'
        if self.state == 'cancelled':
            return 'cancelled'
        if self.pickup_state in MP_PICKUP_STATES:
            return self.pickup_state
        if self.state in {'draft', 'quotation'}:
            return 'awaiting_payment'
        if self.state == 'done':
            return 'done'
        if self.shipment_state == 'sent':
            return 'shipped'
        return 'paid'

    @classmethod
    def search_mp_status(cls, name, clause):
        _, operator, value = clause
        known = {s for s, _ in cls.mp_status.selection}
        statuses = {value} if operator in {'=', '!='} else set(value)
        if operator in {'!=', 'not in'}:
            statuses = known - statuses
        # Every order has a status: an unknown one matches none
        return ['OR', ('id', '=', None),
            *(cls._mp_status_domain(s) for s in sorted(statuses & known))]

    @classmethod
    def _mp_status_domain(cls, status):
        "The domain of the orders whose get_mp_status is status"
        refunds = ('reason', 'in', list(MP_REFUND_REASONS))
        refunds_undone = [refunds, ('state', '!=', 'done')]
        if status == 'refunded':
            return [('refunds', 'where', [refunds]),
                ('refunds', 'not where', refunds_undone)]
        if status == 'refunding':
            return [('refunds', 'where', refunds_undone)]
        domain = [('refunds', 'not where', [refunds])]
        if status == 'expired':
            return domain + [('pickup_state', '=', 'expired')]
        domain += [['OR',
                ('pickup_state', '!=', 'expired'),
                ('pickup_state', '=', None),
                ]]
        if status == 'cancelled':
            return domain + [('state', '=', 'cancelled')]
        domain.append(('state', '!=', 'cancelled'))
        # Otherwise the pickup state tells, else the sale's
        not_pickup = ['OR',
            ('pickup_state', 'not in', list(MP_PICKUP_STATES)),
            ('pickup_state', '=', None),
            ]
        unpaid = ['draft', 'quotation']
        by_sale = {
            'awaiting_payment': [('state', 'in', unpaid)],
            'done': [('state', '=', 'done')],
            'shipped': [('state', 'not in', unpaid + ['done']),
                ('shipment_state', '=', 'sent')],
            'paid': [('state', 'not in', unpaid + ['done']),
                ('shipment_state', '!=', 'sent')],
            }.get(status)
        by_pickup = ([('pickup_state', '=', status)]
            if status in MP_PICKUP_STATES else None)
        if by_sale and by_pickup:
            return domain + [['OR', by_pickup, [not_pickup, *by_sale]]]
        if by_pickup:
            return domain + by_pickup
        return domain + [not_pickup, *by_sale]
