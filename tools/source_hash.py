#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Print a hash of everything that shapes a database: the module sources and
the installed Tryton packages."""
import hashlib
import importlib.metadata
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
SUFFIXES = {'.py', '.xml', '.cfg', '.po', '.toml'}


def source_hash():
    digest = hashlib.sha256()
    for path in sorted(
            p for p in (ROOT / 'addons').rglob('*')
            if p.suffix in SUFFIXES and 'tests' not in p.parts
            and '__pycache__' not in p.parts):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    for dist in sorted(
            f'{d.name}=={d.version}'
            for d in importlib.metadata.distributions()
            if d.name.lower().startswith(('trytond', 'proteus'))):
        digest.update(dist.encode())
    return digest.hexdigest()[:16]


if __name__ == '__main__':
    print(source_hash())
