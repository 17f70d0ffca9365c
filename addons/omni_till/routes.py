# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The till: a page and its static files, which log in with Tryton's
common.db.login and then call the models over JSON-RPC as the clerk, as
the web client does."""
from pathlib import Path

from trytond.modules.omni_inventory_bridge.http import serve_page

serve_page('till', Path(__file__).parent / 'static')
