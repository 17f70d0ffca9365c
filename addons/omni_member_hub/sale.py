# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Points and tiers on mall and back-office sales.

A sale of a member earns points when it is processed, that is once the
mall confirmed it paid; a sale with a negative total (a return) takes
back the points it had earned.  `Sale.redeem_points(sale, points)` lets
points pay part of a draft sale: it adds a line of the configured points
product at the negative value of the points and writes the redeem entry.
Cancelling the sale gives the points back."""
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC

from .exceptions import PointsError


class Sale(metaclass=PoolMeta):
    __name__ = 'sale.sale'

    member_channel = fields.Selection([
            ('mall', "Mini-Program Mall"),
            ('back_office', "Back Office"),
            ], "Member Channel", required=True,
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="The channel credited with the member's points.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'redeem_points': RPC(
                    readonly=False, instantiate=0, result=lambda e: e.id),
                })

    @classmethod
    def default_member_channel(cls):
        return 'mall'

    @property
    def points_lines(self):
        "The (product, amount) pairs that earn points"
        Configuration = Pool().get('member.configuration')
        points_product = Configuration(1).points_product
        return [(line.product, line.amount) for line in self.lines
            if line.type == 'line' and line.product != points_product]

    @classmethod
    def proceed(cls, sales):
        pool = Pool()
        Entry = pool.get('member.points.entry')
        Tier = pool.get('member.tier')
        super().proceed(sales)
        sales = [s for s in sales if s.party.is_member]
        Tier.upgrade_members({s.party for s in sales})
        for sale in sales:
            values = {
                'store': sale.warehouse,
                'origin': sale,
                'lines': sale.points_lines,
                }
            if sale.total_amount >= 0:
                Entry.earn(
                    sale.party, sale.total_amount, sale.member_channel,
                    **values)
            else:
                Entry.deduct_return(
                    sale.party, sale.total_amount, sale.member_channel,
                    **values)

    @classmethod
    def cancel(cls, sales):
        Entry = Pool().get('member.points.entry')
        super().cancel(sales)
        for sale in sales:
            Entry.reverse(sale)

    @classmethod
    def redeem_points(cls, sale, points):
        """Pay part of the draft sale with points of its member: add a
        points discount line, write the redeem entry and return it"""
        Entry = Pool().get('member.points.entry')
        if sale.state != 'draft':
            raise PointsError(gettext(
                    'omni_member_hub.msg_points_sale_draft',
                    sale=sale.rec_name))
        redeemed = Entry._active(sale, ['redeem'])
        if redeemed and -redeemed[0].points == points:
            return redeemed[0]
        elif redeemed:
            raise PointsError(gettext(
                    'omni_member_hub.msg_points_sale_redeemed',
                    sale=sale.rec_name))
        order_amount = sale.total_amount
        if points > Entry.redeemable(sale.party, order_amount):
            Entry.check_cap(Entry.points_value(points), order_amount)
        line = cls.points_line(sale, points)
        entry = Entry.redeem(
            sale.party, points, sale.member_channel,
            store=sale.warehouse, origin=sale)
        line.save()
        return entry

    @classmethod
    def points_line(cls, sale, points):
        "Return the unsaved line of the sale that the points pay"
        pool = Pool()
        Configuration = pool.get('member.configuration')
        Entry = pool.get('member.points.entry')
        Line = pool.get('sale.line')
        product = Configuration(1).points_product
        if not product:
            raise PointsError(gettext(
                    'omni_member_hub.msg_points_product_missing'))
        line = Line(sale=sale, type='line', product=product,
            quantity=1)
        line.on_change_product()
        line.unit_price = -Entry.points_value(points)
        line.description = gettext(
            'omni_member_hub.msg_points_line', points=points)
        return line

