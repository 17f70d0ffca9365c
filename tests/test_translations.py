# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Every user-facing string of the omni modules has a Chinese translation,
and the translations they give of upstream modules' strings (in
locale/override/zh_CN.po) name strings those modules have."""
import os
import pathlib
import re

import polib
import pytest
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)

from trytond.modules import get_module_info

ADDONS = pathlib.Path(__file__).resolve().parent.parent / 'addons'
MODULES = sorted(p.parent.name for p in ADDONS.glob('*/tryton.cfg'))
# Translations are definitions, the same on every backend
pytestmark = pytest.mark.skipif(
    os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="translations do not depend on the backend")


def teardown_module():
    drop_db()


def entries(pofile):
    return {(e.msgctxt, e.msgid): e.msgstr for e in pofile if not e.obsolete}


@pytest.mark.parametrize('module', MODULES)
def test_zh_cn_complete(module):
    # The cached databases: the stack, and the till beside it
    drop_db()
    activate_module('omni_till' if module == 'omni_till' else 'omni_insights')
    check_complete(module)


@with_transaction()
def check_complete(module):
    pool = Pool()
    Translation = pool.get('ir.translation')
    TranslationSet = pool.get('ir.translation.set', type='wizard')
    session_id, _, _ = TranslationSet.create()
    TranslationSet.execute(session_id, {}, 'set_')
    TranslationSet.delete(session_id)

    source = Translation.translation_export('en', module)
    strings = entries(polib.pofile(source.decode())) if source else {}
    shipped = entries(polib.pofile(
            str(ADDONS / module / 'locale' / 'zh_CN.po')))
    missing = [key for key in strings if not shipped.get(key)]
    assert not missing, f"{module} lacks zh_CN for {missing}"
    stale = sorted(set(shipped) - set(strings))
    assert not stale, f"{module} translates strings it no longer has {stale}"


def override_entries(module):
    path = ADDONS / module / 'locale' / 'override' / 'zh_CN.po'
    return [e for e in polib.pofile(str(path)) if not e.obsolete] if (
        path.exists()) else []


@pytest.mark.parametrize('module', MODULES)
def test_zh_cn_overrides(module):
    """Each override is Chinese and translates a string that a module in the
    module's depends has in its own zh_CN.po (trytond's import fails on a
    string the other module does not have in that language)"""
    depends = get_module_info(module)['depends']
    upstream = {}
    problems = []
    for entry in override_entries(module):
        match = re.fullmatch(
            r'([a-z_]+):([^:]+):([a-z0-9_]+)\.([a-z0-9_]*)', entry.msgctxt)
        if not match:
            problems.append(f"{entry.msgctxt}: not TYPE:NAME:MODULE.XML_ID")
            continue
        type_, name, other, fs_id = match.groups()
        if other not in depends:
            problems.append(f"{entry.msgctxt}: {other} is not in depends")
            continue
        if other not in upstream:
            path = pathlib.Path(get_module_info(other)['directory'])
            upstream[other] = entries(
                polib.pofile(str(path / 'locale' / 'zh_CN.po')))
        if (f'{type_}:{name}:{fs_id}', entry.msgid) not in upstream[other]:
            problems.append(
                f"{entry.msgctxt} {entry.msgid!r}: {other} has no such string")
        if not entry.msgstr or re.search('[A-Za-z]', entry.msgstr):
            problems.append(
                f"{entry.msgctxt} {entry.msgid!r}: not Chinese: "
                f"{entry.msgstr!r}")
    assert not problems, '\n'.join(problems)
