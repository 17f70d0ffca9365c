# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import json

from trytond.protocols.wrappers import Response, with_pool, with_transaction
from trytond.wsgi import app

API_PREFIX = '/<database_name>/omni/v1'


def json_response(data, status=200):
    return Response(
        json.dumps(data, ensure_ascii=False), status=status,
        content_type='application/json; charset=utf-8')


@app.route(API_PREFIX + '/health', methods=['GET'])
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
