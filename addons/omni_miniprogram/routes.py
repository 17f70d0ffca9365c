# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import re

from trytond.protocols.wrappers import Response, with_pool, with_transaction
from trytond.wsgi import app

from trytond.modules.omni_member_hub.party import mask_mobile

from .api import (
    API_PREFIX,
    OPENAPI,
    ROUTES,
    ApiError,
    json_response,
    refuse,
    route,
)


@app.route('/<database_name>/omni/v1/health', methods=['GET'])
@with_pool
@with_transaction()
def health(request, pool):
    "Tell a load balancer which omni modules this database serves"
    Module = pool.get('ir.module')
    modules = Module.search([
            ('name', 'like', 'omni_%'),
            ('state', '=', 'activated'),
            ], order=[('name', 'ASC')])
    return json_response({
            'status': 'ok',
            'modules': [m.name for m in modules],
            })


@route('/openapi.json', auth=False)
def openapi(request):
    return OPENAPI


@route('/session', 'DELETE')
def logout(request):
    request.session.__class__.delete([request.session])
    return {'status': 'logged_out'}


def me_data(request):
    member = request.member
    return {
        'shop': request.shop.id,
        'member': {
            'number': member.member_number,
            'name': member.name,
            'mobile': mask_mobile(member.member_mobile),
            'join_channel': member.member_join_channel,
            } if member else None,
        }


@route('/me')
def get_me(request):
    return me_data(request)


@route('/me', 'PUT')
def update_me(request):
    member = request.session.require_member()
    member.name = request.body['name'].strip()
    member.save()
    return me_data(request)


@app.route(API_PREFIX + '/<path:rest>',
    methods=['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
def unknown(request, database_name, rest):
    "Answer JSON for paths and methods the API does not have"
    if request.method == 'OPTIONS':
        return Response(status=204)
    path = '/' + rest
    known = any(
        re.fullmatch(re.sub(r'\{[a-z_]+\}', '[^/]+', p), path)
        for _, p in ROUTES)
    if known:
        error = ApiError(405, 'method_not_allowed')
    else:
        error = ApiError(404, 'not_found')
    return refuse(database_name, error)
