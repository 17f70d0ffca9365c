# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"The mall API while the database server is away"
from unittest.mock import patch

from trytond import backend
from trytond.tests.test_tryton import RouteTestCase

from trytond.modules.omni_miniprogram.tests.tools import PREFIX


class UnavailableTestCase(RouteTestCase):
    "Database unavailable"
    module = 'omni_miniprogram'

    @classmethod
    def setUpDatabase(cls):
        pass

    def test_unavailable(self):
        """A request the database cannot serve, from its start to its
        commit, is a JSON 503 to retry, not a 404 nor a 500"""
        with patch('trytond.modules.omni_miniprogram.api.open_pool',
                side_effect=backend.DatabaseOperationalError):
            response = self.client().get(
                PREFIX + '/catalog/categories', query_string={'shop': 1})
            unknown = self.client().get(PREFIX + '/no-such-path')
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json['code'], 'busy')
        self.assertEqual(response.headers['Retry-After'], '1')
        self.assertEqual(unknown.status_code, 404)
        self.assertEqual(unknown.json['code'], 'not_found')


del RouteTestCase
