# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Hostile input on every registered operation of the mall API: each answer
is a JSON error of the document and writes nothing."""
import json
import re
from unittest.mock import patch

from sql.aggregate import Count, Max
from sql.conditionals import Coalesce
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from trytond.modules.omni_miniprogram import routes
from trytond.modules.omni_miniprogram.api import (
    MAX_BODY_SIZE,
    OPENAPI,
    ROUTES,
    resolve,
    validate,
)
from trytond.modules.omni_miniprogram.tests.tools import (
    MallTestMixin,
    check_response,
)

# The records a request of the mall could create or change
WATCHED = [
    'party.party', 'party.wechat_identity', 'web.shop.mp_session',
    'sale.sale', 'stock.reservation', 'member.points.entry',
    'member.notification']
IDEMPOTENCY_KEY = {'Idempotency-Key': 'fuzz-0001'}


def operations(methods):
    "Yield (method, path, operation) of the registered operations"
    for method, path in sorted(ROUTES):
        if method in methods:
            yield method, path, OPENAPI['paths'][path][method.lower()]


def body_schema(operation):
    return (operation.get('requestBody', {}).get('content', {})
        .get('application/json', {}).get('schema'))


def parameters(operation, location):
    for parameter in operation.get('parameters', []):
        parameter = resolve(parameter)
        if parameter['in'] == location:
            yield parameter


def integer_parameters(operation, location):
    return [p['name'] for p in parameters(operation, location)
        if resolve(p['schema']).get('type') == 'integer']


class ApiInputTestCase(MallTestMixin, RouteTestCase):
    "Malformed, oversized and mistyped input gets a 4xx JSON error"

    def snapshot(self):
        "Return the count and last change of the watched records"
        figures = {}
        with Transaction().start(DB_NAME, 0, readonly=True) as transaction:
            pool = Pool()
            cursor = transaction.connection.cursor()
            for name in WATCHED:
                table = pool.get(name).__table__()
                cursor.execute(*table.select(
                        Count(table.id),
                        Max(Coalesce(table.write_date, table.create_date))))
                figures[name] = cursor.fetchone()
        return figures

    def url(self, path):
        "Return the path with an existing record's id for its arguments"
        return re.sub(r'\{[a-z_]+\}', str(self.shop_id), path)

    def assertError(self, response, path, method, status, code=None):
        """Check that the answer is a JSON error, of the operation's
        document unless it is a server error"""
        self.assertEqual(response.status_code, status, response.get_data())
        self.assertNotIn(b'<html', response.get_data().lower())
        if status < 500:
            data = check_response(response, path, method.lower())
        else:
            self.assertTrue(
                response.content_type.startswith('application/json'))
            data = json.loads(response.get_data())
            validate(data, {'$ref': '#/components/schemas/Error'})
        for key in ['code', 'message', 'message_en']:
            self.assertTrue(data[key], key)
        if code:
            self.assertEqual(data['code'], code)
        return data

    def test_bodies(self):
        "Oversized, malformed and mistyped bodies of every JSON operation"
        cases = [
            (json.dumps({'x': 'x' * MAX_BODY_SIZE}).encode(), 413,
                'payload_too_large'),
            (b'{"shop": ', 400, 'invalid_json'),
            (b'{"name": "\xff"}', 400, 'invalid_json'),
            (b'[]', 400, 'invalid_request'),
            (b'"text"', 400, 'invalid_request'),
            (b'42', 400, 'invalid_request'),
            (b'null', 400, 'invalid_request'),
            ]
        before = self.snapshot()
        tested = 0
        for method, path, operation in operations({'POST', 'PUT'}):
            if body_schema(operation) is None:
                continue
            tested += 1
            for body, status, code in cases:
                with self.subTest(path=path, method=method, body=body[:12]):
                    response = self.request(
                        method, self.url(path), self.token, data=body,
                        content_type='application/json',
                        headers=dict(IDEMPOTENCY_KEY))
                    self.assertError(response, path, method, status, code)
        self.assertGreater(tested, 0)
        self.assertEqual(self.snapshot(), before)

    def test_integer_parameters(self):
        """Text for an integer query parameter is a 400 naming it, for a
        record id in the path a 404"""
        before = self.snapshot()
        tested = 0
        for method, path, operation in operations({'GET'}):
            valid = {
                p['name']: '1' for p in parameters(operation, 'query')
                if p.get('required')}
            for name in integer_parameters(operation, 'query'):
                tested += 1
                for value in ['abc', '1.5', '', '99999999999999999999']:
                    with self.subTest(path=path, parameter=name, value=value):
                        query = dict(valid, **{name: value})
                        response = self.request(
                            method, self.url(path), self.token,
                            query_string=query)
                        data = self.assertError(
                            response, path, method, 400, 'invalid_request')
                        self.assertEqual(data['details']['parameter'], name)
            for name in integer_parameters(operation, 'path'):
                tested += 1
                for value in ['abc', '-1', '0', '99999999999999999999']:
                    with self.subTest(path=path, parameter=name, value=value):
                        url = path.replace('{%s}' % name, value)
                        response = self.request(
                            method, self.url(url), self.token,
                            query_string=valid)
                        self.assertError(response, path, method, 404)
        self.assertGreater(tested, 0)
        self.assertEqual(self.snapshot(), before)

    def test_carts(self):
        "Negative quantities and unknown products of a cart are refused"
        carts = [
            ({'product': self.tea_id, 'quantity': -1}, 'invalid_request'),
            ({'product': self.tea_id, 'quantity': 0}, 'invalid_request'),
            ({'product': self.tea_id, 'quantity': 1.5}, 'invalid_request'),
            ({'product': self.tea_id, 'quantity': '1'}, 'invalid_request'),
            ({'product': self.hidden_id, 'quantity': 1}, None),
            ({'product': 2147483647, 'quantity': 1}, None),
            ]
        cart_operations = [
            (method, path) for method, path, operation
            in operations({'POST'})
            if body_schema(operation) == {'$ref': '#/components/schemas/Cart'}]
        if not cart_operations:
            self.skipTest("no cart operation is registered")
        before = self.snapshot()
        for method, path in cart_operations:
            for item, code in carts:
                with self.subTest(operation=path, item=item):
                    response = self.request(
                        method, path, self.token, headers=dict(
                            IDEMPOTENCY_KEY),
                        json={
                            'items': [item],
                            'fulfilment': 'pickup',
                            'store': self.store_ids[0],
                            })
                    self.assertEqual(response.status_code // 100, 4)
                    self.assertError(
                        response, path, method, response.status_code, code)
        self.assertEqual(self.snapshot(), before)

    def test_internal_error(self):
        """An exception in a route is a 500 JSON error that tells nothing of
        it, and what the route wrote before is undone"""
        before = self.snapshot()
        with patch.object(
                routes, 'me_data', side_effect=RuntimeError("secret detail")):
            response = self.request(
                'PUT', '/me', self.token, json={'name': "Mallory"})
        data = self.assertError(response, '/me', 'PUT', 500, 'internal_error')
        self.assertNotIn('secret detail', json.dumps(data))
        self.assertNotIn('RuntimeError', json.dumps(data))
        self.assertEqual(self.member_name(), "张伟")
        self.assertEqual(self.snapshot(), before)
