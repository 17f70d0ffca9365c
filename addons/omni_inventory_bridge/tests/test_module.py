# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from decimal import Decimal

from trytond.tests.test_tryton import ModuleTestCase

from trytond.modules.omni_inventory_bridge.stock import distance_km


class OmniInventoryBridgeTestCase(ModuleTestCase):
    "Test Omni Inventory Bridge module"
    module = 'omni_inventory_bridge'

    def test_distance_km(self):
        "Haversine distance between two points of Hangzhou"
        distance = distance_km(
            Decimal('30.242865'), Decimal('120.148681'),
            Decimal('30.290850'), Decimal('120.212600'))
        self.assertAlmostEqual(distance, 8.13, delta=0.01)
        self.assertEqual(distance_km(30, 120, 30, 120), 0)


del ModuleTestCase
