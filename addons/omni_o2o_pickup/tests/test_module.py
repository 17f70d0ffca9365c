# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.

from trytond.tests.test_tryton import ModuleTestCase

from trytond.modules.omni_inventory_bridge.tests.tools import SaoWidgetsMixin


class OmniO2oPickupTestCase(SaoWidgetsMixin, ModuleTestCase):
    "Test Omni O2O Pickup module"
    module = 'omni_o2o_pickup'


del ModuleTestCase
