# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Set-up helpers shared by the concurrency tests and the benchmarks, which
commit their own transactions on a database of their own."""
import re
import time
import unittest
from pathlib import Path

from lxml import etree
from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME,
    with_transaction,
)
from trytond.transaction import Transaction, TransactionError

from trytond.modules.company.tests import create_company
from trytond.modules.currency.tests import create_currency


def retrying(start, func, busy_retries=0):
    """Call func in the transaction that start(**extras) opens; like
    Tryton's dispatcher, start it again with the locks a TransactionError
    asks for, and after a database busy or serialization failure up to
    busy_retries times.  Return func's result and the retries"""
    extras = {}
    for retry in range(busy_retries + 100):
        try:
            with start(**extras):
                return func(), retry
        except TransactionError as error:
            error.fix(extras)
        except backend.DatabaseOperationalError:
            if retry >= busy_retries:
                raise
            time.sleep(0.02 * (retry + 1))
    raise AssertionError("still failing after %s retries" % retry)


def run(context, func):
    "Run func in a new transaction and return its result"
    return retrying(lambda **extras: Transaction().start(
            DB_NAME, 0, context=context, **extras), func)[0]


def run_retrying(func, **extras):
    """Run func in a new transaction, again after a serialization error;
    return its result and the retries"""
    return retrying(lambda **more: Transaction().start(
            DB_NAME, 0, **extras, **more), func, busy_retries=100)


def create_tea_company():
    "Create a company in yuan and return its context"
    if DB_NAME not in Pool.database_list():
        Pool(DB_NAME).init()
    with Transaction().start(DB_NAME, 0):
        company = create_company("Tea House", create_currency('CNY'))
        return {'company': company.id}


def create_tea_chart(context):
    "Create the chart of accounts of the company of context"
    from trytond.modules.account.tests import create_chart
    # The chart writes the account configuration singleton, which locks
    with Transaction().start(DB_NAME, 0, context=context,
            _lock_tables=['account_configuration']):
        create_chart(Pool().get('company.company')(context['company']))


def create_stock(context, name, quantities, **values):
    """Create the goods and put them on new storage locations under the
    default storage zone; return the product id and {location id: quantity}
    for the {location name: quantity} given"""
    with Transaction().start(DB_NAME, 0, context=context):
        pool = Pool()
        Inventory = pool.get('stock.inventory')
        Location = pool.get('stock.location')
        ModelData = pool.get('ir.model.data')
        Template = pool.get('product.template')
        unit = ModelData.get_id('product', 'uom_unit')
        if values.get('salable'):
            values.setdefault('sale_uom', unit)
        template, = Template.create([{
                    'name': name, 'type': 'goods', 'default_uom': unit,
                    'products': [('create', [{}])], **values}])
        product, = template.products
        storage = ModelData.get_id('stock', 'location_storage')
        locations = Location.create([{
                    'name': location, 'type': 'storage', 'parent': storage}
                for location in quantities])
        inventories = Inventory.create([{
                    'location': location.id,
                    'lines': [('create', [{
                                    'product': product.id,
                                    'quantity': quantity}])],
                    } for location, quantity in zip(
                    locations, quantities.values(), strict=True)])
        Inventory.confirm(inventories)
        return product.id, dict(zip(
                map(int, locations), quantities.values(), strict=True))


SAO_JS = (Path(__file__).resolve().parents[3]
    / 'web' / 'node_modules' / 'tryton-sao' / 'dist' / 'tryton-sao.js')


def sao_widgets():
    "Return {view type: widgets} that the installed sao can build"
    if not SAO_JS.exists():
        raise unittest.SkipTest(f"{SAO_JS} is not installed")
    source = SAO_JS.read_text()
    widgets = {}
    for view_type, parser in [
            ('form', 'FormXMLViewParser'), ('tree', 'TreeXMLViewParser')]:
        body = re.search(
            r'Sao\.View\.%s\.WIDGETS = \{(.*?)\};' % parser,
            source, re.S).group(1)
        widgets[view_type] = set(re.findall(r"'(\w+)':", body))
    return widgets


class SaoWidgetsMixin:
    "Check the module's views against the widgets of the installed sao"

    @with_transaction()
    def test_views_sao_widgets(self):
        "Every field of the module's views has a widget sao can build"
        if backend.name != 'sqlite':
            self.skipTest("views do not depend on the backend")
        pool = Pool()
        View = pool.get('ir.ui.view')
        widgets = sao_widgets()
        problems = []
        for view in View.search([('module', '=', self.module)]):
            view_type = view.real_type
            if view_type not in widgets or not view.model:
                continue
            Model = pool.get(view.model)
            for node in etree.fromstring(view.arch).iter('field'):
                field = Model._fields.get(node.get('name'))
                if field is None:
                    continue
                widget = node.get('widget') or field._type
                if widget not in widgets[view_type]:
                    problems.append(
                        f"{view.name or view.inherit.name} ({view_type}): "
                        f"{node.get('name')} has widget {widget}")
        self.assertFalse(problems, '\n' + '\n'.join(problems))
