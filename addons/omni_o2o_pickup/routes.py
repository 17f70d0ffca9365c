# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""JSON routes for external POS devices and scanners, authenticated with a
user application key of the 'omni_pickup' application.

Errors are JSON objects with a stable `code`; a refused code is recorded
(and counts toward the lockout) even though the answer is an error.

The scanners of the first release post to /<database>/omni/v1/pickup/...,
which is kept for them."""
import functools
import json
import logging
from http import HTTPStatus

from trytond import backend
from trytond.exceptions import UserError
from trytond.protocols.wrappers import (
    abort,
    user_application,
    with_pool,
    with_transaction,
)
from trytond.transaction import (
    Transaction,
    check_access,
    without_check_access,
)
from trytond.wsgi import app

from trytond.modules.omni_inventory_bridge.http import (
    ROOT,
    json_error,
    json_response,
    prefix,
)

logger = logging.getLogger(__name__)
API_PREFIXES = [prefix('pos', 1) + '/pickup', ROOT + '/v1/pickup']
ERROR_STATUS = {
    'locked': HTTPStatus.TOO_MANY_REQUESTS,
    'invalid': HTTPStatus.NOT_FOUND,
    'wrong_store': HTTPStatus.CONFLICT,
    'used': HTTPStatus.CONFLICT,
    'expired': HTTPStatus.GONE,
    'unpaid': HTTPStatus.PAYMENT_REQUIRED,
    }

pickup_application = user_application('omni_pickup')


def route(path):
    "Route the path under the scanners' prefixes"
    def decorator(func):
        for api_prefix in API_PREFIXES:
            app.route(api_prefix + path, methods=['POST'])(func)
        return func
    return decorator


def read_request(request, pool):
    "Return the point of sale and the body, or abort with a JSON error"
    POS = pool.get('sale.point')
    try:
        data = json.loads(request.get_data() or b'{}')
        point_id = int(data['point'])
        code = str(data['code'])
    except (ValueError, TypeError, KeyError):
        abort(json_error('bad_request',
                "The body must be JSON with a point and a code.",
                HTTPStatus.BAD_REQUEST))
    # The application key's user works at the point as in the client
    with check_access():
        points = POS.search([('id', '=', point_id)])
    if not points:
        abort(json_error('unknown_point', "Unknown point of sale.",
                HTTPStatus.NOT_FOUND))
    return points[0], code, data


def sale_data(sale):
    return {
        'sale': sale.id,
        'number': sale.number,
        'member': {
            'id': sale.party.id,
            'name': sale.party.rec_name,
            },
        'pickup_state': sale.pickup_state,
        'paid_at': sale.paid_at,
        'total_amount': sale.total_amount,
        'currency': sale.currency.code,
        'lines': [{
                'id': line.id,
                'product': line.product.rec_name if line.product else None,
                'quantity': line.quantity,
                'unit': line.unit.rec_name if line.unit else None,
                'amount': line.amount,
                } for line in sale.line_lines],
        }


def json_when_busy(func):
    """Answer a JSON 503 when the database stays busy (the stock moves of
    two handovers at once) or goes away: Tryton's with_pool would answer
    an HTML 400 for a JSON body that is not JSON-RPC"""
    @functools.wraps(func)
    def wrapper(request, pool, *args, **kwargs):
        try:
            return func(request, pool, *args, **kwargs)
        except backend.DatabaseOperationalError:
            logger.warning(
                "pickup %s: database busy", request.path, exc_info=True)
            response = json_error('busy', "The database is busy, try again.",
                HTTPStatus.SERVICE_UNAVAILABLE)
            response.headers['Retry-After'] = '1'
            return response
    return wrapper


def check(pool, point, code):
    """Return the sale of the code at the point and None, or None and the
    JSON error to answer; the attempt is recorded either way, and the
    refusal is answered without an exception so that it is committed"""
    Sale = pool.get('sale.sale')
    with Transaction().set_context(company=point.company.id):
        sale, refused = Sale.pickup_check(code, point)
    if refused:
        return None, json_error(refused.code, refused.message,
            ERROR_STATUS[refused.code])
    return sale, None


@route('/verify')
@with_pool
@json_when_busy
@with_transaction()
@pickup_application
def verify(request, pool):
    "Show the order of a pickup code: lines, member and paid status"
    point, code, _ = read_request(request, pool)
    sale, refusal = check(pool, point, code)
    return refusal or json_response(sale_data(sale))


@route('/handover')
@with_pool
@json_when_busy
@with_transaction()
@pickup_application
def handover(request, pool):
    """Hand the order of a pickup code over at the point, without the
    lines listed as refused_lines"""
    Sale = pool.get('sale.sale')
    point, code, data = read_request(request, pool)
    sale, refusal = check(pool, point, code)
    if refusal:
        return refusal
    refused = [int(i) for i in data.get('refused_lines') or []]
    try:
        # As the back office's wizard: the clerk hands orders over at his
        # point, he does not edit sales
        with Transaction().set_context(company=point.company.id), \
                without_check_access():
            Sale.pickup_handover([sale], point, refused)
    except UserError as exception:
        abort(json_error('handover_failed', exception.message,
                HTTPStatus.CONFLICT))
    return json_response(sale_data(Sale(sale.id)))
