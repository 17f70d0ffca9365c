# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.

from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from trytond.modules.omni_inventory_bridge.tests.tools import SaoWidgetsMixin


class OmniO2oPickupTestCase(SaoWidgetsMixin, ModuleTestCase):
    "Test Omni O2O Pickup module"
    module = 'omni_o2o_pickup'

    @with_transaction()
    def test_update_renames(self):
        "An update renames the first release's refund tables and columns"
        pool = Pool()
        Refund = pool.get('sale.refund')
        RefundLine = pool.get('sale.refund-sale.line')
        Sale = pool.get('sale.sale')
        TableHandler = backend.TableHandler
        cursor = Transaction().connection.cursor()
        for Model, former in [
                (Refund, 'sale_pickup_refund'),
                (RefundLine, 'sale_pickup_refund-sale_line')]:
            cursor.execute('ALTER TABLE "%s" RENAME TO "%s"' % (
                    Model._table, former))
            Model.__register__(self.module)
            self.assertTrue(TableHandler.table_exist(Model._table))
            self.assertFalse(TableHandler.table_exist(former))
        renamed = [
            ('pickup_paid_at', 'paid_at'),
            ('pickup_paid_by', 'paid_by'),
            ('pickup_payment_reference', 'payment_reference'),
            ('origin_store', 'credited_store'),
            ('origin_clerk', 'credited_clerk'),
            ]
        for old, new in renamed:
            cursor.execute('ALTER TABLE sale_sale RENAME COLUMN "%s" TO "%s"'
                % (new, old))
        Sale.__register__(self.module)
        table = Sale.__table_handler__(self.module)
        for old, new in renamed:
            self.assertTrue(table.column_exist(new), new)
            self.assertFalse(table.column_exist(old), old)


del ModuleTestCase
