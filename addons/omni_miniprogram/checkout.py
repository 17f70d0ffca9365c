# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The mall's checkout, orders and WeChat Pay notifications."""
import datetime
from decimal import Decimal

from trytond.transaction import Transaction

from trytond.modules.omni_inventory_bridge.exceptions import ReservationError
from trytond.modules.omni_member_hub.exceptions import CouponError, PointsError
from trytond.modules.omni_o2o_pickup.pickup_code import LIVE_STATES

from . import catalog, wechat
from .api import ApiError, route
from .catalog import money, store_data
from .exceptions import (
    CheckoutError,
    LimitError,
    NotificationError,
    WeChatError,
)


def iso(value):
    return value.replace(microsecond=0).isoformat() + 'Z' if value else None


def shop_store(shop, store_id):
    "Return the shop's store of the id or refuse"
    for store in shop.warehouses:
        if store.id == store_id:
            return store
    raise ApiError(404, 'store_not_found', store=store_id)


def gross(pool, line, unit_price):
    "The tax-included amount of the line at unit_price"
    Tax = pool.get('account.tax')
    quantity = Decimal(str(line.quantity))
    taxes = Tax.compute(
        Tax.browse(line.taxes), unit_price, line.quantity, line.tax_date)
    return unit_price * quantity + sum(
        (t['amount'] for t in taxes), Decimal(0))


def goods_lines(sale):
    "The lines of goods of the sale, saved or only priced"
    return [line for line in sale.lines if line.type == 'line']


def totals(pool, sale):
    """The tax-included breakdown of the sale, saved or only priced: from
    the list prices down to the tier price, the pickup discount and the
    coupon"""
    Entry = pool.get('member.points.entry')
    levels = [Decimal(0)] * 4
    for line in goods_lines(sale):
        if not line.product or line.unit_price < 0:
            continue
        final = line.unit_price
        before_coupon = line.original_unit_price or final
        member = line.pickup_base_price or before_coupon
        listed = max(line.product.list_price_used or member, member)
        for i, price in enumerate([listed, member, before_coupon, final]):
            levels[i] += gross(pool, line, price)
    if sale.id is None or sale.id < 0:
        points = sale.mp_points or 0
    else:
        points = -sum(e.points for e in Entry._active(sale, ['redeem']))
    currency = sale.currency
    levels = [currency.round(v) for v in levels]
    return {
        'goods': money(levels[0]),
        'tier_discount': money(levels[0] - levels[1]),
        'pickup_discount': money(levels[1] - levels[2]),
        'coupon_discount': money(levels[2] - levels[3]),
        'points': points,
        'points_value': money(Entry.points_value(points) if points else 0),
        'total': money(sale.total_amount),
        }


def lines_data(sale):
    return [{
            'product': line.product.id if line.product else None,
            'name': line.product.name if line.product else (
                line.description or ''),
            'quantity': line.quantity,
            'unit_price': money(line.unit_price),
            'amount': money(line.amount),
            } for line in goods_lines(sale) if line.quantity]


def summary_data(pool, sale):
    "The lines and totals of the order, from its cart until it is built"
    if sale.mp_build:
        return sale.mp_cart['summary']
    return {
        'lines': lines_data(sale),
        'totals': totals(pool, sale),
        }


def quote_data(pool, sale):
    return {
        'fulfilment': 'pickup' if sale.pickup_store else 'delivery',
        'store': store_data(sale.pickup_store or sale.warehouse),
        **summary_data(pool, sale),
        }


def order_data(pool, sale):
    status = sale.mp_status
    pickup = None
    if sale.pickup_state in LIVE_STATES:
        code, qr = sale.pickup_code()
        pickup = {
            'code': code,
            'qr': qr,
            'deadline': iso(sale.pickup_deadline),
            }
    deadline = sale.mp_pay_deadline
    return dict(
        quote_data(pool, sale),
        id=sale.id,
        number=sale.number or '',
        status=status,
        created_at=iso(sale.create_date),
        pay_deadline=iso(deadline) if status == 'awaiting_payment' else None,
        address=(sale.shipment_address.full_address.replace('\n', ' ')
            if sale.mall_delivery and sale.shipment_address else None),
        pickup=pickup,
        can_pay=status == 'awaiting_payment' and (
            not deadline or deadline > datetime.datetime.now()),
        can_cancel=status in {'awaiting_payment', 'paid', 'ready'}
        and sale.mp_cancellable)


def delivery_address(pool, member, data):
    "Return the member's address of the delivery data, created if new"
    Address = pool.get('party.address')
    values = {
        'party': member.id,
        'party_name': data['name'].strip(),
        'street': '%s %s' % (data['street'].strip(), data['phone'].strip()),
        'city': (data.get('region') or '').strip(),
        'postal_code': (data.get('postal_code') or '').strip(),
        }
    addresses = Address.search(
        [(name, '=', value) for name, value in values.items()], limit=1)
    if addresses:
        return addresses[0]
    address, = Address.create([values])
    return address


def member_coupon(pool, member, code):
    "Return the member's coupon number of the code or refuse"
    Number = pool.get('sale.promotion.coupon.number')
    try:
        number = Number.find(code)
    except CouponError:
        raise ApiError(404, 'coupon_not_found', coupon=code) from None
    if number.party and number.party != member:
        raise ApiError(404, 'coupon_not_found', coupon=code)
    return number


def checkout(request, key=None):
    """Return the order of the request's cart: priced and unsaved without
    key (the preview), else saved and quoted with its stock held"""
    pool = request.pool
    Sale = pool.get('sale.sale')
    member = request.session.require_member()
    shop = request.shop
    body = request.body
    quantities = {}
    for item in body['items']:
        product = catalog.published_product(shop, item['product'])
        quantities[product] = quantities.get(product, 0) + item['quantity']
    store = None
    address = body.get('address') or {}
    if body['fulfilment'] == 'pickup':
        if not body.get('store'):
            raise ApiError(400, 'store_required')
        store = shop_store(shop, body['store'])
    elif not address:
        raise ApiError(400, 'address_required')
    # A sold-out product is refused first: the cheapest answer of a burst
    warehouse = check_stock(request, quantities, store)
    coupon = (member_coupon(pool, member, body['coupon'])
        if body.get('coupon') else None)
    try:
        # An order locks the member's orders: concurrent ones count each
        # other
        shop.mp_check_limits(member, quantities, lock=bool(key))
    except LimitError as error:
        raise limit_error(error) from None
    try:
        sale = Sale.mall_price(
            shop, member, list(quantities.items()), pickup_store=store,
            coupon=coupon, points=body.get('points', 0))
        if not key:
            # Where the hold would take the goods from
            sale.warehouse = warehouse
            return sale
        return Sale.mall_take(
            sale, summary_data(pool, sale),
            address=(delivery_address(pool, member, address)
                if not store else None),
            latitude=address.get('latitude'),
            longitude=address.get('longitude'), key=key,
            deadline=datetime.datetime.now() + shop.payment_time)
    except ReservationError as error:
        if not error.product:
            raise ApiError(409, 'out_of_stock', 'msg_api_sold_out') from None
        raise out_of_stock(request, error.product) from None
    except CheckoutError as error:
        raise ApiError(409, error.code, **error.variables) from None
    except CouponError:
        raise ApiError(409, 'coupon_unusable') from None
    except PointsError:
        raise ApiError(409, 'points_unusable') from None


def limit_error(error):
    "The API's answer to an order over a limit"
    details = error.details or {}
    variables = {
        'limit': details.get('limit'),
        'product': (details.get('product') or {}).get('name'),
        'bought': details.get('bought'),
        }
    message_id = 'msg_' + error.code
    if error.retry_after is None:
        return ApiError(
            409, error.code, message_id, details=details, **variables)
    return ApiError(
        429, error.code, message_id,
        details=dict(details, retry_after=error.retry_after),
        headers={'Retry-After': str(error.retry_after)}, **variables)


def check_stock(request, quantities, store):
    """Refuse at once what the committed figures can't serve, before the
    order is built; the hold decides for the rest. Return the warehouse
    that would serve the cart"""
    pool = request.pool
    Reservation = pool.get('stock.reservation')
    Uom = pool.get('product.uom')
    address = request.body.get('address') or {}
    warehouse, missing = Reservation.fulfilment_check({
            product: Uom.compute_qty(product.sale_uom, quantity,
                product.default_uom, round=False)
            for product, quantity in quantities.items()},
        store, address.get('latitude'), address.get('longitude'))
    if missing:
        raise out_of_stock(request, missing.id)
    return warehouse


def out_of_stock(request, product_id):
    "The 409 of a cart the stock can't serve, naming where the product is"
    Product = request.pool.get('product.product')
    product = Product(product_id)
    address = request.body.get('address') or {}
    stores = catalog.store_availability(
        request.shop, [product], address.get('latitude'),
        address.get('longitude'))[product.id]
    return ApiError(409, 'out_of_stock', product=product.name, details={
            'product': {'id': product.id, 'name': product.name},
            'stores': [s for s in stores if s['available'] > 0],
            })


def start_payment(request, sale):
    "Return the wx.requestPayment parameters of the sale, None if paid"
    pool = request.pool
    Payment = pool.get('web.shop.mp_payment')
    Sale = pool.get('sale.sale')
    if sale.mall_total <= 0:
        Sale.mall_paid([sale], None)
        return None
    try:
        _, parameters = Payment.start(
            sale, request.shop, request.session.openid)
    except WeChatError as error:
        raise ApiError(
            502, 'wechat_unavailable', errcode=str(error.errcode)) from None
    return parameters


@route('/checkout/preview', 'POST', dry_run=True)
def preview(request):
    return quote_data(request.pool, checkout(request))


@route('/orders', 'POST', limit='order')
def create_order(request):
    Sale = request.pool.get('sale.sale')
    member = request.session.require_member()
    key = request.headers['Idempotency-Key']
    sales = Sale.search([
            ('party', '=', member.id),
            ('mp_checkout_key', '=', key),
            ])
    if sales:
        sale, status = sales[0], 200
    else:
        sale, status = checkout(request, key), 201
    payment = None
    if sale.mp_status == 'awaiting_payment':
        payment = start_payment(request, sale)
    sale = Sale(sale.id)
    return {
        'order': order_data(request.pool, sale),
        'payment': payment,
        }, status


def member_order(request):
    "Return the session member's order of the path or refuse"
    Sale = request.pool.get('sale.sale')
    member = request.session.require_member()
    sales = Sale.search([
            ('id', '=', request.path['order']),
            *Sale.mp_orders_domain(member),
            ])
    if not sales:
        raise ApiError(404, 'order_not_found')
    return sales[0]


@route('/orders')
def list_orders(request):
    Sale = request.pool.get('sale.sale')
    member = request.session.require_member()
    query = request.query
    page, per_page = query.get('page', 1), query.get('per_page', 20)
    domain = Sale.mp_orders_domain(member)
    if query.get('status'):
        domain.append(('mp_status', '=', query['status']))
    sales = Sale.search(domain, offset=(page - 1) * per_page,
        limit=per_page, order=[('id', 'DESC')])
    return {
        'items': [order_data(request.pool, s) for s in sales],
        'page': page,
        'per_page': per_page,
        'total': Sale.search_count(domain),
        }


@route('/orders/<int:order>')
def get_order(request):
    return order_data(request.pool, member_order(request))


@route('/orders/<int:order>/pay', 'POST')
def pay_order(request):
    Sale = request.pool.get('sale.sale')
    sale = member_order(request)
    if not order_data(request.pool, sale)['can_pay']:
        raise ApiError(409, 'order_not_payable')
    payment = start_payment(request, sale)
    return {
        'order': order_data(request.pool, Sale(sale.id)),
        'payment': payment,
        }


@route('/orders/<int:order>/cancel', 'POST')
def cancel_order(request):
    pool = request.pool
    Refund = pool.get('sale.refund')
    Sale = pool.get('sale.sale')
    sale = member_order(request)
    try:
        Sale.mall_cancel([sale])
    except CheckoutError:
        raise ApiError(409, 'order_not_cancellable') from None
    except WeChatError as error:
        raise ApiError(
            502, 'wechat_unavailable', errcode=str(error.errcode)) from None
    sale = Sale(sale.id)
    Refund.send_wechat(list(sale.refunds))
    return order_data(pool, Sale(sale.id))


@route('/wechatpay/notify/<int:shop>', 'POST', auth=False)
def wechatpay_notify(request):
    "Process a payment or refund notification once"
    pool = request.pool
    Payment = pool.get('web.shop.mp_payment')
    Refund = pool.get('sale.refund')
    Shop = pool.get('web.shop')
    shops = Shop.search([
            ('id', '=', request.path['shop']),
            ('type', '=', 'mini_program'),
            ])
    if not shops:
        raise ApiError(404, 'shop_not_found')
    shop, = shops
    try:
        event = wechat.parse_notification(
            shop, request.http.headers, request.http.get_data())
        resource = event['resource']
        with Transaction().set_context(company=shop.company.id):
            if event['event_type'] == 'TRANSACTION.SUCCESS':
                Payment.succeeded(shop, resource)
            elif event['event_type'] == 'REFUND.SUCCESS':
                Refund.wechat_succeeded(shop, resource)
            elif event['event_type'] in {'REFUND.ABNORMAL', 'REFUND.CLOSED'}:
                Refund.wechat_refused(shop, resource)
    except NotificationError as error:
        status = 400 if error.reason in {'mismatch', 'unknown_order'} else 401
        raise ApiError(status, 'notification_rejected',
            'msg_api_notification_rejected', details={'reason': error.reason},
            reason=error.message) from None
    return None, 204
