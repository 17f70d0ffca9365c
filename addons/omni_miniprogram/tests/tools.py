# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What the tests of the mall API share: a mini-program shop with a member,
a guest and a catalog, called over HTTP as the mini-program calls it."""
import datetime
import json
from decimal import Decimal

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from trytond.modules.company.tests import create_company, set_company
from trytond.modules.omni_miniprogram.api import OPENAPI, validate
from trytond.modules.omni_miniprogram.tests.fake_wechat import FakeWeChat

PREFIX = '/%s/omni/mp/v1' % DB_NAME


def check_response(response, path, method):
    "Check the response against the OpenAPI document and return its data"
    assert response.content_type.startswith('application/json'), (
        response.content_type)
    data = json.loads(response.get_data())
    operation = OPENAPI['paths'][path][method]
    answer = operation['responses'][str(response.status_code)]
    if '$ref' in answer:
        answer = OPENAPI['components']['responses'][
            answer['$ref'].rsplit('/', 1)[1]]
    validate(data, answer['content']['application/json']['schema'])
    return data


class MallTestMixin:
    """Set up a shop with the member 张伟, a guest and a tea in two stores,
    for a RouteTestCase"""
    # The whole stack, whose cached database every test case shares
    module = 'omni_insights'

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeWeChat().__enter__()
        cls.addClassCleanup(cls.fake.__exit__, None, None, None)
        super().setUpClass()

    @classmethod
    def setUpDatabase(cls):
        pool = Pool()
        Party = pool.get('party.party')
        Session = pool.get('web.shop.mp_session')
        Shop = pool.get('web.shop')
        # The outer transaction must not write party_party, which the
        # new one locks
        with Transaction().new_transaction(
                _lock_tables=[Party._table]) as transaction, \
                set_company(create_company()):
            shop = Shop(name="Tea Mall", **cls.fake.shop_values())
            shop.save()
            member = Party.register_member('13800138000', "张伟", 'mall')
            Party.register_member('13700137000', "李娜", 'pos')
            cls.shop_id = shop.id
            cls.member_id = member.id
            _, cls.token = Session.open(shop, 'o-member', member=member)
            _, cls.guest_token = Session.open(shop, 'o-guest')
            expired, cls.expired_token = Session.open(shop, 'o-old')
            expired.expires_at = datetime.datetime(2020, 1, 1)
            expired.save()
            cls.setUpCatalog(shop)
            transaction.commit()

    @classmethod
    def setUpCatalog(cls, shop):
        "Publish a tea stocked in two stores 2.9 km apart"
        pool = Pool()
        Category = pool.get('product.category')
        Inventory = pool.get('stock.inventory')
        Location = pool.get('stock.location')
        ModelData = pool.get('ir.model.data')
        Template = pool.get('product.template')
        unit = ModelData.get_id('product', 'uom_unit')
        category = Category(name="普洱")
        category.save()
        template, hidden = Template.create([{
                    'name': name, 'type': 'goods', 'salable': True,
                    'default_uom': unit, 'sale_uom': unit,
                    'gross_price': Decimal('300'),
                    'categories': [('add', [category.id])],
                    'web_shop_description': "云南勐海",
                    'products': [('create', [{}])],
                    } for name in ["2019 老班章", "Unpublished"]])
        cls.tea_id = template.products[0].id
        cls.hidden_id = hidden.products[0].id
        stores = []
        for code, lat, lon, quantity in [
                ('WL', '30.2590', '120.1300', 2),
                ('CJ', '30.2420', '120.1600', 5)]:
            zones = Location.create([{'name': code + z, 'type': 'storage'}
                    for z in ['-IN', '-OUT', '-STO']])
            store, = Location.create([{
                        'name': code, 'code': code, 'type': 'warehouse',
                        'latitude': Decimal(lat), 'longitude': Decimal(lon),
                        'input_location': zones[0].id,
                        'output_location': zones[1].id,
                        'storage_location': zones[2].id,
                        'lost_found_location': ModelData.get_id(
                            'stock', 'location_lost_found'),
                        }])
            Location.write(zones, {'parent': store.id})
            stores.append(store)
            inventory, = Inventory.create([{
                        'location': zones[2].id,
                        'lines': [('create', [{
                                        'product': cls.tea_id,
                                        'quantity': quantity}])],
                        }])
            Inventory.confirm([inventory])
        cls.store_ids = [s.id for s in stores]
        shop.warehouses = stores
        shop.products = [cls.tea_id]
        shop.categories = [category]
        shop.save()

    def member_name(self):
        with Transaction().start(DB_NAME, 0):
            return Pool().get('party.party')(self.member_id).name

    def request(self, method, path, token=None, **kwargs):
        headers = kwargs.pop('headers', {})
        if token:
            headers['Authorization'] = 'Bearer ' + token
        return self.client().open(
            PREFIX + path, method=method, headers=headers, **kwargs)

