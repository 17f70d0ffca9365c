# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Returns at the POS: a sale that takes back lines of a done sale at the
prices paid, less their share of the coupon's discount, as upstream
sale_point returns goods with negative lines"""
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import without_check_access

from .exceptions import ReturnError


class POSReturnMixin:
    "The returns of the POS sale, which sale_point.POSSale registers"
    __slots__ = ()

    returned_sale = fields.Many2One(
        'sale.point.sale', "Returned Sale", readonly=True,
        ondelete='RESTRICT',
        states={
            'invisible': ~Eval('returned_sale'),
            },
        help="The sale whose goods this sale takes back.")
    returns = fields.One2Many(
        'sale.point.sale', 'returned_sale', "Returns", readonly=True,
        states={
            'invisible': ~Eval('returns'),
            })

    @classmethod
    @ModelView.button
    def return_sale(cls, sales):
        "Make the return of all that is left of the sales"
        cls.create_return(sales)

    def quantities_to_return(self, exclude=None):
        """Return the quantity of each goods line (by id) that the done
        returns of the sale, but exclude, did not take back"""
        left = {
            line.id: line.quantity for line in self.lines
            if not line.is_coupon_discount and line.quantity > 0}
        for sale in self.returns:
            if sale == exclude or sale.state not in {'done', 'posted'}:
                continue
            for line in sale.lines:
                if line.returned_line and line.returned_line.id in left:
                    left[line.returned_line.id] += line.quantity
        return left

    @property
    def coupon_discount(self):
        "The discount of the sale's coupon, positive"
        return -sum(
            (line.gross_amount for line in self.lines
                if line.is_coupon_discount), Decimal(0))

    @classmethod
    def create_return(cls, sales, quantities=None):
        """Make for each done sale an open sale at its point and for its
        member that takes back the quantities (by line id, all that is left
        by default) at the prices paid, less their share of the coupon's
        discount; return the ids of the returns"""
        pool = Pool()
        Line = pool.get('sale.point.sale.line')
        Identification = pool.get('sale.point.sale.member_identification')
        returns = []
        if quantities is not None and not isinstance(quantities, dict):
            quantities = {}
        for sale in sales:
            if (sale.state not in {'done', 'posted'} or sale.returned_sale
                    or sale.total <= 0):
                raise ReturnError(gettext(
                        'omni_member_hub.msg_pos_return_state',
                        sale=sale.rec_name))
            left = sale.quantities_to_return()
            lines = []
            for line in sale.lines:
                if line.id not in left:
                    continue
                if quantities is None:
                    quantity = left[line.id]
                else:
                    quantity = quantities.get(str(line.id)) or 0
                    try:
                        quantity = float(quantity)
                    except (TypeError, ValueError):
                        quantity = -1
                if not quantity:
                    continue
                if not 0 < quantity <= left[line.id]:
                    raise ReturnError(gettext(
                            'omni_member_hub.msg_pos_return_quantity',
                            line=line.rec_name, quantity='%g' % quantity,
                            left='%g' % left[line.id]))
                lines.append(Line(
                        product=line.product, quantity=-quantity,
                        unit_list_price=line.unit_list_price,
                        unit_gross_price=line.unit_gross_price,
                        returned_line=line))
            if not lines:
                raise ReturnError(gettext(
                        'omni_member_hub.msg_pos_return_nothing',
                        sale=sale.rec_name))
            share = sale._return_coupon_share(lines, left)
            if share:
                product = next(
                    line.product for line in sale.lines
                    if line.is_coupon_discount)
                # Negative as the coupon's line, which gives it back
                lines.append(Line(
                        product=product, quantity=-1,
                        unit_list_price=-share, unit_gross_price=-share))
            return_ = cls(
                point=sale.point, company=sale.company,
                returned_sale=sale, lines=lines)
            return_.save()
            returns.append(return_)
        with without_check_access():
            for return_ in returns:
                member = return_.returned_sale.member
                if member:
                    cls.write([return_], {'member': member.id})
                    Identification.create([{
                                'sale': return_.id, 'member': member.id,
                                'method': 'return'}])
        return [r.id for r in returns]

    def _return_coupon_share(self, lines, left):
        """Return the part of the coupon's discount that the return lines
        give back: all that is left of it when they take back all that is
        left of the sale"""
        discount = self.coupon_discount
        if not discount:
            return Decimal(0)
        base = self.coupon_base
        given = sum(
            (line.gross_amount for sale in self.returns
                if sale.state in {'done', 'posted'}
                for line in sale.lines if line.is_coupon_discount),
            Decimal(0))
        if all(-line.quantity == left[line.returned_line.id]
                for line in lines) and len(lines) == len(
                    [q for q in left.values() if q]):
            share = discount - given
        else:
            returned = sum(
                (Decimal(str(-line.quantity)) * line.unit_gross_price
                    for line in lines), Decimal(0))
            share = min(discount * returned / base, discount - given)
        return self.currency.round(share)

    @classmethod
    def _check_returns(cls, sales):
        "Raise if a return takes back more than its sale has left"
        for sale in sales:
            if not sale.returned_sale:
                continue
            left = sale.returned_sale.quantities_to_return(exclude=sale)
            for line in sale.lines:
                if not line.returned_line:
                    continue
                if (line.quantity >= 0 or line.returned_line.id not in left
                        or -line.quantity > left[line.returned_line.id]):
                    raise ReturnError(gettext(
                            'omni_member_hub.msg_pos_return_quantity',
                            line=line.returned_line.rec_name,
                            quantity='%g' % -line.quantity,
                            left='%g' % left.get(line.returned_line.id, 0)))
