"""Append zh_CN translations to a module's locale/zh_CN.po.

usage: add_translations.py MODULE < entries
Each input line is: msgctxt TAB msgid TAB msgstr.  Entries already in the
file are left as they are.
"""
import sys
from pathlib import Path

import polib

ADDONS = Path(__file__).resolve().parent.parent / 'addons'


def main(module):
    path = ADDONS / module / 'locale' / 'zh_CN.po'
    po = polib.pofile(str(path), wrapwidth=0)
    known = {(e.msgctxt, e.msgid) for e in po}
    for line in sys.stdin:
        if not line.strip():
            continue
        msgctxt, msgid, msgstr = line.rstrip('\n').split('\t')
        if (msgctxt, msgid) not in known:
            po.append(polib.POEntry(
                    msgctxt=msgctxt, msgid=msgid, msgstr=msgstr))
    po.save(str(path))


if __name__ == '__main__':
    main(sys.argv[1])
