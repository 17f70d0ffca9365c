# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The mall's rate limits hold across web workers on PostgreSQL: trytond
served by gunicorn with 2 worker processes gets bursts of sign-ins, of one
member and of many members behind one client address, and exactly the
limit gets through; the others get 429 with Retry-After."""
import datetime
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db

from trytond.modules.omni_inventory_bridge.tests.tools import (
    create_tea_company,
    run,
)
from trytond.modules.omni_miniprogram.tests.fake_wechat import FakeWeChat

pytestmark = pytest.mark.skipif(
    not os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="web workers sharing a database need PostgreSQL "
    "(TRYTOND_DATABASE_URI)")

BIN = Path(sys.executable).parent
WORKERS = 2
BURST = 30
MEMBER_LIMIT = 7
ADDRESS_LIMIT = 9
# Long enough that a burst never straddles two windows
WINDOW = 600


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='module')
def mall():
    "Return the shop id and the session tokens of BURST members"
    activate_module('omni_insights')
    context = create_tea_company()

    def create():
        pool = Pool()
        Party = pool.get('party.party')
        Session = pool.get('web.shop.mp_session')
        Shop = pool.get('web.shop')
        shop = Shop(
            name="Tea Mall",
            mp_rate_window=datetime.timedelta(seconds=WINDOW),
            mp_bonus_rate_member=MEMBER_LIMIT, mp_bonus_rate_address=None,
            **FakeWeChat().shop_values())
        shop.save()
        tokens = []
        for i in range(BURST):
            member = Party.register_member(
                '1390000%04d' % i, "Buyer %s" % i, 'mall')
            tokens.append(
                Session.open(shop, 'o-burst-%s' % i, member=member)[1])
        return shop.id, tokens
    shop, tokens = run(context, create)
    yield shop, tokens
    drop_db()


@pytest.fixture(scope='module')
def server(mall):
    "Serve trytond with gunicorn's 2 workers; return its URL and access log"
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix='omni-gunicorn-')) / 'access.log'
    env = dict(os.environ,
        TRYTOND_DATABASE_NAMES=DB_NAME,
        TRYTOND_DATABASE__MAXCONN='16')
    process = subprocess.Popen([
            str(BIN / 'gunicorn'), '--bind', '127.0.0.1:%s' % port,
            # Sync workers serve one request at a time: a burst keeps
            # both busy
            '--workers', str(WORKERS), '--worker-class', 'sync',
            '--timeout', '300',
            '--log-level', 'warning',
            '--access-logfile', str(log),
            '--access-logformat', '%(p)s %(m)s %(U)s %(s)s',
            'trytond.application:app'], env=env)
    url = 'http://127.0.0.1:%s' % port
    deadline = time.monotonic() + 300
    try:
        while True:
            assert process.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not answer"
            try:
                if requests.get('%s/%s/omni/ops/v1/health' % (url, DB_NAME),
                        timeout=60).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        yield url, log
    finally:
        process.terminate()
        process.wait(30)


def set_limits(shop_id, **values):
    def write():
        Shop = Pool().get('web.shop')
        Shop.write([Shop(shop_id)], values)
    run({}, write)


def burst(url, tokens):
    """Sign in with each token at once, each on a new connection; return
    the responses"""
    start = threading.Barrier(len(tokens))

    def sign_in(token):
        start.wait(timeout=60)
        return requests.post(
            '%s/%s/omni/mp/v1/me/sign-in' % (url, DB_NAME),
            headers={
                'Authorization': 'Bearer ' + token,
                'Connection': 'close',
                },
            timeout=300)
    # Not at the end of a window
    if time.time() % WINDOW > WINDOW - 60:
        time.sleep(WINDOW - time.time() % WINDOW + 1)
    with ThreadPoolExecutor(len(tokens)) as executor:
        return list(executor.map(sign_in, tokens))


def check_refusals(responses):
    for response in responses:
        if response.status_code == 429:
            body = response.json()
            assert body['code'] == 'rate_limited'
            retry_after = int(response.headers['Retry-After'])
            assert 1 <= retry_after <= WINDOW
            assert body['details']['retry_after'] == retry_after


def worker_pids(log, count):
    "The processes that served the last count sign-ins of the access log"
    lines = [line.split() for line in log.read_text().splitlines()
        if '/me/sign-in' in line]
    return {line[0] for line in lines[-count:]}


def test_member_burst(mall, server):
    "30 sign-ins of one member at once: exactly the limit of 7 pass"
    shop, tokens = mall
    url, log = server
    responses = burst(url, [tokens[0]] * BURST)
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: MEMBER_LIMIT, 429: BURST - MEMBER_LIMIT}, (
        statuses)
    check_refusals(responses)
    assert len(worker_pids(log, BURST)) == WORKERS


def test_address_burst(mall, server):
    """30 members behind one address sign in at once: exactly the
    address's limit of 9 pass"""
    shop, tokens = mall
    url, log = server
    set_limits(shop, mp_bonus_rate_address=ADDRESS_LIMIT)
    responses = burst(url, tokens[1:])
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {
        200: ADDRESS_LIMIT, 429: BURST - 1 - ADDRESS_LIMIT}, statuses
    check_refusals(responses)
    assert len(worker_pids(log, BURST - 1)) == WORKERS

    def counters():
        RateCounter = Pool().get('web.shop.mp_rate_counter')
        return {c.key: c.count for c in RateCounter.search([
                    ('scope', '=', 'bonus')])}
    counts = run({}, counters)
    assert counts['ip:127.0.0.1'] == BURST - 1
    assert counts['member:%s' % mall_member(tokens[0])] == BURST


def mall_member(token):
    "The member id of the session token"
    def read():
        Session = Pool().get('web.shop.mp_session')
        return Session.authenticate('Bearer ' + token).member.id
    return run({}, read)
