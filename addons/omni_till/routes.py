# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The till: a page and its static files, which log in with Tryton's
common.db.login and then call the models over JSON-RPC as the clerk, as
the web client does."""
from pathlib import Path

from trytond.wsgi import app
from werkzeug.utils import send_from_directory

TILL_PREFIX = '/<database_name>/omni/till'
STATIC = Path(__file__).parent / 'static'


@app.route(TILL_PREFIX + '/', methods=['GET'])
def page(request, database_name):
    return send_from_directory(STATIC, 'index.html', request.environ)


@app.route(TILL_PREFIX + '/static/<path:filename>', methods=['GET'])
def static(request, database_name, filename):
    return send_from_directory(STATIC, filename, request.environ)
