#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Build the cached test databases (Tryton's DB_CACHE) once, before the test
workers start: the whole stack, which the module tests use, and the stack
with a company and its chart of accounts, which every scenario starts from;
on SQLite the same for the till, which is not in the stack.

Left to the tests, each worker would activate every module twice from
scratch, at the same time as the other worker.  Run with the
TRYTOND_DATABASE_URI and DB_CACHE of the tests."""
import os

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

STACK = 'omni_insights'
# omni_till is not in the stack (it depends on omni_miniprogram only): its
# own cases, scenario and the translations check activate it, on SQLite
TILL = 'omni_till'


def scenario_cache(module):
    """The name trytond.tests.tools.activate_modules gives to the cache of
    activate_modules(module, create_company, create_chart)"""
    return f'{module}--create_company|create_chart'


def build(module):
    "Cache the module activated, then with a company and its chart"
    activate_module([module])
    if not os.path.exists(_db_cache_file(DB_CACHE, scenario_cache(module))):
        config = pconfig.set_trytond()
        create_company(config=config)
        create_chart(config=config)
        backup_db_cache(scenario_cache(module))
    drop_db()


def main():
    if not DB_CACHE:
        raise SystemExit("DB_CACHE is not set")
    build(STACK)
    if backend.name == 'sqlite':
        build(TILL)


if __name__ == '__main__':
    main()
