"""Append zh_CN translations to a module's locale/zh_CN.po.

usage: add_translations.py [--override] MODULE < entries
Each input line is: msgctxt TAB msgid TAB msgstr.  Entries already in the
file are left as they are.

With --override the entries go to locale/override/zh_CN.po: they translate
the strings of another module, which the msgctxt names as
TYPE:NAME:MODULE.XML_ID (TYPE:NAME:MODULE. without an XML id), as
trytond's translation_import reads it.  That module must be in MODULE's
depends.
"""
import sys
from pathlib import Path

import polib

ADDONS = Path(__file__).resolve().parent.parent / 'addons'


def main(module, override=False):
    locale = ADDONS / module / 'locale'
    path = locale / 'override' / 'zh_CN.po' if override else (
        locale / 'zh_CN.po')
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        po = polib.POFile(wrapwidth=0)
        po.metadata = {'Content-Type': 'text/plain; charset=utf-8'}
    else:
        po = polib.pofile(str(path), wrapwidth=0)
    known = {(e.msgctxt, e.msgid) for e in po}
    for line in sys.stdin:
        if not line.strip():
            continue
        msgctxt, msgid, msgstr = line.rstrip('\n').split('\t')
        if (msgctxt, msgid) not in known:
            known.add((msgctxt, msgid))
            po.append(polib.POEntry(
                    msgctxt=msgctxt, msgid=msgid, msgstr=msgstr))
    if override:
        po.sort(key=lambda e: (e.msgctxt, e.msgid))
    po.save(str(path))


if __name__ == '__main__':
    arguments = sys.argv[1:]
    override = '--override' in arguments
    if override:
        arguments.remove('--override')
    main(arguments[0], override)
