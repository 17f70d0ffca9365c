# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Concurrent redemptions of the same member's points on PostgreSQL never
take the balance below zero.

A member holds 1,000 points.  Threads, half the store's POS and half the
mall, each redeem the same points at the same instant, each in its own
transaction: the till and the mall once (2 threads of 600 points, 20
times), then a burst (16 threads of 300 points).  Like Tryton's dispatcher
and routes, a transaction that fails with a serialization error is run
again; any other database error fails the test.  Exactly as many
redemptions succeed as the balance allows, the others are refused with the
balance they saw, and the ledger's allocations still add up to the
balance.  The till and the mall at once need at most one retry, and no
buyer of the burst needs more than the dispatcher's default of 5.
"""
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

from trytond.modules.omni_inventory_bridge.tests.tools import run_retrying
from trytond.modules.omni_member_hub.exceptions import PointsError

pytestmark = pytest.mark.skipif(
    not os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="concurrent transactions need PostgreSQL (TRYTOND_DATABASE_URI)")

BALANCE = 1000
RETRY = 5  # Tryton's default [database] retry
CASES = [
    pytest.param(2, 600, 20, id='pos-and-mall'),
    pytest.param(16, 300, 3, id='burst'),
    ]


@pytest.fixture(scope='module')
def member():
    "Return the id of a member"
    activate_module('omni_insights')
    # Registration locks the party table
    with Transaction().start(DB_NAME, 0, _lock_tables=['party_party']):
        Party = Pool().get('party.party')
        member_id = Party.register_member('13800138000', "张伟").id
    yield member_id
    drop_db()


def top_up(member_id):
    "Bring the member's balance to BALANCE"
    def adjust():
        pool = Pool()
        Entry = pool.get('member.points.entry')
        Party = pool.get('party.party')
        member = Party(member_id)
        missing = BALANCE - Entry.balance(member)
        if missing:
            Entry.adjust(member, missing, "top up")
    run_retrying(adjust)


def redeem(member_id, points, channel):
    "Redeem points; return the balance seen when refused or None"
    def spend():
        pool = Pool()
        Entry = pool.get('member.points.entry')
        Party = pool.get('party.party')
        try:
            Entry.redeem(Party(member_id), points, channel)
        except PointsError:
            return Entry.balance(Party(member_id))
    return run_retrying(spend)


def ledger(member_id):
    "Return the balance and the sum of what remains of the awards"
    def read():
        pool = Pool()
        Entry = pool.get('member.points.entry')
        Party = pool.get('party.party')
        awards = Entry.search([
                ('member', '=', member_id),
                ('type', 'in', ['earn', 'adjust']),
                ('points', '>', 0),
                ])
        return (Entry.balance(Party(member_id)),
            sum(a.remaining for a in awards))
    return run_retrying(read)[0]


@pytest.mark.parametrize('threads, points, rounds', CASES)
def test_concurrent_redemptions(member, threads, points, rounds):
    most_retries = 0
    for round_ in range(rounds):
        top_up(member)
        start = threading.Barrier(threads)

        def worker(index, start=start):
            start.wait(timeout=60)
            return redeem(member, points, 'pos' if index % 2 else 'mall')

        began = time.monotonic()
        with ThreadPoolExecutor(threads) as executor:
            results = list(executor.map(worker, range(threads)))
        elapsed = time.monotonic() - began

        redeemed = [r for r in results if r[0] is None]
        refused = [balance for balance, _ in results if balance is not None]
        retries = [retry for _, retry in results]
        most_retries = max(most_retries, *retries)
        balance, remaining = ledger(member)
        print(f"{threads} threads, round {round_}: {len(redeemed)} "
            f"redeemed, {len(refused)} refused, {sum(retries)} retries "
            f"(at most {max(retries)} for one), {elapsed:.2f}s")

        assert len(redeemed) == BALANCE // points
        assert balance == BALANCE - len(redeemed) * points >= 0
        assert all(b < points for b in refused)
        assert remaining == balance
    assert most_retries <= (1 if threads == 2 else RETRY)
