# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Bridge Tryton's doctest scenarios into pytest and give each xdist worker
its own PostgreSQL test database.

pytest ignores unittest's ``load_tests`` protocol, which Tryton modules use
in ``tests/test_scenario.py`` to load their ``scenario_*.rst`` files.
"""
import importlib
import os
import sys
import unittest
from pathlib import Path

import pytest

# The browser tests share their demo server and clients from tests/
sys.path.insert(0, str(Path(__file__).parent / 'tests'))


def pytest_configure(config):
    # Each xdist worker needs its own PostgreSQL test database.
    worker = os.environ.get('PYTEST_XDIST_WORKER')
    if worker and not os.environ.get('DB_NAME'):
        uri = os.environ.get('TRYTOND_DATABASE_URI', '')
        if uri.startswith('postgresql'):
            os.environ['DB_NAME'] = f'test_{worker}_{os.getpid()}'
    alias_modules()


def alias_modules():
    """Make pytest find addons/NAME as the trytond.modules.NAME package,
    which it would otherwise import a second time as NAME, with a second
    copy of every class and route"""
    addons = Path(__file__).parent / 'addons'
    for cfg in addons.glob('*/tryton.cfg'):
        name = cfg.parent.name
        for suffix in ['', '.tests']:
            sys.modules.setdefault(
                name + suffix,
                importlib.import_module(f'trytond.modules.{name}{suffix}'))


def pytest_pycollect_makemodule(module_path, parent):
    if module_path.name == 'test_scenario.py' and (
            module_path.parent.parent / 'tryton.cfg').exists():
        return ScenarioModule.from_parent(parent, path=module_path)


class ScenarioModule(pytest.File):

    def collect(self):
        module_name = self.path.parent.parent.name
        test_module = importlib.import_module(
            f'trytond.modules.{module_name}.tests.test_scenario')
        suite = test_module.load_tests(
            unittest.TestLoader(), unittest.TestSuite(), None)
        for test in iter_tests(suite):
            yield ScenarioItem.from_parent(
                self, name=test.id().rsplit('/', 1)[-1], test=test)


def iter_tests(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from iter_tests(test)
        else:
            yield test


class ScenarioItem(pytest.Item):

    def __init__(self, *, test, **kwargs):
        super().__init__(**kwargs)
        self.test = test

    def runtest(self):
        from trytond.tests.test_tryton import drop_db

        # A scenario restores its database from the cache, which fails if
        # a test before it on this worker left the database behind
        drop_db()
        result = unittest.TestResult()
        self.test.run(result)
        problems = result.failures + result.errors
        if problems:
            raise ScenarioFailure('\n'.join(text for _, text in problems))
        if result.skipped:
            pytest.skip(result.skipped[0][1])

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ScenarioFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f'scenario: {self.name}'


class ScenarioFailure(Exception):
    pass


# The module cases that run on PostgreSQL too: the code whose behaviour
# depends on the backend.  The others run on SQLite only, as Tryton's own
# modules' cases do; tests/ holds the PostgreSQL tests of the whole stack.
POSTGRESQL_ALSO = {
    # The stock counters work on their own connection on PostgreSQL
    ('omni_inventory_bridge', 'test_module.py', None),
    # The two-phase checkout's queue and its locks
    ('omni_miniprogram', 'test_intake.py', None),
    # The reports' SQL
    ('omni_insights', 'test_module.py', None),
    ('omni_insights', 'test_dashboard.py', None),
    ('omni_insights', 'test_scenario.py', 'scenario_reports_rst'),
    }


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL, leave out the module cases but POSTGRESQL_ALSO, and
    the generic checks that every ModuleTestCase inherits from Tryton:
    they read the model and view definitions, which do not depend on the
    backend, and run on SQLite"""
    if not os.environ.get(
            'TRYTOND_DATABASE_URI', '').startswith('postgresql'):
        return
    kept, left_out = [], []
    for item in items:
        (kept if runs_on_postgresql(item) else left_out).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def runs_on_postgresql(item):
    from trytond.tests.test_tryton import ModuleTestCase
    path = Path(item.path)
    if path.parent.name == 'tests' and path.parent.parent.parent.name == (
            'addons'):
        module = path.parent.parent.name
        if not ({(module, path.name, None), (module, path.name, item.name)}
                & POSTGRESQL_ALSO):
            return False
    cls = getattr(item, 'cls', None)
    return not (cls is not None and issubclass(cls, ModuleTestCase)
        and getattr(cls, item.name, None)
        is getattr(ModuleTestCase, item.name, object()))
