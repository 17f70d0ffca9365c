# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Pickup orders on PostgreSQL: the POS cannot sell the boxes a paid pickup
order holds on the shelf, and of two clerks handing the same order over at
the same time exactly one succeeds; afterwards the figures add up.

3 boxes of 老班章 lie on the store's shelf; a member's pickup order holds 2.
"""
import os
import threading
from decimal import Decimal

import pytest
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, drop_db
from trytond.transaction import Transaction

from trytond.modules.omni_inventory_bridge.exceptions import StockGuardError
from trytond.modules.omni_inventory_bridge.tests.tools import (
    create_tea_chart,
    create_tea_company,
    run_retrying,
)
from trytond.modules.omni_o2o_pickup.exceptions import PickupError

pytestmark = pytest.mark.skipif(
    not os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="concurrent transactions need PostgreSQL (TRYTOND_DATABASE_URI)")

STOCK = 3
PICKUP = 2
CLERKS = 2


@pytest.fixture(scope='module')
def store():
    "Return the context, the product, the shelf, two POS and the order"
    activate_module('omni_insights')
    context = create_tea_company()
    create_tea_chart(context)

    def setup():
        pool = Pool()
        Account = pool.get('account.account')
        Category = pool.get('product.category')
        Inventory = pool.get('stock.inventory')
        Journal = pool.get('account.journal')
        Location = pool.get('stock.location')
        ModelData = pool.get('ir.model.data')
        Party = pool.get('party.party')
        POS = pool.get('sale.point')
        Sale = pool.get('sale.sale')
        SequenceStrict = pool.get('ir.sequence.strict')
        Template = pool.get('product.template')
        warehouse = Location(ModelData.get_id('stock', 'location_warehouse'))
        shelf = warehouse.storage_location
        customer = Location(ModelData.get_id('stock', 'location_customer'))
        revenue, = Account.search([
                ('type.revenue', '=', True),
                ('closed', '!=', True),
                ('company', '=', context['company']),
                ], limit=1)
        category, = Category.create([{
                    'name': "Tea", 'accounting': True,
                    'account_revenue': revenue.id}])
        unit = ModelData.get_id('product', 'uom_unit')
        template, = Template.create([{
                    'name': "老班章", 'type': 'goods', 'salable': True,
                    'default_uom': unit, 'sale_uom': unit,
                    'list_price': Decimal(300),
                    'account_category': category.id,
                    'products': [('create', [{}])]}])
        product, = template.products
        inventory, = Inventory.create([{
                    'location': shelf.id,
                    'lines': [('create', [{
                                    'product': product.id,
                                    'quantity': STOCK}])]}])
        Inventory.confirm([inventory])
        journal, = Journal.search([('type', '=', 'revenue')], limit=1)
        sequences = SequenceStrict.create([{
                    'name': "Till %s" % i, 'company': context['company'],
                    'sequence_type': ModelData.get_id(
                        'sale_point', 'sequence_type_sale'),
                    } for i in range(CLERKS)])
        points = POS.create([{
                    'name': sequence.name, 'journal': journal.id,
                    'sequence': sequence.id,
                    'storage_location': shelf.id,
                    'customer_location': customer.id,
                    } for sequence in sequences])
        member, = Party.create([{
                    'name': "张伟", 'addresses': [('create', [{}])]}])
        address, = member.addresses
        sale, = Sale.create([{
                    'party': member.id,
                    'invoice_address': address.id,
                    'shipment_address': address.id,
                    'pickup_store': warehouse.id,
                    'warehouse': warehouse.id,
                    'lines': [('create', [{
                                    'product': product.id,
                                    'quantity': PICKUP,
                                    'unit': unit,
                                    'unit_price': Decimal(300),
                                    }])]}])
        Sale.quote([sale])
        Sale.pickup_paid([sale], 'wx-1')
        Sale.pickup_ready([sale])
        code, _ = Sale(sale.id).pickup_code()
        return product.id, shelf.id, [p.id for p in points], sale.id, code
    yield context, *run_retrying(setup, context=context)[0]
    drop_db()


def figures(context, product, shelf):
    def get():
        Availability = Pool().get('stock.availability')
        (figure,) = Availability.get([product], [shelf]).values()
        return figure, Availability.reconcile()
    return run_retrying(get, context=context)[0]


def pos_sale(context, product, point, quantity):
    "Sell quantity at the point, paid in cash; return the sale's state"
    def sell():
        pool = Pool()
        Account = pool.get('account.account')
        Method = pool.get('sale.point.payment.method')
        Sale = pool.get('sale.point.sale')
        methods = Method.search([], limit=1)
        if not methods:
            cash, = Account.search([('code', '=', '1.1.1')], limit=1)
            methods = Method.create([{'name': "Cash", 'account': cash.id}])
        sale, = Sale.create([{
                    'point': point,
                    'lines': [('create', [{
                                    'product': product, 'quantity': quantity,
                                    'unit_list_price': Decimal(300),
                                    'unit_gross_price': Decimal(300),
                                    }])],
                    'payments': [('create', [{
                                    'method': methods[0].id,
                                    'amount': Decimal(300) * quantity,
                                    }])],
                    }])
        Sale.process([sale])
        return sale.state
    return run_retrying(sell, context=context)[0]


def test_pos_blocked_then_double_handover(store):
    context, product, shelf, points, sale_id, code = store
    assert figures(context, product, shelf) == ((3, 2, 1), [])

    # The POS cannot sell the 2 boxes the pickup order holds
    with pytest.raises(StockGuardError):
        pos_sale(context, product, points[0], 2)
    assert pos_sale(context, product, points[0], 1) == 'done'
    assert figures(context, product, shelf) == ((3, 3, 0), [])

    # Two clerks confirm the same code at the same time
    start = threading.Barrier(CLERKS)
    results = [None] * CLERKS

    def clerk(index):
        def handover():
            pool = Pool()
            POS = pool.get('sale.point')
            Sale = pool.get('sale.sale')
            point = POS(points[index])
            sale, refused = Sale.pickup_check(code, point)
            if refused:
                return refused.code
            try:
                Sale.pickup_handover([sale], point)
            except PickupError as error:
                Transaction().rollback()
                return error.message
            return 'handed over'
        start.wait(timeout=60)
        results[index] = run_retrying(handover, context=context)[0]

    threads = [threading.Thread(target=clerk, args=(i,))
        for i in range(CLERKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results, key=lambda r: r != 'handed over')[0] == (
        'handed over')
    assert results.count('handed over') == 1, results
    loser, = [r for r in results if r != 'handed over']
    assert 'used' in loser or 'handed over' in loser, loser

    def state():
        Sale = Pool().get('sale.sale')
        sale = Sale(sale_id)
        return sale.pickup_state, [s.state for s in sale.shipments]
    assert run_retrying(state, context=context)[0] == ('picked_up', ['done'])
    # 2 boxes left with the pickup, 1 is sold at the POS awaiting posting
    assert figures(context, product, shelf) == ((1, 1, 0), [])
