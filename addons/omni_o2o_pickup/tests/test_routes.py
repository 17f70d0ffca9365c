# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"The scanner routes when the database stays busy"
from unittest.mock import patch

from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase


class PickupRouteTestCase(RouteTestCase):
    "Pickup routes"
    module = 'omni_o2o_pickup'

    @classmethod
    def setUpDatabase(cls):
        pass

    def test_busy(self):
        """A database that stays busy through the retries (two handovers'
        stock moves at once) is a JSON 503 to retry, not an HTML 400, under
        the scanners' prefix and the first release's"""
        Application = Pool(DB_NAME).get('res.user.application')
        for name in ['pos/v1/pickup/verify', 'pos/v1/pickup/handover',
                'v1/pickup/verify', 'v1/pickup/handover']:
            with patch.object(Application, 'check',
                    side_effect=backend.DatabaseOperationalError):
                response = self.client().post(
                    '/%s/omni/%s' % (DB_NAME, name),
                    headers={'Authorization': 'bearer key'},
                    json={'point': 1, 'code': '0123456789'})
            self.assertEqual(response.status_code, 503)
            self.assertEqual(response.json['code'], 'busy')
            self.assertEqual(response.headers['Retry-After'], '1')


del RouteTestCase
