# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The queue worker of tools/serve_production.sh takes tasks again after
PostgreSQL restarts: tools/queue_worker.py exits on its lost connection and
the supervisor starts it again (trytond-worker stays alive and idle)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from test_faults import cluster, copy_database, restart_postgresql  # noqa: F401
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db

URI = os.environ.get('TRYTOND_DATABASE_URI', '')
pytestmark = pytest.mark.skipif(
    not URI.startswith('postgresql'),
    reason="the queue worker runs on PostgreSQL (TRYTOND_DATABASE_URI)")

ROOT = Path(__file__).resolve().parent.parent
DATABASE = 'omni_worker'
LOST = 3


def queue(uri, signature):
    "Queue a task that writes the admin's signature; return its id"
    data = {'model': 'res.user', 'method': 'write', 'user': 0,
        'context': {}, 'instances': [1], 'args': [{'signature': signature}],
        'kwargs': {}}
    with psycopg.connect(uri + DATABASE, autocommit=True) as conn:
        task_id, = conn.execute('INSERT INTO ir_queue '
            '(name, data, enqueued_at, create_uid, create_date) '
            "VALUES ('default', %s, now(), 0, now()) RETURNING id",
            (json.dumps(data),)).fetchone()
        conn.execute('NOTIFY "ir.queue"')
    return task_id


def wait_done(uri, task_id, log, timeout=30):
    "Wait for the task to finish and return the admin's signature"
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            with psycopg.connect(uri + DATABASE) as conn:
                finished, = conn.execute(
                    'SELECT finished_at FROM ir_queue WHERE id = %s',
                    (task_id,)).fetchone()
                if finished:
                    return conn.execute('SELECT signature FROM res_user '
                        'WHERE id = 1').fetchone()[0]
        except psycopg.OperationalError:
            pass
        time.sleep(0.2)
    raise AssertionError(
        "task %s not run:\n%s" % (task_id, log.read_text()[-3000:]))


def test_worker_after_restart(cluster):  # noqa: F811
    "A task queued after PostgreSQL restarted is run"
    pg_dir, uri = cluster
    log = pg_dir.parent / 'supervise.log'
    process = None
    try:
        activate_module('res')
        try:
            copy_database(URI, DB_NAME, uri, DATABASE)
        finally:
            drop_db()
        env = dict(os.environ, TRYTOND_DATABASE_URI=uri,
            TRYTOND_QUEUE__WORKER='True')
        env.pop('TRYTOND_CONFIG', None)
        process = subprocess.Popen([sys.executable,
                str(ROOT / 'tools' / 'supervise.py'), 'worker',
                sys.executable, str(ROOT / 'tools' / 'queue_worker.py'),
                '-d', DATABASE, '-n', '1'],
            env=env, stdout=log.open('w'), stderr=subprocess.STDOUT,
            start_new_session=True)
        assert wait_done(uri, queue(uri, 'before'), log) == 'before'

        restart_postgresql(pg_dir)
        restarted = time.monotonic()
        assert wait_done(uri, queue(uri, 'after'), log) == 'after'
        print("task queued after the restart run in %.1f s" % (
                time.monotonic() - restarted))
        # The worker left on its lost connection and was started again
        output = log.read_text()
        assert 'exited with code %s' % LOST in output, output[-3000:]
        assert output.count('supervisor worker started') == 2, output[-3000:]
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
