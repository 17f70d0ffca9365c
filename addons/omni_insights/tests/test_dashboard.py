# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The owner's dashboard over HTTP: its session is Tryton's, logging out
ends it on the server, its cards are live while its charts are cached, and
a store manager sees only his stores."""
import base64
import json

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from trytond.modules.company.tests import create_company, set_company
from trytond.modules.omni_inventory_bridge.tests.tools import create_stock

PASSWORD = 'owner-pass-2026'


class DashboardTestCase(RouteTestCase):
    "The dashboard's session"
    module = 'omni_insights'

    @classmethod
    def setUpDatabase(cls):
        pool = Pool()
        Location = pool.get('stock.location')
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        with Transaction().new_transaction() as transaction:
            company = create_company()
            with set_company(company):
                admin, = User.search([('login', '=', 'admin')])
                User.write([admin], {
                        'password': PASSWORD,
                        'companies': [('add', [company.id])],
                        'company': company.id,
                        })
                warehouse, = Location.search([('type', '=', 'warehouse')])
                other, = Location.copy([warehouse], {'code': 'WH2'})
                third, = Location.copy([warehouse], {'code': 'WH3'})
                User.create([{
                            'login': 'manager',
                            'name': "Manager",
                            'password': PASSWORD,
                            'companies': [('add', [company.id])],
                            'company': company.id,
                            'groups': [('add', [ModelData.get_id(
                                            'omni_inventory_bridge',
                                            'group_store_manager')])],
                            'stores': [('add', [warehouse.id, other.id])],
                            }])
            transaction.commit()
        cls.company = company.id
        cls.warehouses = [warehouse.id, other.id, third.id]

    def rpc(self, method, *params, auth=None):
        headers = {'Authorization': auth} if auth else {}
        response = self.client().post(
            '/%s/rpc/' % DB_NAME, headers=headers,
            json={'id': 1, 'method': method, 'params': list(params)})
        return response.status_code, json.loads(response.get_data() or 'null')

    def login(self, login='admin'):
        "Log in as the dashboard does and return its session header"
        _, answer = self.rpc(
            'common.db.login', login, {'password': PASSWORD}, 'zh_CN')
        user_id, session = answer['result'][:2]
        return 'Session ' + base64.b64encode(
            ('%s:%s:%s' % (login, user_id, session)).encode()).decode()

    def figures(self, auth, store=None):
        "Return the status and the JSON answer of the data route"
        response = self.client().get(
            '/%s/omni/dashboard/data' % DB_NAME,
            query_string={'store': store} if store else None,
            headers={'Authorization': auth})
        return response.status_code, json.loads(response.get_data())

    def data(self, auth):
        return self.figures(auth)[0]

    def test_logout_ends_session(self):
        """The session the dashboard logged out with is refused: a copy of
        it is worth nothing"""
        auth = self.login()
        self.assertEqual(self.data(auth), 200)

        status, _ = self.rpc('common.db.logout', auth=auth)
        self.assertEqual(status, 200)
        self.assertEqual(self.data(auth), 401)
        status, _ = self.rpc('model.res.user.get_preferences', True, {},
            auth=auth)
        self.assertEqual(status, 401)

    def test_cards_live_charts_cached(self):
        """A reservation shows in the cards at the next request while the
        charts are those computed at the time they show"""
        auth = self.login()
        _, before = self.figures(auth)
        product, shelves = create_stock(
            {'company': self.company}, "Tea", {"Shelf": 5})
        with Transaction().start(DB_NAME, 0,
                context={'company': self.company}) as transaction:
            Reservation = Pool().get('stock.reservation')
            Reservation.hold([{
                        'product': product, 'location': shelf,
                        'quantity': 1, 'channel': 'pos',
                        } for shelf in shelves])
            transaction.commit()

        _, after = self.figures(auth)
        self.assertEqual(
            after['reservations']['open'], before['reservations']['open'] + 1)
        self.assertEqual(after['charts'], before['charts'])
        self.assertRegex(after['charts']['as_of'], r'^\d\d:\d\d$')
        self.assertEqual(after['charts']['refresh_minutes'], 5)

    def test_manager_sees_his_stores_only(self):
        """A store manager gets the figures of one of his stores, never of
        the whole company or of another store"""
        auth = self.login('manager')
        status, figures = self.figures(auth)
        self.assertEqual(status, 200)
        self.assertFalse(figures['all_stores'])
        self.assertEqual(
            [s['id'] for s in figures['stores']], self.warehouses[:2])
        self.assertEqual(figures['store'], self.warehouses[0])
        status, figures = self.figures(auth, self.warehouses[1])
        self.assertEqual((status, figures['store']),
            (200, self.warehouses[1]))
        status, figures = self.figures(auth, self.warehouses[2])
        self.assertEqual((status, figures['code']), (403, 'forbidden'))

        _, figures = self.figures(self.login())
        self.assertTrue(figures['all_stores'])
        self.assertIsNone(figures['store'])


del RouteTestCase
