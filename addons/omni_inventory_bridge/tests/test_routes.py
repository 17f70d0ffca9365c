# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"The readiness route that load balancers ask"
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction


class ReadyTestCase(RouteTestCase):
    "Readiness"
    module = 'omni_inventory_bridge'

    @classmethod
    def setUpDatabase(cls):
        pass

    def ready(self, database=DB_NAME):
        response = self.client().get('/%s/omni/ops/v1/ready' % database)
        self.assertEqual(response.headers['Cache-Control'], 'no-store')
        return response.status_code, response.json

    def test_ready(self):
        "Ready when the database answers with its modules activated"
        self.assertEqual(self.ready(), (200, {'status': 'ready'}))

    def test_unknown_database(self):
        "A database that does not exist is not found"
        self.assertEqual(self.ready('no_such_database'), (404, {
                    'status': 'unavailable', 'code': 'database_not_found'}))

    def test_upgrade_pending(self):
        "Not ready while a module waits for its upgrade"
        def set_state(state):
            with Transaction().start(DB_NAME, 0) as transaction:
                Module = Pool().get('ir.module')
                module, = Module.search([('name', '=', self.module)])
                module.state = state
                module.save()
                transaction.commit()
        set_state('to upgrade')
        try:
            self.assertEqual(self.ready(), (503, {
                        'status': 'unavailable',
                        'code': 'modules_not_activated'}))
        finally:
            set_state('activated')
        self.assertEqual(self.ready(), (200, {'status': 'ready'}))


del RouteTestCase
