#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Build the cached test databases (Tryton's DB_CACHE) once, before the test
workers start: the whole stack, which the module tests use, and the stack
with a company and its chart of accounts, which every scenario starts from.

Left to the tests, each worker would activate every module twice from
scratch, at the same time as the other worker.  Run with the
TRYTOND_DATABASE_URI and DB_CACHE of the tests."""
import os

from proteus import config as pconfig
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
# The name trytond.tests.tools.activate_modules gives to the cache of
# activate_modules(STACK, create_company, create_chart)
SCENARIO = f'{STACK}--create_company|create_chart'


def main():
    if not DB_CACHE:
        raise SystemExit("DB_CACHE is not set")
    activate_module([STACK])
    if not os.path.exists(_db_cache_file(DB_CACHE, SCENARIO)):
        config = pconfig.set_trytond()
        create_company(config=config)
        create_chart(config=config)
        backup_db_cache(SCENARIO)
    drop_db()


if __name__ == '__main__':
    main()
