# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The access rights of the omni modules' models and fields, per group, are
the table README.md shows; a model without access rights fails.

Regenerate the table with `tools/access_table.py` after a deliberate change
and review the difference."""
import os
import pathlib
import re
import sys

import pytest
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))

from access_table import BEGIN, END, access_table  # noqa: E402

# Access rights are definitions, the same on every backend
pytestmark = pytest.mark.skipif(
    os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="access rights do not depend on the backend")


def setup_module():
    activate_module('omni_insights')


def teardown_module():
    drop_db()


@with_transaction()
def test_access_table_in_readme():
    readme = (ROOT / 'README.md').read_text()
    shown = re.search(
        re.escape(BEGIN) + r'\n(.*?)' + re.escape(END), readme, re.S)
    assert shown, "README.md has no access table"
    table, unguarded = access_table()
    assert not unguarded, f"models without access rights: {unguarded}"
    assert shown.group(1) == table, (
        "the access rights changed: run tools/access_table.py and update "
        "README.md's table")
