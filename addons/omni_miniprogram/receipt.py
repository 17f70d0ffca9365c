# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The receipts of the member's purchases at the tills, which the QR code of
the printed receipt opens in the mini-program."""
from decimal import Decimal

from .api import ApiError, route
from .catalog import money


def member_receipt(request):
    """Return the done or posted POS sale of the path's number whose member
    is the session's, or refuse as if there were no such sale"""
    POSSale = request.pool.get('sale.point.sale')
    member = request.session.require_member()
    sales = POSSale.search([
            ('number', '=', request.path['number']),
            ('member', '=', member.id),
            ('company', '=', request.shop.company.id),
            ('state', 'in', ['done', 'posted']),
            ], limit=1)
    if not sales:
        raise ApiError(404, 'receipt_not_found')
    return sales[0]


def receipt_data(pool, sale):
    Entry = pool.get('member.points.entry')
    point = sale.point
    lines = [line for line in sale.lines if not line.is_coupon_discount]
    discount = -sum(
        (line.amount for line in sale.lines if line.is_coupon_discount),
        Decimal(0))
    return {
        'number': sale.number,
        'date': sale.date.isoformat(),
        'store': (point.store.rec_name if point.store
            else point.rec_name),
        'lines': [{
                'product': line.product.name,
                'quantity': line.quantity,
                'unit_price': money(line.unit_price),
                'amount': money(line.amount),
                } for line in lines],
        'coupon_discount': money(discount),
        'total': money(sale.total),
        'payments': [{
                'method': p.method.name,
                'amount': money(p.amount),
                } for p in sale.payments],
        'points_earned': Entry.points_of(sale),
        }


@route('/me/receipts/<path:number>')
def get_receipt(request):
    "The member's purchase at a till, from the receipt's QR code"
    return receipt_data(request.pool, member_receipt(request))
