#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Back up a database with pg_dump while it serves, restore the backup
into a new database and check that its stock counters reconcile there.

The dump's snapshot is taken once no transaction has stock changes in
flight (the lock that Availability.reconcile takes), and the lock is held
until pg_dump has the snapshot, so the counters in the backup agree with
its moves and reservations; writers of moves and reservations wait
meanwhile.

Usage: TRYTOND_DATABASE_URI=postgresql://user@host:port/
    tools/backup_drill.py DATABASE [--target NEW] [--backup FILE]
It prints the backup's file, the new database and the seconds of each
step, and exits with 1 if the restored database does not reconcile."""
import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
# The advisory lock class of the stock counters (reservation.py)
COUNTER_LOCK = 7301


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('database')
    parser.add_argument('--target',
        help="the database to restore into (DATABASE_restore_TIMESTAMP)")
    parser.add_argument('--backup', help="the backup's file")
    return parser.parse_args()


def lock_stock(connection, attempts=100):
    """Lock the moves and reservations in SHARE mode, then the counters;
    the tables are locked one after the other, so a writer of both may
    hold one and wait for the other: give way to it and try again"""
    for attempt in range(attempts):
        try:
            # Rolled back with the transaction that it is set in
            connection.execute("SET lock_timeout = '500ms'")
            connection.execute(
                'LOCK TABLE stock_move, stock_reservation IN SHARE MODE')
            connection.execute(
                'SELECT pg_advisory_xact_lock(%s, 0)', (COUNTER_LOCK,))
        except (psycopg.errors.LockNotAvailable,
                psycopg.errors.DeadlockDetected):
            connection.rollback()
            time.sleep(0.1 * (attempt % 5 + 1))
        else:
            return attempt
    raise SystemExit("the stock tables stayed locked by their writers")


def dump(uri, database, path):
    "Write the backup of database to path; return the seconds it held"
    with psycopg.connect(uri + database) as connection:
        lock_stock(connection)
        snapshot, = connection.execute(
            'SELECT pg_export_snapshot()').fetchone()
        started = time.monotonic()
        process = subprocess.Popen([
                'pg_dump', '--format=custom', '--snapshot', snapshot,
                '--file', str(path), '--dbname', uri + database])
        # pg_dump imports the snapshot first: the transaction that
        # exported it ends once pg_dump's own is under way
        while process.poll() is None and not connection.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid != "
                "pg_backend_pid() AND datname = %s "
                "AND application_name = 'pg_dump' "
                "AND backend_xmin IS NOT NULL "
                "AND query NOT ILIKE '%%SNAPSHOT%%'",
                (database,)).fetchone():
            time.sleep(0.01)
        held = time.monotonic() - started
        connection.commit()
        if process.wait() != 0:
            raise SystemExit("pg_dump failed")
    return held


def restore(uri, path, target):
    with psycopg.connect(uri + 'postgres', autocommit=True) as connection:
        connection.execute('CREATE DATABASE "%s"' % target)
    subprocess.run(['pg_restore', '--no-owner', '--exit-on-error',
            '--dbname', uri + target, str(path)], check=True)


def main():
    args = parse_args()
    uri = os.environ.get('TRYTOND_DATABASE_URI', '')
    if not uri.startswith('postgresql'):
        raise SystemExit("TRYTOND_DATABASE_URI must name a PostgreSQL server")
    uri = uri if uri.endswith('/') else uri + '/'
    stamp = datetime.datetime.now().strftime('%Y%m%dT%H%M%S')
    target = args.target or '%s_restore_%s' % (args.database, stamp)
    path = Path(args.backup or Path(tempfile.gettempdir()) / (
            '%s-%s.dump' % (args.database, stamp)))
    started = time.monotonic()
    held = dump(uri, args.database, path)
    dumped = time.monotonic()
    print(f"backup {path} ({path.stat().st_size} bytes) in "
        f"{dumped - started:.1f} s, stock writers held {held:.2f} s",
        flush=True)
    restore(uri, path, target)
    restored = time.monotonic()
    print(f"restored into {target} in {restored - dumped:.1f} s", flush=True)
    result = subprocess.run([sys.executable,
            str(ROOT / 'tools' / 'reconcile_stock.py'), '-d', target])
    print(f"reconcile of {target}: "
        + ("clean" if result.returncode == 0 else "drifts above"), flush=True)
    return result.returncode


if __name__ == '__main__':
    sys.exit(main())
