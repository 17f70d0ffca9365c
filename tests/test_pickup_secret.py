# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The pickup code key made by two first payments at once on PostgreSQL is
one key: each would have made its own, and the codes drawn with the key
that lost were never valid at the till."""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

from trytond.modules.omni_inventory_bridge.tests.tools import run_retrying

pytestmark = pytest.mark.skipif(
    not os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="concurrent transactions need PostgreSQL (TRYTOND_DATABASE_URI)")


def test_first_key_made_once():
    activate_module('omni_insights')
    start = threading.Barrier(2)

    def first_use():
        "Read the key as a payment does, both transactions at once"
        waited = []

        def read():
            Secret = Pool().get('sale.pickup.secret')
            if not waited:
                waited.append(True)
                # Both snapshots predate either key
                Secret.search([])
                start.wait(timeout=60)
            return Secret.get()
        return run_retrying(read)[0]

    try:
        with ThreadPoolExecutor(2) as executor:
            keys = list(executor.map(lambda _: first_use(), range(2)))
        with Transaction().start(DB_NAME, 0):
            count = Pool().get('sale.pickup.secret').search_count([])
        assert keys[0] == keys[1]
        assert count == 1
    finally:
        drop_db()
