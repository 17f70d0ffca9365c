# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Schemathesis drives every registered operation of the mall API with data
generated from the OpenAPI document: no answer is a server error and every
answer is one the document describes."""
import copy
import time

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction
from trytond.wsgi import app

from trytond.modules.omni_miniprogram.api import OPENAPI, ROUTES
from trytond.modules.omni_miniprogram.tests.tools import (
    PREFIX,
    MallTestMixin,
)

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    ]
# Examples per operation, caller and generation mode
MAX_EXAMPLES = 10
# Past this many seconds the remaining operations are skipped
BUDGET = 45


def load_schema():
    document = copy.deepcopy(OPENAPI)
    document['servers'] = [{'url': PREFIX}]
    return schemathesis.openapi.from_dict(document)


def callers(operation):
    """Return the callers of an operation: 'member' with a member's session,
    'guest' without any"""
    security = operation.definition.raw.get('security', OPENAPI['security'])
    if not security:
        return ['guest']
    if {} in security:
        return ['member', 'guest']
    return ['member']


def modes(operation):
    "Return the generation modes: invalid data needs an input to spoil"
    raw = operation.definition.raw
    if raw.get('parameters') or raw.get('requestBody'):
        return [
            schemathesis.GenerationMode.POSITIVE,
            schemathesis.GenerationMode.NEGATIVE]
    return [schemathesis.GenerationMode.POSITIVE]


class SchemathesisTestCase(MallTestMixin, RouteTestCase):
    "Fuzz the mall API from its OpenAPI document"

    def bearer(self):
        "Return the header of a new session of the member"
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Party = pool.get('party.party')
            Session = pool.get('web.shop.mp_session')
            Shop = pool.get('web.shop')
            _, token = Session.open(
                Shop(self.shop_id), 'o-member',
                member=Party(self.member_id))
            transaction.commit()
        return {'Authorization': 'Bearer ' + token}

    def test_operations(self):
        "Every registered operation answers as the document says"
        schema = load_schema()
        deadline = time.monotonic() + BUDGET
        for method, path in sorted(ROUTES):
            operation = schema[path][method]
            for caller in callers(operation):
                for mode in modes(operation):
                    with self.subTest(
                            operation=f'{method} {path}', caller=caller,
                            mode=mode.value):
                        if time.monotonic() > deadline:
                            self.skipTest("out of the time budget")
                        self.fuzz(operation, caller, mode)

    def fuzz(self, operation, caller, mode):
        fixed = {}
        # A guest browses the test shop rather than shops that do not exist
        if (caller == 'guest' and mode == schemathesis.GenerationMode.POSITIVE
                and operation.query.get('shop')):
            fixed['query'] = {'shop': self.shop_id}

        @settings(
            max_examples=MAX_EXAMPLES, derandomize=True, database=None,
            deadline=None, phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode, **fixed))
        def run(case):
            headers = self.bearer() if caller == 'member' else None
            response = case.call(app=app, headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)
        run()
