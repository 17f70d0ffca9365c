# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The one HTTP convention of the Omni routes.

Every path is ``/<database>/omni/<surface>/...``:

- a JSON API for a device or an app is versioned inside its surface:
  ``mp/v1`` the mini-program, ``pos/v1`` the stores' scanners, ``ops/v1``
  the probes of the operators;
- a page is served at ``<surface>/`` with its files under
  ``<surface>/static/`` and its own JSON next to it, unversioned because
  the page and its JSON ship together: ``dashboard/``, ``till/``.

Every JSON answer goes through json_response; an error is an object with a
stable ``code`` and a ``message`` (json_error)."""
import json
from collections.abc import Mapping
from http import HTTPStatus

from trytond.protocols.wrappers import Response
from trytond.wsgi import app
from werkzeug.utils import send_from_directory

ROOT = '/<database_name>/omni'


def prefix(surface, version=None):
    "The path prefix of the surface, and of its API version if any"
    path = f'{ROOT}/{surface}'
    return f'{path}/v{version}' if version else path


def _json_default(value):
    # Tryton's caches keep their values as read-only mappings
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


def json_response(data, status=HTTPStatus.OK, headers=None):
    return Response(
        json.dumps(data, ensure_ascii=False, separators=(',', ':'),
            default=_json_default),
        status=int(status), headers=headers,
        content_type='application/json; charset=utf-8')


def json_error(code, message, status, headers=None, **extra):
    "Answer an error with its stable code"
    return json_response(
        {'code': code, 'message': message, **extra}, status, headers)


def serve_page(surface, folder):
    """Serve folder's index.html at the surface's path and its other files
    under static/: the page then logs in and calls the server itself"""
    path = prefix(surface)

    def page(request, database_name):
        return send_from_directory(folder, 'index.html', request.environ)

    def static(request, database_name, filename):
        return send_from_directory(folder, filename, request.environ)
    app.route(path + '/', methods=['GET'])(page)
    app.route(path + '/static/<path:filename>', methods=['GET'])(static)
