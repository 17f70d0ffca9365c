#!/usr/bin/env bash
# Print the strings of MODULE that lack zh_CN, as the TSV lines that
# tools/add_translations.py reads with an empty translation column.
# usage: tools/missing_translations.sh MODULE   (needs TRYTOND_DATABASE_URI
# and DB_CACHE set as for pytest)
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pytest -n0 -p no:cacheprovider -q tests/test_translations.py \
    -k "complete and $1" 2>&1 \
    | sed -n 's/^E  *AssertionError: [a-z0-9_]* lacks zh_CN for //p' \
    | head -1 \
    | .venv/bin/python -c '
import ast, sys
text = sys.stdin.read().strip()
for msgctxt, msgid in (ast.literal_eval(text) if text else []):
    print(msgctxt, msgid, "", sep="\t")'
