#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Re-encrypt the stored secrets with the newest key of [omni] secret_key.

Run it after a new key was put first in the list, before the old ones are
dropped from it.  Values still in plain text are encrypted too.

usage: tools/rotate_secrets.py -c trytond.conf -d DATABASE
"""
import argparse


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('-c', '--config', help="the trytond.conf")
    parser.add_argument('-d', '--database', required=True)
    args = parser.parse_args()
    from trytond import config
    if args.config:
        config.update_etc(args.config)
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool.start()
    Pool(args.database).init()
    from trytond.modules.omni_member_hub.secret import rotate_all
    with Transaction().start(args.database, 0) as transaction:
        for model, written in sorted(rotate_all().items()):
            print(f"{model}: {written} re-encrypted")
        transaction.commit()


if __name__ == '__main__':
    main()
