# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard


class PickupHandover(Wizard):
    "Pickup Handover"
    __name__ = 'sale.point.pickup_handover'
    start = StateView(
        'sale.point.pickup_handover.start',
        'omni_o2o_pickup.pickup_handover_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Verify", 'verify', 'tryton-forward', default=True),
            ])
    verify = StateTransition()
    refused = StateView(
        'sale.point.pickup_handover.refused',
        'omni_o2o_pickup.pickup_handover_refused_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Retry", 'start', 'tryton-back', default=True),
            ])
    order = StateView(
        'sale.point.pickup_handover.order',
        'omni_o2o_pickup.pickup_handover_order_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Hand Over", 'handover', 'tryton-ok', default=True),
            ])
    handover = StateTransition()

    def default_start(self, fields):
        context = Transaction().context
        if self.start.point:
            return {'point': self.start.point.id}
        if context.get('active_model') == 'sale.point':
            return {'point': context.get('active_id')}
        return {}

    def transition_verify(self):
        Sale = Pool().get('sale.sale')
        sale, error = Sale.pickup_check(self.start.code, self.start.point)
        if error:
            self.refused.code = error.code
            self.refused.message = error.message
            return 'refused'
        self.order.sale = sale
        return 'order'

    def default_refused(self, fields):
        return {
            'code': self.refused.code,
            'message': self.refused.message,
            }

    def default_order(self, fields):
        sale = self.order.sale
        return {
            'sale': sale.id,
            'member': sale.party.id,
            'pickup_state': sale.pickup_state,
            'paid_at': sale.pickup_paid_at,
            'total_amount': sale.total_amount,
            'currency': sale.currency.id,
            'lines': [line.id for line in sale.line_lines],
            'refused_lines': [],
            }

    def transition_handover(self):
        Sale = Pool().get('sale.sale')
        Sale.pickup_handover(
            [self.order.sale], self.start.point,
            [line.id for line in self.order.refused_lines])
        return 'end'


class PickupHandoverStart(ModelView):
    "Pickup Handover"
    __name__ = 'sale.point.pickup_handover.start'

    point = fields.Many2One(
        'sale.point', "Point of Sale", required=True,
        help="The till where the customer collects the order.")
    code = fields.Char(
        "Pickup Code", required=True,
        help="Type the code the member shows or scan its QR code.")


class PickupHandoverRefused(ModelView):
    "Pickup Code Refused"
    __name__ = 'sale.point.pickup_handover.refused'

    code = fields.Char("Error Code", readonly=True)
    message = fields.Text("Message", readonly=True)


class PickupHandoverOrder(ModelView):
    "Pickup Order to Hand Over"
    __name__ = 'sale.point.pickup_handover.order'

    sale = fields.Many2One('sale.sale', "Sale", readonly=True)
    member = fields.Many2One('party.party', "Member", readonly=True)
    pickup_state = fields.Selection(
        'get_pickup_states', "Pickup State", readonly=True)
    paid_at = fields.DateTime("Paid at", readonly=True)
    total_amount = fields.Numeric(
        "Total", digits='currency', readonly=True)
    currency = fields.Many2One('currency.currency', "Currency", readonly=True)
    lines = fields.Many2Many(
        'sale.line', None, None, "Lines", readonly=True)
    refused_lines = fields.Many2Many(
        'sale.line', None, None, "Refused Lines",
        domain=[
            ('id', 'in', Eval('lines', [])),
            ],
        help="The lines the customer does not take: they are refunded "
        "and their stock released.")

    @classmethod
    def get_pickup_states(cls):
        Sale = Pool().get('sale.sale')
        return Sale.fields_get(['pickup_state'])['pickup_state']['selection']
