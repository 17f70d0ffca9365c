#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Build the cached test databases (Tryton's DB_CACHE) once, before the test
workers start: each module activated alone, which its own test cases use,
and the same with a company and its chart of accounts, which its scenarios
start from; and the whole stack (omni_insights), which the tests of tests/
use.  On PostgreSQL only the modules whose cases run there too (conftest's
POSTGRESQL_ALSO) and the stack.

Left to the tests, each worker would activate the same modules from
scratch, at the same time as the other worker.  Run with the
TRYTOND_DATABASE_URI and DB_CACHE of the tests; MODULE arguments build only
those modules' databases."""
import os
import sys
from pathlib import Path

from proteus import config as pconfig
from trytond import backend
from trytond.tests.test_tryton import (
    DB_CACHE,
    _db_cache_file,
    activate_module,
    backup_db_cache,
    drop_db,
)

from trytond.modules.account.tests.tools import create_chart
from trytond.modules.company.tests.tools import create_company

ROOT = Path(__file__).resolve().parent.parent

# The tests of tests/ activate the whole stack (omni_till is not in it)
STACK = 'omni_insights'


def scenario_cache(module):
    """The name trytond.tests.tools.activate_modules gives to the cache of
    activate_modules(module, create_company, create_chart)"""
    return f'{module}--create_company|create_chart'


def has_scenarios(module):
    return any((ROOT / 'addons' / module / 'tests').glob('scenario_*.rst'))


def caches():
    """Return [(module, with its scenarios' cache)] that the tests of this
    backend restore"""
    modules = sorted(p.parent.name for p in ROOT.glob('addons/*/tryton.cfg'))
    if backend.name == 'sqlite':
        return [(m, has_scenarios(m)) for m in modules]
    sys.path.insert(0, str(ROOT))
    from conftest import POSTGRESQL_ALSO
    scenarios = {m for m, name, _ in POSTGRESQL_ALSO
        if name == 'test_scenario.py'}
    kept = {m for m, _, _ in POSTGRESQL_ALSO} | {STACK}
    return [(m, m in scenarios) for m in modules if m in kept]


def build(module, scenarios):
    """Cache the module activated, then with a company and its chart if its
    scenarios start from them"""
    activate_module([module])
    if scenarios and not os.path.exists(
            _db_cache_file(DB_CACHE, scenario_cache(module))):
        config = pconfig.set_trytond()
        create_company(config=config)
        create_chart(config=config)
        backup_db_cache(scenario_cache(module))
    drop_db()


def main(modules):
    if not DB_CACHE:
        raise SystemExit("DB_CACHE is not set")
    for module, scenarios in caches():
        if not modules or module in modules:
            build(module, scenarios)


if __name__ == '__main__':
    main(sys.argv[1:])
