# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The till and the back office attacked as an insider would: raw JSON-RPC
over HTTP as a clerk, a store manager or a sales user, skipping the screens,
on the tea-house demo.  Each attack is refused and changes nothing."""
import base64
import importlib.util
import os
from pathlib import Path

import pytest
from proteus import Model
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, drop_db
from trytond.tests.tools import activate_modules
from trytond.transaction import Transaction
from trytond.wsgi import app
from werkzeug.test import Client

from trytond.modules.omni_member_hub.tests.tools import member_code

DEMO = Path(__file__).resolve().parent.parent / 'demo' / 'tea_house.py'
_spec = importlib.util.spec_from_file_location('tea_house', DEMO)
tea_house = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tea_house)
PASSWORDS = {login: password for login, _, password, *_ in tea_house.USERS}
PASSWORDS['seller'] = 'seller-omni-2026'
OMNI_MODULES = {
    'omni_inventory_bridge', 'omni_member_hub', 'omni_o2o_pickup',
    'omni_miniprogram', 'omni_insights'}

# The demo is loaded on PostgreSQL, the production database, as
# test_demo.py does; the smoke test drives the SQLite demo in the browser
pytestmark = pytest.mark.skipif(
    not os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="the attacks run on the PostgreSQL demo")


class RPCError(Exception):
    "The error a JSON-RPC call answered"

    def __init__(self, error):
        super().__init__(error)
        self.kind = error[0] if isinstance(error, list) else str(error)
        self.text = str(error)


class RPC:
    "A JSON-RPC client as sao is, over HTTP into the WSGI application"

    def __init__(self, login):
        self.client = Client(app)
        self.ids = iter(range(1, 10_000))
        self.user, session = self.call(
            'common.db.login', login, {'password': PASSWORDS[login]},
            'zh_CN', auth=None)[:2]
        self.auth = 'Session ' + base64.b64encode(
            f'{login}:{self.user}:{session}'.encode()).decode()
        # The messages the attacks match are read in English
        self.context = dict(self.call(
                'model.res.user.get_preferences', True, {}), language='en')

    def call(self, method, *params, auth=True):
        headers = {'Authorization': self.auth} if auth else {}
        response = self.client.post(
            f'/{DB_NAME}/rpc/', headers=headers, json={
                'id': next(self.ids), 'method': method,
                'params': list(params)})
        # A method that is no RPC is forbidden
        if response.status_code == 403:
            raise RPCError(['Forbidden', method])
        assert response.status_code == 200, response.get_data(as_text=True)
        answer = response.get_json()
        if 'error' in answer:
            raise RPCError(answer['error'])
        return answer['result']

    def model(self, model, method, *params):
        return self.call(f'model.{model}.{method}', *params, self.context)

    def wizard(self, name, states, state, active_model, active_id):
        "Create the wizard and execute state with the forged states"
        session, _, _ = self.call(f'wizard.{name}.create', self.context)
        context = dict(self.context, active_model=active_model,
            active_id=active_id, active_ids=[active_id])
        return self.call(
            f'wizard.{name}.execute', session, states, state, context)


@pytest.fixture(scope='module')
def demo():
    config = activate_modules(['omni_insights', 'omni_till'])
    warehouses, products = tea_house.load(config)
    POS = Model.get('sale.point', config=config)
    tills = {code: POS.find([('storage_location', '=',
                    warehouses[code].storage_location.id)])[0].id
        for code in tea_house.STORES}
    # Set up with proteus before any request goes through the application
    create_seller(config)
    unpaid_pickup_order(config, warehouses, products)
    yield config, warehouses, products, tills
    drop_db()


def create_seller(config):
    "Create a sales user and administrator, who is no accountant"
    User = Model.get('res.user', config=config)
    seller = User(login='seller', name="Seller")
    seller.password = PASSWORDS['seller']
    seller.groups.extend([tea_house.ref(config, 'res.group', xml_id)
            for xml_id in ['sale.group_sale', 'sale.group_sale_admin']])
    seller.save()


def unpaid_pickup_order(config, warehouses=None, products=None):
    "Return 李娜's quoted pickup order at 西湖店, created if missing"
    Sale = Model.get('sale.sale', config=config)
    party = member(config, tea_house.PICKUP_MEMBER)
    orders = Sale.find([('party', '=', party.id),
            ('pickup_state', '=', 'awaiting_payment')])
    if orders:
        return orders[0]
    with Transaction().start(DB_NAME, 0, context=config.context):
        pool = Pool()
        Sale_ = pool.get('sale.sale')
        Line = pool.get('sale.line')
        order = Sale_(party=party.id, pickup_store=warehouses['SA'].id)
        order.on_change_party()
        order.on_change_pickup_store()
        order.save()
        line = Line(sale=order, product=products['PE002'].id, quantity=1)
        line.on_change_product()
        line.save()
        Sale_.quote([order])
        order_id = order.id
    return Sale(order_id)


def pickup_order(config):
    "Return the id and code of 李娜's order, ready at 西湖店"
    sale, code = tea_house.pickup_code(config)
    return sale.id, code


def member(config, name):
    Party = Model.get('party.party', config=config)
    party, = Party.find([('name', '=', name)])
    return party


def open_pos_sale(rpc, till):
    sale, = rpc.model('sale.point.sale', 'create', [{'point': till}])
    return sale


def read(config, model, id_, *fields):
    Class = Model.get(model, config=config)
    record = Class(id_)
    return tuple(getattr(record, f) for f in fields)


# Forged wizard state: each acting transition called straight
def test_handover_without_code(demo):
    """A clerk skips Verify and executes Hand Over with a made-up code: the
    order is not handed over, and the attempt is recorded"""
    config, _, _, tills = demo
    sale, code = pickup_order(config)
    Attempt = Model.get('sale.pickup.attempt', config=config)
    attempts = len(Attempt.find([]))
    clerk = RPC('clerk_a')
    result = clerk.wizard('sale.point.pickup_handover', {
            'start': {'point': tills['SA'], 'code': '0000000000'},
            'order': {'sale': sale}}, 'handover', 'sale.point', tills['SA'])
    assert result['view']['state'] == 'refused'
    assert read(config, 'sale.sale', sale, 'pickup_state') == ('ready',)
    assert len(Attempt.find([])) == attempts + 1


def test_handover_code_of_another_order(demo):
    """The code of one order does not hand over another one named in the
    forged order state"""
    config, warehouses, products, tills = demo
    sale, code = pickup_order(config)
    Sale = Model.get('sale.sale', config=config)
    other, = Sale.find([('id', '!=', sale)], limit=1)
    clerk = RPC('clerk_a')
    result = clerk.wizard('sale.point.pickup_handover', {
            'start': {'point': tills['SA'], 'code': code},
            'order': {'sale': other.id}}, 'handover', 'sale.point',
        tills['SA'])
    assert result['view']['state'] == 'refused'
    assert read(config, 'sale.sale', sale, 'pickup_state') == ('ready',)


def test_handover_at_another_store_till(demo):
    "A clerk of 武林店 can't use 西湖店's till, even with the right code"
    config, _, _, tills = demo
    sale, code = pickup_order(config)
    clerk = RPC('clerk_b')
    with pytest.raises(RPCError):
        clerk.wizard('sale.point.pickup_handover', {
                'start': {'point': tills['SA'], 'code': code},
                'order': {'sale': sale}}, 'handover', 'sale.point',
            tills['SB'])
    assert read(config, 'sale.sale', sale, 'pickup_state') == ('ready',)


def test_identify_by_card_number(demo):
    """A clerk can't identify a member by the static card number, nor name
    the member of a sale by writing it"""
    config, _, _, tills = demo
    zhang = member(config, tea_house.LOYAL_MEMBER)
    clerk = RPC('clerk_a')
    sale = open_pos_sale(clerk, tills['SA'])
    with pytest.raises(RPCError, match="store manager"):
        clerk.wizard('sale.point.sale.identify_member', {
                'start': {'code': zhang.member_number, 'reason': "x"}},
            'identify', 'sale.point.sale', sale)
    with pytest.raises(RPCError, match="Identify Member"):
        clerk.model('sale.point.sale', 'write', [sale],
            {'member': zhang.id})
    with pytest.raises(RPCError, match="Identify Member"):
        clerk.model('sale.point.sale', 'create',
            [{'point': tills['SA'], 'member': zhang.id}])
    assert read(config, 'sale.point.sale', sale, 'member') == (None,)


def test_apply_coupon_of_another_member(demo):
    """A forged Apply Coupon names 张伟's coupon on a sale of another
    member: refused"""
    config, _, _, tills = demo
    zhang = member(config, tea_house.LOYAL_MEMBER)
    other = member(config, tea_house.PICKUP_MEMBER)
    Number = Model.get('sale.promotion.coupon.number', config=config)
    number, = Number.find([('party', '=', zhang.id)])
    clerk = RPC('clerk_a')
    sale = open_pos_sale(clerk, tills['SA'])
    code = member_code(other, config)
    clerk.wizard('sale.point.sale.identify_member', {
            'start': {'code': code}}, 'identify', 'sale.point.sale', sale)
    with pytest.raises(RPCError, match="another member"):
        clerk.wizard('sale.point.sale.apply_coupon', {
                'start': {'number': number.id}},
            'apply', 'sale.point.sale', sale)
    assert read(config, 'sale.point.sale', sale, 'coupon') == (None,)


def test_endless_aisle_forged_member_and_till(demo):
    """A forged Order names another till and member: the order is taken for
    the sale's member at the clerk's store, or refused"""
    config, warehouses, products, tills = demo
    zhang = member(config, tea_house.LOYAL_MEMBER)
    other = member(config, tea_house.PICKUP_MEMBER)
    Sale = Model.get('sale.sale', config=config)
    before = {s.id for s in Sale.find([])}
    clerk = RPC('clerk_a')
    sale = open_pos_sale(clerk, tills['SA'])
    code = member_code(zhang, config)
    clerk.wizard('sale.point.sale.identify_member', {
            'start': {'code': code}}, 'identify', 'sale.point.sale', sale)
    product = products['PE002'].id
    forged = {'start': {
            'point': tills['SB'], 'store': warehouses['SB'].id,
            'member': other.id, 'product': product, 'quantity': 1,
            'source': warehouses['CW'].id, 'kind': 'delivery',
            'payment': 'later', 'address': other.addresses[0].id}}
    with pytest.raises(RPCError, match="addresses"):
        clerk.wizard('sale.point.endless_aisle', forged, 'order',
            'sale.point.sale', sale)
    forged['start']['address'] = zhang.addresses[0].id
    clerk.wizard('sale.point.endless_aisle', forged, 'order',
        'sale.point.sale', sale)
    order, = Sale.find([('id', 'not in', list(before))])
    assert order.party == zhang
    assert order.credited_store == warehouses['SA']
    # Another store's POS sale is not the clerk's to start from
    other_clerk = RPC('clerk_b')
    with pytest.raises(RPCError):
        other_clerk.wizard('sale.point.endless_aisle', forged, 'order',
            'sale.point.sale', sale)


def test_merge_and_back_office_wizards_refused_to_clerk(demo):
    "A clerk can't run the member merge or the statement import"
    config, _, _, tills = demo
    zhang = member(config, tea_house.LOYAL_MEMBER)
    other = member(config, tea_house.PICKUP_MEMBER)
    clerk = RPC('clerk_a')
    with pytest.raises(RPCError):
        clerk.wizard('party.replace', {
                'ask': {'source': other.id, 'destination': zhang.id}},
            'replace', 'party.party', other.id)
    with pytest.raises(RPCError):
        clerk.wizard('wechat.statement.import', {
                'start': {}}, 'import_', 'ir.ui.menu', 0)
    assert read(config, 'party.party', other.id, 'replaced_by') == (None,)


# Each wizard of our modules is attacked above
WIZARDS_ATTACKED = {
    'sale.point.pickup_handover': test_handover_without_code,
    'sale.point.sale.identify_member': test_identify_by_card_number,
    'sale.point.sale.apply_coupon': test_apply_coupon_of_another_member,
    'sale.point.endless_aisle': test_endless_aisle_forged_member_and_till,
    'party.replace': test_merge_and_back_office_wizards_refused_to_clerk,
    'wechat.statement.import': (
        test_merge_and_back_office_wizards_refused_to_clerk),
    # Opens the documents of a report row: an action, no write
    'insights.open_documents': None,
    }


def test_every_wizard_attacked(demo):
    "A new wizard of our modules needs its forged-state attack here"
    assert set(omni_wizards()) == set(WIZARDS_ATTACKED)


def omni_wizards():
    "Yield the names of the wizards our modules register or extend"
    for module, classes in Pool.classes['wizard'].items():
        if module not in OMNI_MODULES:
            continue
        for cls in classes:
            # tryton.cfg registers "file.Class"
            if isinstance(cls, str):
                file, name = cls.rsplit('.', 1)
                cls = getattr(importlib.import_module(
                        f'trytond.modules.{module}.{file}'), name)
            yield cls.__name__


# Stores are assigned by an administrator, not chosen by the clerk
def test_clerk_cannot_switch_store(demo):
    """clerk_b (武林店) sets 西湖店 as his warehouse: refused, and he still
    sees only his store's tills and sales"""
    config, warehouses, _, tills = demo
    clerk = RPC('clerk_b')
    with pytest.raises(RPCError):
        clerk.call('model.res.user.set_preferences',
            {'warehouse': warehouses['SA'].id}, clerk.context)
    # Stores are no preference: set_preferences leaves them out
    clerk.call('model.res.user.set_preferences',
        {'stores': [('add', [warehouses['SA'].id])]}, clerk.context)
    with pytest.raises(RPCError):
        clerk.model('res.user', 'write', [clerk.user],
            {'stores': [('add', [warehouses['SA'].id])]})
    with pytest.raises(RPCError):
        clerk.model('res.user-stock.location', 'create',
            [{'user': clerk.user, 'location': warehouses['SA'].id}])
    User = Model.get('res.user', config=config)
    user = User(clerk.user)
    assert (user.warehouse, list(user.stores)) == (
        warehouses['SB'], [warehouses['SB']])
    clerk = RPC('clerk_b')
    assert clerk.model('sale.point', 'search', []) == [tills['SB']]
    POSSale = Model.get('sale.point.sale', config=config)
    store_a_sales = [s.id for s in POSSale.find(
            [('point', '=', tills['SA'])])]
    assert store_a_sales
    assert clerk.model('sale.point.sale', 'search',
        [('id', 'in', store_a_sales)]) == []
    with pytest.raises(RPCError):
        clerk.model('sale.point.sale', 'read', store_a_sales, ['total'])


def test_store_manager_own_stores(demo):
    """A store manager sees the stores an administrator assigned; all
    stores only by the explicit setting"""
    config, warehouses, _, tills = demo
    User = Model.get('res.user', config=config)
    manager, = User.find([('login', '=', 'clerk_c')])
    group = tea_house.ref(
        config, 'res.group', 'omni_inventory_bridge.group_store_manager')
    manager.groups.append(group)
    manager.save()
    rpc = RPC('clerk_c')
    assert rpc.model('sale.point', 'search', []) == [tills['SC']]
    manager.all_stores = True
    manager.save()
    rpc = RPC('clerk_c')
    assert sorted(rpc.model('sale.point', 'search', [])) == sorted(
        tills.values())
    User.write([manager.id], {'all_stores': False,
            'groups': [('remove', [group.id])]}, config.context)


# Payments are recorded by notifications and tills, or by accounting
def test_sales_user_cannot_mark_paid(demo):
    """pickup_paid is no RPC, and Mark Paid is for accounting
    administrators only"""
    config, *_ = demo
    order = unpaid_pickup_order(config)
    rpc = RPC('seller')
    with pytest.raises(RPCError, match="Forbidden"):
        rpc.model('sale.sale', 'pickup_paid', [order.id], 'forged')
    with pytest.raises(RPCError):
        rpc.model('sale.sale', 'mark_pickup_paid', [order.id])
    order.reload()
    assert order.pickup_state == 'awaiting_payment'
    assert order.pickup_code_hash is None
