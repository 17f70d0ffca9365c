#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Compare a database's stock counters with its done moves and open
reservations (stock.availability reconcile); print each drift as a line of
JSON and exit with 1 when there is one.  --fix corrects them, as the cron
*Repair the Stock Counters* does.

Usage: TRYTOND_DATABASE_URI=postgresql://... tools/reconcile_stock.py
    -d DATABASE [--fix]"""
import argparse
import json
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('-d', '--database', required=True)
    parser.add_argument('--fix', action='store_true')
    args = parser.parse_args()
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool.start()
    pool = Pool(args.database)
    with Transaction().start(args.database, 0, readonly=True):
        pool.init()
    with Transaction().start(args.database, 0):
        drifts = pool.get('stock.availability').reconcile(fix=args.fix)
    for drift in drifts:
        print(json.dumps(drift))
    return 1 if drifts else 0


if __name__ == '__main__':
    sys.exit(main())
