# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from trytond.modules.product import round_price

from .exceptions import CouponError, MemberError, PointsError
from .pos_return import POSReturnMixin


class POS(metaclass=PoolMeta):
    __name__ = 'sale.point'

    store = fields.Function(fields.Many2One(
            'stock.location', "Store",
            help="The warehouse that holds the point's storage location."),
        'get_store')

    def get_store(self, name):
        if self.storage_location and self.storage_location.warehouse:
            return self.storage_location.warehouse.id


class POSSale(POSReturnMixin, metaclass=PoolMeta):
    __name__ = 'sale.point.sale'

    member = fields.Many2One(
        'party.party', "Member", readonly=True,
        domain=[('member_number', '!=', None)],
        help="The member who buys, identified by the rotating member code "
        "or by a store manager.")
    member_identifications = fields.One2Many(
        'sale.point.sale.member_identification', 'sale',
        "Member Identifications", readonly=True)
    coupon = fields.Many2One(
        'sale.promotion.coupon.number', "Coupon", readonly=True,
        help="The coupon whose discount is on the sale, "
        "redeemed when the sale is done.")
    member_coupons = fields.Function(fields.Many2Many(
            'sale.promotion.coupon.number', None, None, "Member's Coupons",
            states={
                'invisible': ~Eval('member') | (Eval('state') != 'open'),
                },
            help="The member's coupons usable at the POS."),
        'get_member_coupons')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'create_return': RPC(instantiate=0, readonly=False),
                })
        cls._buttons.update({
                'return_sale': {
                    'invisible': (~Eval('state').in_(['done', 'posted'])
                        | Bool(Eval('returned_sale'))),
                    'depends': ['state', 'returned_sale'],
                    },
                'identify_member': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'apply_coupon': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def copy(cls, sales, default=None):
        default = default.copy() if default else {}
        default.setdefault('coupon')
        default.setdefault('member')
        default.setdefault('member_identifications')
        default.setdefault('returned_sale')
        default.setdefault('returns')
        return super().copy(sales, default=default)

    @classmethod
    def create(cls, vlist):
        cls._check_member_values(vlist)
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        cls._check_member_values(args[1::2])
        super().write(*args)

    @classmethod
    def _check_member_values(cls, values):
        "The member is set by identification only, never by a client"
        if (Transaction().check_access
                and any(v.get('member') for v in values)):
            raise AccessError(gettext(
                    'omni_member_hub.msg_pos_member_identify'))

    @classmethod
    def may_identify_manually(cls):
        "Whether the user may identify a member without the rotating code"
        return Transaction().user == 0

    def get_member_coupons(self, name):
        Number = Pool().get('sale.promotion.coupon.number')
        if self.member and self.state == 'open':
            return [n.id for n in Number.usable_by(self.member, 'pos')]
        return []

    @property
    def coupon_base(self):
        "The amount the coupon's minimum and discount apply to"
        return sum(
            (line.gross_amount for line in self.lines
                if not line.is_coupon_discount),
            Decimal(0))

    @classmethod
    @ModelView.button_action('omni_member_hub.wizard_pos_apply_coupon')
    def apply_coupon(cls, sales):
        pass

    def set_coupon(self, number):
        """Put the number's discount on the sale as one negative line of
        the configured discount product, in place of any other coupon"""
        pool = Pool()
        Configuration = pool.get('sale.configuration')
        Line = pool.get('sale.point.sale.line')
        product = Configuration(1).coupon_discount_product
        if not product:
            raise CouponError(gettext(
                    'omni_member_hub.msg_coupon_discount_product_missing'))
        number.check_use(self.member, 'pos', self.coupon_base)
        discount = number.get_discount(self.coupon_base)
        self.clear_coupon()
        Line.create([{
                    'sale': self.id,
                    'product': product.id,
                    'quantity': -1,
                    'unit_list_price': discount,
                    'unit_gross_price': discount,
                    }])
        self.__class__.write([self], {'coupon': number.id})

    def clear_coupon(self):
        Line = Pool().get('sale.point.sale.line')
        Line.delete([
                line for line in self.lines if line.is_coupon_discount])
        self.__class__.write([self], {'coupon': None})

    @classmethod
    @ModelView.button_action('omni_member_hub.wizard_pos_identify_member')
    def identify_member(cls, sales):
        pass

    @classmethod
    def set_member(cls, sales, member, method='code', reason=None):
        """Make member the buyer of the open sales, at the tier's prices,
        and record how the member was identified"""
        pool = Pool()
        Identification = pool.get('sale.point.sale.member_identification')
        Line = pool.get('sale.point.sale.line')
        cls.write(sales, {'member': member.id})
        Identification.create([{
                    'sale': s.id, 'member': member.id, 'method': method,
                    'reason': reason} for s in sales])
        for sale in sales:
            # A coupon scanned before belongs to someone else
            if sale.coupon and sale.coupon.party not in {None, member}:
                sale.clear_coupon()
        lines = [
            line for s in cls.browse(sales) for line in s.lines
            if not line.is_coupon_discount]
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
        Redemption = pool.get('sale.promotion.coupon.redemption')
        Entry = pool.get('member.points.entry')
        Payment = pool.get('sale.point.payment')
        Tier = pool.get('member.tier')
        cls._check_returns(sales)
        for sale in sales:
            if sale.coupon:
                Redemption.redeem(
                    sale.coupon, sale.member, 'pos', sale.point.store, sale,
                    sale.coupon_base)
        super().do(sales)
        # The coupon of a sale taken back whole is usable again
        Redemption.restore([
                s.returned_sale for s in cls.browse(sales)
                if s.returned_sale and s.returned_sale.coupon
                and not any(s.returned_sale.quantities_to_return().values())])
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
        pool = Pool()
        Entry = pool.get('member.points.entry')
        Redemption = pool.get('sale.promotion.coupon.redemption')
        Redemption.restore(sales)
        for sale in sales:
            if sale.member and sale.state == 'done':
                Entry.reverse(sale)
                for payment in sale.payments:
                    Entry.reverse(payment)
        super().open(sales)


class POSSaleLine(metaclass=PoolMeta):
    __name__ = 'sale.point.sale.line'

    returned_line = fields.Many2One(
        'sale.point.sale.line', "Returned Line", readonly=True,
        ondelete='RESTRICT',
        states={
            'invisible': ~Eval('returned_line'),
            },
        help="The line of the returned sale that this line takes back.")

    @classmethod
    def copy(cls, lines, default=None):
        default = default.copy() if default else {}
        default.setdefault('returned_line')
        return super().copy(lines, default=default)

    @property
    def is_coupon_discount(self):
        Configuration = Pool().get('sale.configuration')
        return self.product == Configuration(1).coupon_discount_product

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
        sale = self.record
        if sale.state != 'open':
            raise MemberError(gettext(
                    'omni_member_hub.msg_pos_member_sale_open',
                    sale=sale.rec_name))
        code = (self.start.code or '').strip()
        member = Party.identify_member(code)
        if Party.is_rotating_code(code):
            self.model.set_member([sale], member)
            return 'end'
        # A card number never expires: only a store manager takes it, with
        # a reason, and it is recorded
        reason = (self.start.reason or '').strip()
        if not self.model.may_identify_manually():
            raise MemberError(gettext(
                    'omni_member_hub.msg_pos_member_manual_manager'))
        if not reason:
            raise MemberError(gettext(
                    'omni_member_hub.msg_pos_member_manual_reason'))
        self.model.set_member([sale], member, 'manual', reason)
        return 'end'


class POSIdentifyMemberStart(ModelView):
    "Identify Member at POS"
    __name__ = 'sale.point.sale.identify_member.start'

    code = fields.Char(
        "Member Code", required=True,
        help="Scan the code shown in the mini-program; a store manager may "
        "type the number on the member's card, with a reason.")
    reason = fields.Char(
        "Manual Identification Reason",
        help="Why a store manager identifies the member by the card number "
        "instead of the rotating code; recorded.")


class POSSaleMemberIdentification(ModelSQL, ModelView):
    "POS Sale Member Identification"
    __name__ = 'sale.point.sale.member_identification'

    sale = fields.Many2One(
        'sale.point.sale', "Sale", required=True, readonly=True,
        ondelete='CASCADE')
    member = fields.Many2One(
        'party.party', "Member", required=True, readonly=True)
    method = fields.Selection([
            ('code', "Rotating Member Code"),
            ('manual', "Card Number by a Store Manager"),
            ('return', "Member of the Returned Sale"),
            ], "Method", required=True, readonly=True)
    reason = fields.Char("Reason", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('create_date', 'DESC'))


class POSApplyCoupon(Wizard):
    "Apply Coupon at POS"
    __name__ = 'sale.point.sale.apply_coupon'
    start = StateView(
        'sale.point.sale.apply_coupon.start',
        'omni_member_hub.pos_apply_coupon_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Apply", 'apply', 'tryton-ok', default=True),
            ])
    apply = StateTransition()

    def default_start(self, fields):
        return {
            'member_coupons': [c.id for c in self.record.member_coupons],
            }

    def transition_apply(self):
        Number = Pool().get('sale.promotion.coupon.number')
        number = self.start.number
        if self.start.code:
            number = Number.find(self.start.code)
        if not number:
            raise CouponError(gettext(
                    'omni_member_hub.msg_coupon_missing'))
        self.record.set_coupon(number)
        return 'end'


class POSApplyCouponStart(ModelView):
    "Apply Coupon at POS"
    __name__ = 'sale.point.sale.apply_coupon.start'

    code = fields.Char(
        "Coupon Code", help="Scan or type the code of the coupon.")
    number = fields.Many2One(
        'sale.promotion.coupon.number', "Member's Coupon",
        domain=[('id', 'in', Eval('member_coupons', []))],
        states={
            'invisible': ~Eval('member_coupons'),
            },
        help="One of the coupons of the identified member.")
    member_coupons = fields.Many2Many(
        'sale.promotion.coupon.number', None, None, "Member's Coupons",
        readonly=True)
