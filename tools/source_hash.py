#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"Print a hash of everything that shapes a database: module sources and pins"
import hashlib
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
SUFFIXES = {'.py', '.xml', '.cfg', '.po', '.toml', '.txt'}


def source_hash():
    digest = hashlib.sha256()
    paths = [ROOT / 'requirements.txt'] + sorted(
        p for p in (ROOT / 'addons').rglob('*')
        if p.suffix in SUFFIXES and 'tests' not in p.parts
        and '__pycache__' not in p.parts and '.egg-info' not in str(p))
    for path in paths:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


if __name__ == '__main__':
    print(source_hash())
