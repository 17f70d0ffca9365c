# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The owner's dashboard over HTTP: its session is Tryton's, and logging
out ends it on the server."""
import base64
import json

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from trytond.modules.company.tests import create_company, set_company

PASSWORD = 'owner-pass-2026'


class DashboardTestCase(RouteTestCase):
    "The dashboard's session"
    module = 'omni_insights'

    @classmethod
    def setUpDatabase(cls):
        User = Pool().get('res.user')
        with Transaction().new_transaction() as transaction:
            company = create_company()
            with set_company(company):
                admin, = User.search([('login', '=', 'admin')])
                User.write([admin], {
                        'password': PASSWORD,
                        'companies': [('add', [company.id])],
                        'company': company.id,
                        })
            transaction.commit()

    def rpc(self, method, *params, auth=None):
        headers = {'Authorization': auth} if auth else {}
        response = self.client().post(
            '/%s/rpc/' % DB_NAME, headers=headers,
            json={'id': 1, 'method': method, 'params': list(params)})
        return response.status_code, json.loads(response.get_data() or 'null')

    def data(self, auth):
        return self.client().get(
            '/%s/omni/dashboard/data' % DB_NAME,
            headers={'Authorization': auth}).status_code

    def test_logout_ends_session(self):
        """The session the dashboard logged out with is refused: a copy of
        it is worth nothing"""
        _, answer = self.rpc(
            'common.db.login', 'admin', {'password': PASSWORD}, 'zh_CN')
        user_id, session = answer['result'][:2]
        auth = 'Session ' + base64.b64encode(
            ('admin:%s:%s' % (user_id, session)).encode()).decode()
        self.assertEqual(self.data(auth), 200)

        status, _ = self.rpc('common.db.logout', auth=auth)
        self.assertEqual(status, 200)
        self.assertEqual(self.data(auth), 401)
        status, _ = self.rpc('model.res.user.get_preferences', True, {},
            auth=auth)
        self.assertEqual(status, 401)


del RouteTestCase
