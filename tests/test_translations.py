# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Every user-facing string of the omni modules has a Chinese translation."""
import pathlib

import polib
import pytest
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)

ADDONS = pathlib.Path(__file__).resolve().parent.parent / 'addons'
MODULES = sorted(p.parent.name for p in ADDONS.glob('*/tryton.cfg'))


def setup_module():
    activate_module('omni_insights')


def teardown_module():
    drop_db()


def entries(pofile):
    return {(e.msgctxt, e.msgid): e.msgstr for e in pofile if not e.obsolete}


@pytest.mark.parametrize('module', MODULES)
@with_transaction()
def test_zh_cn_complete(module):
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
