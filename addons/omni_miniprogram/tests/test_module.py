# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.

from trytond.tests.test_tryton import ModuleTestCase

from trytond.modules.omni_inventory_bridge.tests.tools import SaoWidgetsMixin


class OmniMiniprogramTestCase(SaoWidgetsMixin, ModuleTestCase):
    "Test Omni Mini-Program module"
    module = 'omni_miniprogram'


del ModuleTestCase
