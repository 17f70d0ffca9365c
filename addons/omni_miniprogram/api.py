# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The plumbing of the mall API: every route answers JSON, checks its input
against the OpenAPI document and runs in one transaction that writes nothing
when the request fails."""
import functools
import json
import logging
import math
import re
import time
from http import HTTPStatus
from pathlib import Path

import jsonschema
import yaml
from trytond import backend, config
from trytond.exceptions import UserError, UserWarning
from trytond.model.exceptions import AccessError, ValidationError
from trytond.model.modelsql import SQLConstraintError
from trytond.pool import Pool
from trytond.protocols.wrappers import Response
from trytond.transaction import Transaction, TransactionError
from trytond.worker import run_task
from trytond.wsgi import app

from trytond.modules.omni_inventory_bridge.http import json_response, prefix

logger = logging.getLogger(__name__)

API_PREFIX = prefix('mp', 1)
MAX_BODY_SIZE = 64 * 1024
LANGUAGES = ['zh_CN', 'en']
OPENAPI_PATH = Path(__file__).parent / 'openapi.yaml'
OPENAPI = yaml.safe_load(OPENAPI_PATH.read_text(encoding='utf-8'))
# {(method, path as in the OpenAPI document): endpoint}
ROUTES = {}


class ApiError(Exception):
    "An answer with a 4xx or 5xx status and a stable code"

    def __init__(self, status, code, message_id=None, details=None,
            headers=None, **variables):
        super().__init__(code)
        self.status = HTTPStatus(status)
        self.code = code
        self.message_id = message_id or 'msg_api_%s' % code
        self.details = details
        self.headers = headers or {}
        self.variables = variables

    def messages(self):
        "Return the message in Chinese and in English"
        Message = Pool().get('ir.message')
        return {
            'message' if language == 'zh_CN' else 'message_%s' % language:
            Message.gettext(
                'omni_miniprogram', self.message_id, language,
                **self.variables)
            for language in LANGUAGES}


def openapi_path(rule):
    "Return the OpenAPI path of a werkzeug rule below the API prefix"
    return re.sub(r'<(?:[a-z]+:)?([a-z_]+)>', r'{\1}', rule)


def error_response(error):
    "Answer the error, with its messages when a database is at hand"
    body = {'code': error.code}
    if Transaction().database:
        body.update(error.messages())
    else:
        body.update({'message': error.code, 'message_en': error.code})
    if error.details is not None:
        body['details'] = error.details
    headers = dict(error.headers)
    if error.status == 401:
        headers['WWW-Authenticate'] = 'Bearer'
    return json_response(body, error.status, headers)


class ApiRequest:
    "What a route receives: the validated input and the caller"

    def __init__(self, request, pool, operation, path_args):
        self.http = request
        self.pool = pool
        self.operation = operation
        self.path = self._path(path_args)
        self.query = self._values('query', request.args)
        self.headers = self._values('header', request.headers)
        self.body = self._body()
        self.session = None

    @property
    def member(self):
        return self.session.member if self.session else None

    @property
    def shop(self):
        return self.session.shop if self.session else None

    @property
    def address(self):
        """The client's address as the WSGI server gives it: behind a
        proxy, Tryton's [web] num_proxies makes it the one the proxies
        forwarded"""
        return self.http.remote_addr

    def limit(self, scope, member_key=None, address=True):
        """Count the request in the scope's rate limits of the shop, once
        per HTTP request, and refuse it with a 429 when it is over them"""
        RateCounter = self.pool.get('web.shop.mp_rate_counter')
        counted = self.http.environ.setdefault('omni.limits', set())
        key = (scope, member_key, address)
        if key in counted:
            return
        shop = self.shop
        if shop is None and isinstance(self.body, dict):
            Shop = self.pool.get('web.shop')
            shop = Shop.search([
                    ('id', '=', self.body.get('shop')),
                    ('type', '=', 'mini_program'),
                    ], limit=1)
            shop = shop[0] if shop else None
        if shop is None:
            return
        counted.add(key)
        RateCounter.check(
            shop, scope, member_key, self.address if address else None)

    @property
    def member_key(self):
        "The rate limits' key of the session's member or WeChat user"
        RateCounter = self.pool.get('web.shop.mp_rate_counter')
        if self.member:
            return 'member:%s' % self.member.id
        return RateCounter.wechat_key(
            self.shop.wechat_appid, self.session.openid)

    def _parameters(self, location):
        for parameter in self.operation.get('parameters', []):
            parameter = resolve(parameter)
            if parameter['in'] == location:
                yield parameter

    def _path(self, path_args):
        """Check the path's arguments: a record of an id that cannot exist
        is not found, another argument out of its schema is invalid"""
        for parameter in self._parameters('path'):
            name = parameter['name']
            try:
                validate(path_args[name], parameter['schema'])
            except ApiError:
                if resolve(parameter['schema']).get('type') == 'integer':
                    raise ApiError(404, 'not_found') from None
                raise ApiError(
                    400, 'invalid_request', 'msg_api_parameter_invalid',
                    details={'parameter': name}, parameter=name) from None
        return path_args

    def _values(self, location, values):
        "Return the validated parameters of the location (query, header)"
        parameters = {}
        for parameter in self._parameters(location):
            name = parameter['name']
            if name not in values:
                if parameter.get('required'):
                    raise ApiError(
                        400, 'invalid_request', 'msg_api_parameter_missing',
                        details={'parameter': name}, parameter=name)
                continue
            parameters[name] = convert_parameter(
                name, values.get(name), parameter['schema'])
        return parameters

    def _body(self):
        schema = (self.operation.get('requestBody', {}).get('content', {})
            .get('application/json', {}).get('schema'))
        if schema is None:
            return None
        if (self.http.content_length or 0) > MAX_BODY_SIZE:
            raise ApiError(413, 'payload_too_large', size=MAX_BODY_SIZE)
        raw = self.http.get_data()
        if len(raw) > MAX_BODY_SIZE:
            raise ApiError(413, 'payload_too_large', size=MAX_BODY_SIZE)
        try:
            body = json.loads(raw or b'null')
        except ValueError:
            raise ApiError(400, 'invalid_json') from None
        validate(body, schema)
        return body


def resolve(node):
    "Return the part of the document that node refers to, or node itself"
    while '$ref' in node:
        section, name = node['$ref'].rsplit('/', 2)[1:]
        node = OPENAPI['components'][section][name]
    return node


def convert_parameter(name, value, schema):
    kind = resolve(schema).get('type')
    try:
        if kind == 'integer':
            value = int(value)
        elif kind == 'number':
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(value)
    except ValueError:
        raise ApiError(
            400, 'invalid_request', 'msg_api_parameter_invalid',
            details={'parameter': name}, parameter=name) from None
    try:
        validate(value, schema)
    except ApiError:
        raise ApiError(
            400, 'invalid_request', 'msg_api_parameter_invalid',
            details={'parameter': name}, parameter=name) from None
    return value


def validate(value, schema):
    "Check value against a schema of the OpenAPI document"
    validator = jsonschema.Draft202012Validator(
        dict(schema, components=OPENAPI['components']))
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is not None:
        field = '/'.join(str(p) for p in error.absolute_path) or '(body)'
        raise ApiError(
            400, 'invalid_request', 'msg_api_field_invalid',
            details={'field': field, 'rule': error.validator}, field=field)


def route(path, method='GET', auth=True, readonly=None, dry_run=False,
        limit=None):
    """Register an API operation that the OpenAPI document describes at
    path and method; the function gets an ApiRequest and returns the JSON
    data, a (data, status) pair or a Response (an image).  auth is True,
    False or 'optional' (a session is used when the request has one).  GET
    operations run in a read-only transaction unless readonly is False.
    The transaction of a dry_run operation is rolled back when it succeeds
    too.  limit names the rate limits (ratelimit.SCOPES) that count the
    request, per client address and per member, before the operation
    runs."""
    if readonly is None:
        readonly = method in {'GET', 'HEAD'}

    def decorator(func):
        operation = OPENAPI['paths'][openapi_path(path)][method.lower()]
        ROUTES[(method, openapi_path(path))] = func

        @functools.wraps(func)
        def endpoint(request, database_name, **path_args):
            if request.method == 'OPTIONS':
                # Tryton adds the CORS headers for the origins of [web] cors
                return Response(status=204)
            started = time.monotonic()
            response = None
            try:
                if limit:
                    response = count_request(
                        request, database_name, operation, path_args, auth,
                        limit)
                if response is None:
                    response = dispatch(
                        request, database_name, func, operation, path_args,
                        auth, readonly, dry_run)
            except backend.DatabaseOperationalError:
                # The database server went away: at the start of the
                # transaction or at its commit, whose outcome is unknown
                # (a retry with the same Idempotency-Key finds the order)
                logger.warning(
                    "API %s: database unavailable", request.path,
                    exc_info=True)
                response = error_response(ApiError(
                        503, 'busy', headers={'Retry-After': '1'}))
            logger.info(
                "%s %s %s %.1f ms", method, path, response.status_code,
                (time.monotonic() - started) * 1000)
            return response
        app.route(API_PREFIX + path, methods=[method, 'OPTIONS'])(endpoint)
        return func
    return decorator


def open_pool(database_name):
    """Return the pool of the database, or None if there is no such
    database; raise DatabaseOperationalError if the server does not answer"""
    if database_name not in Pool.database_list():
        with Transaction().start(None, 0, readonly=True) as transaction:
            if database_name not in transaction.database.list():
                return None
        with Transaction().start(database_name, 0, readonly=True):
            Pool(database_name).init()
    return Pool(database_name)


def refuse(database_name, error):
    "Answer the error outside of any operation"
    try:
        if open_pool(database_name) is None:
            return error_response(ApiError(404, 'database_not_found'))
        with Transaction().start(
                database_name, 0, readonly=True,
                context={'language': 'zh_CN'}):
            return error_response(error)
    except backend.DatabaseOperationalError:
        # Without the database, the code is the message
        return error_response(error)


def count_request(request, database_name, operation, path_args, auth,
        scope):
    """Count the request in the rate limits of the scope, in a transaction
    of its own so that the count stays whatever becomes of the request;
    return the error response of a refused request, else None"""
    pool = open_pool(database_name)
    if pool is None:
        return error_response(ApiError(404, 'database_not_found'))
    with Transaction().start(
            database_name, 0, context={'language': 'zh_CN'}) as transaction:
        try:
            api_request = ApiRequest(request, pool, operation, path_args)
            member_key = None
            if auth:
                Session = pool.get('web.shop.mp_session')
                api_request.session = Session.authenticate(
                    request.headers.get('Authorization'))
                member_key = api_request.member_key
            api_request.limit(scope, member_key)
        except ApiError as error:
            return error_response(error)
        except backend.DatabaseOperationalError:
            transaction.rollback()
            logger.warning("API %s not counted", request.path, exc_info=True)
            return error_response(ApiError(503, 'busy'))
        except Exception:
            transaction.rollback()
            logger.exception("API %s not counted", request.path)
            return error_response(ApiError(500, 'internal_error'))


def user_error(exception):
    """Return the ApiError of a user error that no route expected: a
    stable code and our own message, never the text of the ORM"""
    if isinstance(exception, AccessError):
        error = ApiError(403, 'forbidden')
    elif isinstance(exception, SQLConstraintError):
        error = ApiError(409, 'conflict')
    elif isinstance(exception, ValidationError):
        error = ApiError(400, 'invalid_values')
    else:
        error = ApiError(400, 'rejected')
    # The message may name records, not secrets: the request's headers
    # and body are not logged
    logger.warning(
        "API refused with %s (%s): %s", error.code,
        type(exception).__name__, getattr(exception, 'message', ''))
    return error


def dispatch(request, database_name, func, operation, path_args, auth,
        readonly, dry_run=False):
    pool = open_pool(database_name)
    if pool is None:
        return error_response(ApiError(404, 'database_not_found'))
    extras = {}
    retries = config.getint('database', 'retry')
    attempt = 0
    while True:
        with Transaction().start(
                database_name, 0, readonly=readonly,
                context={'language': 'zh_CN', 'company': None},
                **extras) as transaction:
            # Only the tasks of the attempt that commits run
            transaction.tasks.clear()
            try:
                api_request = ApiRequest(
                    request, pool, operation, path_args)
                context = {}
                authorization = request.headers.get('Authorization')
                if auth is True or (auth == 'optional' and authorization):
                    Session = pool.get('web.shop.mp_session')
                    api_request.session = Session.authenticate(authorization)
                    context['company'] = api_request.shop.company.id
                with transaction.set_context(context):
                    result = func(api_request)
            except TransactionError as exception:
                transaction.rollback()
                exception.fix(extras)
                continue
            except backend.DatabaseOperationalError:
                transaction.rollback()
                if attempt < retries and not readonly:
                    attempt += 1
                    continue
                logger.warning("API %s failed", request.path, exc_info=True)
                return error_response(ApiError(503, 'busy'))
            except ApiError as error:
                transaction.rollback()
                return error_response(error)
            except (UserError, UserWarning) as exception:
                transaction.rollback()
                return error_response(user_error(exception))
            except Exception:
                transaction.rollback()
                logger.exception("API %s failed", request.path)
                error = ApiError(500, 'internal_error')
                return error_response(error)
            if dry_run:
                transaction.rollback()
                transaction.tasks.clear()
            else:
                transaction.commit()
        break
    # The tasks the operation queued, when no worker runs them
    while transaction.tasks:
        run_task(pool, transaction.tasks.pop())
    if isinstance(result, Response):
        return result
    status = HTTPStatus.OK
    if isinstance(result, tuple):
        result, status = result
    if status == HTTPStatus.NO_CONTENT:
        return Response(status=int(status))
    return json_response(result, status)
