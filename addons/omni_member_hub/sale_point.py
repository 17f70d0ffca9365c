# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.wizard import Button, StateTransition, StateView, Wizard


class POS(metaclass=PoolMeta):
    __name__ = 'sale.point'

    store = fields.Function(fields.Many2One(
            'stock.location', "Store",
            help="The warehouse that holds the point's storage location."),
        'get_store')

    def get_store(self, name):
        if self.storage_location and self.storage_location.warehouse:
            return self.storage_location.warehouse.id


class POSSale(metaclass=PoolMeta):
    __name__ = 'sale.point.sale'

    member = fields.Many2One(
        'party.party', "Member",
        domain=[('member_number', '!=', None)],
        states={
            'readonly': Eval('state') != 'open',
            },
        help="The member who buys, identified by the member code.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'identify_member': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                })

    @classmethod
    @ModelView.button_action('omni_member_hub.wizard_pos_identify_member')
    def identify_member(cls, sales):
        pass

    @classmethod
    def set_member(cls, sales, member):
        "Make member the buyer of the open sales"
        cls.write(sales, {'member': member.id})


class POSIdentifyMember(Wizard):
    "Identify Member at POS"
    __name__ = 'sale.point.sale.identify_member'
    start = StateView(
        'sale.point.sale.identify_member.start',
        'omni_member_hub.pos_identify_member_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Identify", 'identify', 'tryton-ok', default=True),
            ])
    identify = StateTransition()

    def transition_identify(self):
        Party = Pool().get('party.party')
        member = Party.identify_member(self.start.code)
        self.model.set_member([self.record], member)
        return 'end'


class POSIdentifyMemberStart(ModelView):
    "Identify Member at POS"
    __name__ = 'sale.point.sale.identify_member.start'

    code = fields.Char(
        "Member Code", required=True,
        help="Scan the code shown in the mini-program, "
        "or type the number on the member's card.")
