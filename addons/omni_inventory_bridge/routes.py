# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The probes of the operators: readiness and health"""
import logging
from http import HTTPStatus

from trytond import backend
from trytond.pool import Pool
from trytond.protocols.wrappers import with_pool, with_transaction
from trytond.transaction import Transaction
from trytond.wsgi import app

from .http import json_response, prefix

logger = logging.getLogger(__name__)
# The states of a module whose activation, upgrade or removal is pending
PENDING = ['to activate', 'to upgrade', 'to remove']


OPS_PREFIX = prefix('ops', 1)


def answer(status, body):
    return json_response(body, status, {'Cache-Control': 'no-store'})


@app.route(OPS_PREFIX + '/health', methods=['GET'])
@with_pool
@with_transaction()
def health(request, pool):
    """Tell a load balancer that the database answers, and nothing more:
    which modules it runs is no one's business"""
    return json_response({'status': 'ok'})


@app.route(OPS_PREFIX + '/ready', methods=['GET'])
def ready(request, database_name):
    """Tell a load balancer whether this worker serves the database: it
    answers and its modules are activated, with no activation or upgrade
    pending.  Never a 500: a probe reads the status and the code."""
    try:
        if database_name not in Pool.database_list():
            with Transaction().start(None, 0, readonly=True) as transaction:
                if database_name not in transaction.database.list():
                    return answer(HTTPStatus.NOT_FOUND, {
                            'status': 'unavailable',
                            'code': 'database_not_found'})
            with Transaction().start(database_name, 0, readonly=True):
                Pool(database_name).init()
        with Transaction().start(database_name, 0, readonly=True):
            Module = Pool(database_name).get('ir.module')
            activated = Module.search([
                    ('name', '=', 'omni_inventory_bridge'),
                    ('state', '=', 'activated'),
                    ])
            pending = Module.search_count([('state', 'in', PENDING)])
    except backend.DatabaseOperationalError:
        logger.warning("readiness of %s: database unavailable",
            database_name, exc_info=True)
        return answer(HTTPStatus.SERVICE_UNAVAILABLE, {
                'status': 'unavailable', 'code': 'database_unavailable'})
    if not activated or pending:
        return answer(HTTPStatus.SERVICE_UNAVAILABLE, {
                'status': 'unavailable', 'code': 'modules_not_activated'})
    return answer(HTTPStatus.OK, {'status': 'ready'})
