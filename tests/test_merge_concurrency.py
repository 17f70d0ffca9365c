# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A member merge that runs while both members earn and redeem points on
PostgreSQL loses nothing.

Each round registers a store member (1,000 points) and a mall member (500
points) and then, at the same instant and each in its own transaction:
two clerks merge the mall member into the store member, the till redeems
300 of the store member's points, the mall redeems 300 of the mall
member's points and the mall awards the mall member the points of a ¥100
order.  A transaction that fails with a serialization error is run again,
as Tryton's dispatcher does.  Afterwards the survivor holds every entry and
exactly the sum of the balances plus what was earned less what was
redeemed, the merged member holds nothing, and there is one audit record.
"""
import os
import threading
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

ROUNDS = 5
STORE_POINTS, MALL_POINTS, REDEEM, EARN = 1000, 500, 300, 100


@pytest.fixture(scope='module')
def database():
    activate_module('omni_insights')
    with Transaction().start(DB_NAME, 0):
        Rule = Pool().get('member.points.rule')
        Rule.create([{'channel': 'mall', 'points_per_yuan': 1}])
    yield
    drop_db()


def run(func, **extras):
    "Return the result of func run as the dispatcher does"
    return run_retrying(func, **extras)[0]


def register(round_):
    "Return the ids of a new store member and a new mall member"
    def create():
        pool = Pool()
        Entry = pool.get('member.points.entry')
        Party = pool.get('party.party')
        store = Party.register_member('1380013%04d' % round_, "张伟", 'pos')
        mall = Party.register_member('1390013%04d' % round_, "张伟", 'mall')
        Entry.adjust(store, STORE_POINTS, "opening")
        Entry.adjust(mall, MALL_POINTS, "opening")
        return store.id, mall.id
    return run(create, _lock_tables=['party_party'])


def merge(source_id, survivor_id):
    def merge():
        Party = Pool().get('party.party')
        Party.merge_members(Party(source_id), Party(survivor_id))
    run(merge)


def redeem(member_id, channel):
    "Return True when the points were redeemed"
    def spend():
        pool = Pool()
        Entry = pool.get('member.points.entry')
        Party = pool.get('party.party')
        try:
            Entry.redeem(Party(member_id), REDEEM, channel)
        except PointsError:
            return False
        return True
    return run(spend)


def earn(member_id):
    def award():
        pool = Pool()
        Entry = pool.get('member.points.entry')
        Party = pool.get('party.party')
        Entry.earn(Party(member_id), EARN, 'mall', origin=None)
    run(award)


def state(store_id, mall_id):
    def read():
        pool = Pool()
        Entry = pool.get('member.points.entry')
        Merge = pool.get('member.merge')
        Party = pool.get('party.party')
        survivor = Party(store_id)
        awards = Entry.search([
                ('member', '=', store_id),
                ('type', 'in', ['earn', 'adjust']),
                ('points', '>', 0),
                ])
        return {
            'balance': Entry.balance(survivor),
            'remaining': sum(a.remaining for a in awards),
            'entries': Entry.search_count([('member', '=', store_id)]),
            'left': Entry.search_count([('member', '=', mall_id)]),
            'audits': Merge.search_count([('source', '=', mall_id)]),
            }
    return run(read)


def test_merge_during_points_activity(database):
    for round_ in range(ROUNDS):
        store_id, mall_id = register(round_)
        jobs = [
            (merge, mall_id, store_id),
            (merge, mall_id, store_id),
            (redeem, store_id, 'pos'),
            (redeem, mall_id, 'mall'),
            (earn, mall_id),
            ]
        start = threading.Barrier(len(jobs))

        def worker(job, start=start):
            start.wait(timeout=60)
            func, *args = job
            return func(*args)

        with ThreadPoolExecutor(len(jobs)) as executor:
            _, _, till, mall, _ = executor.map(worker, jobs)
        after = state(store_id, mall_id)
        print(f"round {round_}: till redeemed {till}, mall redeemed {mall}, "
            f"{after}")

        # Both members had the points, so both redemptions go through
        assert till and mall
        assert after['balance'] == (
            STORE_POINTS + MALL_POINTS + EARN - 2 * REDEEM)
        assert after['remaining'] == after['balance']
        # 2 openings, 2 redemptions and 1 award
        assert after['entries'] == 5
        assert after['left'] == 0
        assert after['audits'] == 1
