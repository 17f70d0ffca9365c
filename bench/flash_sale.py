#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Flash sale: many buyers reserve one hot product on PostgreSQL.

The anchor is raw psycopg doing the atomic conditional UPDATE that DESIGN.md
recommends; then the same load goes through Reservation.hold, each attempt
in its own Tryton transaction. Both runs print the sell-out rate (units
reserved per second until none is left), the latency of successful buyers,
oversell and errors, and the ratio of the rates.

Usage: bench/flash_sale.py postgresql://user@host:port/ [--threads 32]
    [--attempts 5000] [--units 1000]
"""
import argparse
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('uri', help="PostgreSQL server URI")
    parser.add_argument('--threads', type=int, default=32)
    parser.add_argument('--attempts', type=int, default=5000)
    parser.add_argument('--units', type=int, default=1000)
    parser.add_argument('--database', default='bench_flash_sale')
    return parser.parse_args()


class Run:
    "The outcome of one load"

    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()
        self.latencies = []
        self.refused = 0
        self.errors = []
        self.began = self.sold_out = None

    def attempt(self, func):
        start = time.monotonic()
        try:
            sold = func()
        except Exception as exception:
            with self.lock:
                self.errors.append(repr(exception))
            return
        end = time.monotonic()
        with self.lock:
            if sold:
                self.latencies.append(end - start)
                self.sold_out = max(self.sold_out or end, end)
            else:
                self.refused += 1

    def load(self, func, threads, attempts):
        self.began = time.monotonic()
        with ThreadPoolExecutor(threads) as executor:
            for _ in executor.map(
                    lambda _: self.attempt(func), range(attempts)):
                pass

    @property
    def rate(self):
        if not self.latencies:
            return 0
        return len(self.latencies) / (self.sold_out - self.began)

    def report(self, units, reserved):
        latencies = sorted(self.latencies)
        p50 = statistics.median(latencies) if latencies else 0
        p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else 0
        print(f"{self.name}: {len(latencies)} sold of {units} units, "
            f"{self.rate:.0f}/s sell-out rate, "
            f"p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
            f"{self.refused} refused, oversell {max(reserved - units, 0)}, "
            f"{len(self.errors)} errors")
        for error in sorted(set(self.errors))[:5]:
            print(f"    {error}")


def raw_anchor(uri, args):
    "Reserve with one conditional UPDATE per attempt on plain psycopg"
    import psycopg
    conninfo = uri.rstrip('/') + '/' + args.database
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute('DROP TABLE IF EXISTS bench_stock')
        connection.execute(
            'CREATE TABLE bench_stock (id integer PRIMARY KEY, '
            'on_hand integer NOT NULL, reserved integer NOT NULL)')
        connection.execute(
            'INSERT INTO bench_stock VALUES (1, %s, 0)', (args.units,))
    local = threading.local()

    def reserve():
        if not hasattr(local, 'connection'):
            local.connection = psycopg.connect(conninfo)
        connection = local.connection
        with connection.transaction():
            row = connection.execute(
                'UPDATE bench_stock SET reserved = reserved + 1 '
                'WHERE id = 1 AND on_hand - reserved >= 1 '
                'RETURNING on_hand - reserved').fetchone()
        return row is not None

    run = Run("raw psycopg")
    run.load(reserve, args.threads, args.attempts)
    with psycopg.connect(conninfo) as connection:
        reserved, = connection.execute(
            'SELECT reserved FROM bench_stock').fetchone()
        connection.execute('DROP TABLE bench_stock')
    run.report(args.units, reserved)
    return run


def tryton_setup(args):
    "Activate the module and put the units on a storage location"
    from trytond.tests.test_tryton import activate_module

    from trytond.modules.omni_inventory_bridge.tests.tools import (
        create_stock,
        create_tea_company,
    )
    activate_module('omni_inventory_bridge')
    context = create_tea_company()
    product, locations = create_stock(
        context, "老班章", {"Flash Sale": args.units})
    location, = locations
    return context, product, location


def tryton_path(args, context, product, location):
    "Reserve through Reservation.hold, one Tryton transaction per attempt"
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME
    from trytond.transaction import Transaction

    from trytond.modules.omni_inventory_bridge.exceptions import (
        ReservationError,
    )

    def reserve():
        with Transaction().start(DB_NAME, 0, context=context):
            Reservation = Pool().get('stock.reservation')
            try:
                Reservation.hold([{
                            'product': product, 'location': location,
                            'quantity': 1, 'channel': 'mall_delivery'}])
            except ReservationError:
                return False
            return True

    run = Run("Reservation.hold")
    run.load(reserve, args.threads, args.attempts)
    with Transaction().start(DB_NAME, 0, context=context):
        Availability = Pool().get('stock.availability')
        (_, reserved, _), = Availability.get(
            [product], [location]).values()
        drifts = Availability.reconcile()
    run.report(args.units, reserved)
    print(f"    reconcile: {len(drifts)} drifts")
    return run


def main():
    args = parse_args()
    uri = args.uri if args.uri.endswith('/') else args.uri + '/'
    os.environ['TRYTOND_DATABASE_URI'] = uri
    os.environ['DB_NAME'] = args.database
    # Each thread holds a transaction and the counter connection
    os.environ['TRYTOND_DATABASE__MAXCONN'] = str(2 * args.threads + 8)
    os.environ.pop('TRYTOND_CONFIG', None)
    from trytond.tests.test_tryton import drop_db

    setup = tryton_setup(args)
    print(f"{args.threads} threads, {args.attempts} attempts of 1 unit, "
        f"{args.units} units, {os.cpu_count()} CPUs")
    try:
        anchor = raw_anchor(uri, args)
        ours = tryton_path(args, *setup)
    finally:
        drop_db()
    print(f"ratio (Reservation.hold / raw psycopg): "
        f"{ours.rate / anchor.rate:.2f}")
    return 0 if not (ours.errors or anchor.errors) else 1


if __name__ == '__main__':
    sys.exit(main())
