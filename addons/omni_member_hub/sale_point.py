# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.wizard import Button, StateTransition, StateView, Wizard

from trytond.modules.product import round_price

from .exceptions import PointsError


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
        "Make member the buyer of the open sales, at the tier's prices"
        Line = Pool().get('sale.point.sale.line')
        cls.write(sales, {'member': member.id})
        lines = [line for s in cls.browse(sales) for line in s.lines]
        for line in lines:
            line.on_change_product()
        Line.save(lines)

    @property
    def amount_paid_by_points(self):
        return sum(
            (p.amount for p in self.payments if p.method.points),
            Decimal(0))

    @property
    def amount_paid_in_money(self):
        "The total less what points paid"
        return self.total - self.amount_paid_by_points

    @property
    def points_lines(self):
        "The (product, amount) pairs that earn points"
        return [(line.product, line.gross_amount) for line in self.lines]

    @classmethod
    def do(cls, sales):
        pool = Pool()
        Entry = pool.get('member.points.entry')
        Payment = pool.get('sale.point.payment')
        Tier = pool.get('member.tier')
        super().do(sales)
        sales = [s for s in sales if s.member]
        # Points payments given back by a reopening are spent again
        Payment.redeem_points([p for s in sales for p in s.payments])
        Tier.upgrade_members({s.member for s in sales})
        for sale in sales:
            store = sale.point.store
            if sale.total >= 0:
                Entry.earn(
                    sale.member, sale.amount_paid_in_money, 'pos',
                    store=store, origin=sale, lines=sale.points_lines)
            else:
                Entry.deduct_return(
                    sale.member, sale.total, 'pos', store=store,
                    origin=sale, lines=sale.points_lines)

    @classmethod
    def open(cls, sales):
        Entry = Pool().get('member.points.entry')
        for sale in sales:
            if sale.member and sale.state == 'done':
                Entry.reverse(sale)
                for payment in sale.payments:
                    Entry.reverse(payment)
        super().open(sales)


class POSSaleLine(metaclass=PoolMeta):
    __name__ = 'sale.point.sale.line'

    @fields.depends('sale', '_parent_sale.member')
    def on_change_product(self):
        Tier = Pool().get('member.tier')
        super().on_change_product()
        member = self.sale.member if self.sale else None
        discount = Tier.discount_of(member)
        if discount and self.unit_list_price is not None:
            digits = self.__class__.unit_gross_price.digits[1]
            self.unit_list_price = round_price(
                self.unit_list_price * (1 - discount))
            self.unit_gross_price = (
                self.unit_gross_price * (1 - discount)).quantize(
                    Decimal(1) / 10 ** digits)
            self.unit_price = self.on_change_with_unit_price()
            self.amount = self.on_change_with_amount()


class POSPaymentMethod(metaclass=PoolMeta):
    __name__ = 'sale.point.payment.method'

    points = fields.Boolean(
        "Points",
        states={
            'invisible': Eval('cash', False),
            },
        help="The member pays with points, at the configured rate.")

    @classmethod
    def default_points(cls):
        return False


class POSPayment(metaclass=PoolMeta):
    __name__ = 'sale.point.payment'

    @classmethod
    def on_modification(cls, mode, payments, field_names=None):
        Entry = Pool().get('member.points.entry')
        super().on_modification(mode, payments, field_names=field_names)
        if mode == 'create':
            cls.redeem_points(payments)
        elif mode == 'write' and set(field_names or ()) & {'method', 'amount'}:
            for payment in payments:
                Entry.reverse(payment)
            cls.redeem_points(payments)
        elif mode == 'delete':
            for payment in payments:
                Entry.reverse(payment)

    @classmethod
    def redeem_points(cls, payments):
        "Spend the member's points for the points payments"
        Entry = Pool().get('member.points.entry')
        for payment in payments:
            if not payment.method.points:
                continue
            sale = payment.sale
            if not sale.member:
                raise PointsError(gettext(
                        'omni_member_hub.msg_points_payment_member',
                        sale=sale.rec_name))
            if payment.amount <= 0:
                raise PointsError(gettext(
                        'omni_member_hub.msg_points_payment_positive',
                        sale=sale.rec_name))
            Entry.check_cap(sale.amount_paid_by_points, sale.total)
            Entry.redeem(
                sale.member, Entry.points_for(payment.amount), 'pos',
                store=sale.point.store, origin=payment)


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
