# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The mall API's plumbing, driven over HTTP as the mini-program calls it."""
import io
import json
from unittest.mock import patch

from PIL import Image
from trytond import config
from trytond.model.modelsql import SQLConstraintError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from trytond.modules.omni_miniprogram.api import OPENAPI, ROUTES
from trytond.modules.omni_miniprogram.tests.tools import (
    MallTestMixin,
    check_response,
)


class ApiTestCase(MallTestMixin, RouteTestCase):
    "Test the mall API plumbing and the login"

    def test_every_route_is_documented(self):
        "The routes and the OpenAPI document describe the same operations"
        documented = {
            (method.upper(), path)
            for path, operations in OPENAPI['paths'].items()
            for method in operations}
        self.assertEqual(set(ROUTES), documented)

    def test_openapi_served(self):
        response = self.request('GET', '/openapi.json')
        self.assertEqual(response.status_code, 200)
        self.assertEqual(json.loads(response.get_data()), OPENAPI)

    def test_me(self):
        "A member reads their profile with a masked mobile"
        response = self.request('GET', '/me', self.token)
        self.assertEqual(response.status_code, 200)
        data = check_response(response, '/me', 'get')
        self.assertEqual(data['member']['name'], "张伟")
        self.assertEqual(data['member']['mobile'], '+86138****8000')

    def test_member_code(self):
        "The member code from the API identifies the member at the till"
        response = self.request('GET', '/me/code', self.token)
        data = check_response(response, '/me/code', 'get')
        self.assertLessEqual(data['refresh_in'], 60)
        with Transaction().start(DB_NAME, 0):
            Party = Pool().get('party.party')
            self.assertEqual(
                Party.identify_member(data['code']).id, self.member_id)
        response = self.request('GET', '/me/code', self.guest_token)
        self.assertEqual(response.status_code, 403)

    def test_guest(self):
        "Before the phone is bound there is no member and no member change"
        response = self.request('GET', '/me', self.guest_token)
        self.assertIsNone(check_response(response, '/me', 'get')['member'])
        response = self.request(
            'PUT', '/me', self.guest_token, json={'name': "Guest"})
        self.assertEqual(response.status_code, 403)
        data = check_response(response, '/me', 'put')
        self.assertEqual(data['code'], 'phone_required')

    def test_unauthorized(self):
        "Missing, unknown, malformed and expired tokens get a JSON 401"
        for headers in [
                {}, {'Authorization': 'Bearer nope'},
                {'Authorization': 'Basic eDp5'},
                {'Authorization': 'Bearer ' + self.expired_token}]:
            with self.subTest(headers=headers):
                response = self.request('GET', '/me', headers=headers)
                self.assertEqual(response.status_code, 401)
                data = check_response(response, '/me', 'get')
                self.assertEqual(data['code'], 'unauthorized')
                self.assertTrue(data['message'])
                self.assertTrue(data['message_en'])

    def test_update_me(self):
        response = self.request(
            'PUT', '/me', self.token, json={'name': " 张大伟 "})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            check_response(response, '/me', 'put')['member']['name'], "张大伟")
        self.assertEqual(self.member_name(), "张大伟")
        self.request('PUT', '/me', self.token, json={'name': "张伟"})

    def test_bad_input_writes_nothing(self):
        "Malformed, invalid and oversized bodies get a 4xx and change nothing"
        cases = [
            (b'{"name": ', 400, 'invalid_json'),
            (b'[]', 400, 'invalid_request'),
            (json.dumps({'name': ''}).encode(), 400, 'invalid_request'),
            (json.dumps({'name': 42}).encode(), 400, 'invalid_request'),
            (json.dumps({'name': 'x' * 61}).encode(), 400, 'invalid_request'),
            (json.dumps({'name': 'A', 'admin': True}).encode(), 400,
                'invalid_request'),
            (json.dumps({'name': 'x' * 70000}).encode(), 413,
                'payload_too_large'),
            ]
        for body, status, code in cases:
            with self.subTest(body=body[:30]):
                response = self.request(
                    'PUT', '/me', self.token, data=body,
                    content_type='application/json')
                self.assertEqual(response.status_code, status)
                data = check_response(response, '/me', 'put')
                self.assertEqual(data['code'], code)
        self.assertEqual(self.member_name(), "张伟")

    def test_unknown_path_and_method(self):
        "Paths and methods the API lacks get JSON, not HTML"
        response = self.request('GET', '/nowhere', self.token)
        self.assertEqual(response.status_code, 404)
        self.assertEqual(json.loads(response.get_data())['code'], 'not_found')
        response = self.request('DELETE', '/me', self.token)
        self.assertEqual(response.status_code, 405)
        self.assertEqual(
            json.loads(response.get_data())['code'], 'method_not_allowed')

    def test_cors_preflight(self):
        "The origins of [web] cors may call the API from a browser"
        origin = 'https://servicewechat.com'
        cors = config.get('web', 'cors', default='')
        config.set('web', 'cors', origin)
        self.addCleanup(config.set, 'web', 'cors', cors)
        response = self.request('OPTIONS', '/me', headers={
                'Origin': origin,
                'Access-Control-Request-Method': 'PUT',
                'Access-Control-Request-Headers': 'Authorization'})
        self.assertEqual(response.status_code, 204)
        self.assertEqual(
            response.headers['Access-Control-Allow-Origin'], origin)
        self.assertEqual(
            response.headers['Access-Control-Allow-Headers'], 'Authorization')

    def test_logout(self):
        with Transaction().start(DB_NAME, 0) as transaction:
            Shop = Pool().get('web.shop')
            Session = Pool().get('web.shop.mp_session')
            _, token = Session.open(Shop(self.shop_id), 'o-member')
            transaction.commit()
        response = self.request('DELETE', '/session', token)
        self.assertEqual(
            check_response(response, '/session', 'delete'),
            {'status': 'logged_out'})
        response = self.request('GET', '/me', token)
        self.assertEqual(response.status_code, 401)

    def login(self, code, openid, unionid=None):
        self.fake.add_login(code, openid, unionid)
        response = self.request(
            'POST', '/login', json={'shop': self.shop_id, 'code': code})
        self.assertEqual(response.status_code, 200, response.get_data())
        return check_response(response, '/login', 'post')

    def bind_phone(self, token, code, phone):
        self.fake.add_phone_code(code, phone)
        response = self.request(
            'POST', '/me/phone', token, json={'code': code})
        self.assertEqual(response.status_code, 200, response.get_data())
        return check_response(response, '/me/phone', 'post')['member']

    def test_login_then_phone_finds_store_member(self):
        "A store member who logs in with WeChat is the same member (story 5)"
        login = self.login('login-lina', 'o-lina', 'u-lina')
        self.assertFalse(login['member'])
        response = self.request('GET', '/me', login['token'])
        self.assertIsNone(check_response(response, '/me', 'get')['member'])

        member = self.bind_phone(
            login['token'], 'phone-lina', '+86 13700137000')
        self.assertEqual(member['name'], "李娜")
        self.assertEqual(member['join_channel'], 'pos')

        again = self.login('login-lina-2', 'o-lina', 'u-lina')
        self.assertTrue(again['member'])
        response = self.request('GET', '/me', again['token'])
        self.assertEqual(
            check_response(response, '/me', 'get')['member']['number'],
            member['number'])

    def test_phone_merges_mall_member(self):
        "A mall member who binds a store member's phone becomes that member"
        login = self.login('login-two', 'o-two')
        first = self.bind_phone(login['token'], 'phone-a', '+86 13900139011')
        self.assertEqual(first['join_channel'], 'mall')
        store = self.bind_phone(login['token'], 'phone-b', '+86 13800138000')
        self.assertEqual(store['name'], "张伟")
        with Transaction().start(DB_NAME, 0):
            pool = Pool()
            Party = pool.get('party.party')
            Identity = pool.get('party.wechat_identity')
            merged, = Party.search([
                    ('member_number', '=', first['number']),
                    ('active', '=', False)])
            self.assertEqual(merged.replaced_by.id, self.member_id)
            identity, = Identity.search([('openid', '=', 'o-two')])
            self.assertEqual(identity.party.id, self.member_id)

    def test_login_refused(self):
        "Unknown, reused and missing codes and unknown shops are refused"
        self.login('login-once', 'o-once')
        for body, status, code in [
                ({'shop': self.shop_id, 'code': 'login-once'}, 401,
                    'invalid_wechat_code'),
                ({'shop': self.shop_id, 'code': 'nope'}, 401,
                    'invalid_wechat_code'),
                ({'shop': 9999, 'code': 'x'}, 404, 'shop_not_found'),
                ({'shop': self.shop_id}, 400, 'invalid_request'),
                ({'shop': 'one', 'code': 'x'}, 400, 'invalid_request'),
                ]:
            with self.subTest(body=body):
                response = self.request('POST', '/login', json=body)
                self.assertEqual(response.status_code, status)
                data = check_response(response, '/login', 'post')
                self.assertEqual(data['code'], code)

    def test_phone_code_refused(self):
        login = self.login('login-three', 'o-three')
        response = self.request(
            'POST', '/me/phone', login['token'], json={'code': 'forged'})
        self.assertEqual(response.status_code, 401)
        data = check_response(response, '/me/phone', 'post')
        self.assertEqual(data['code'], 'invalid_wechat_code')

    def test_catalog(self):
        "Browse the catalog without logging in, near the West Lake store"
        response = self.request('GET', '/catalog/categories?shop=%s' % (
                self.shop_id))
        data = check_response(response, '/catalog/categories', 'get')
        self.assertEqual([c['name'] for c in data['items']], ["普洱"])

        response = self.request(
            'GET', '/catalog/products?shop=%s&lat=30.26&lon=120.13' % (
                self.shop_id))
        data = check_response(response, '/catalog/products', 'get')
        item, = data['items']
        self.assertEqual(data['total'], 1)
        self.assertEqual(item['price'], '300.00')
        self.assertEqual(item['pickup_price'], '270.00')
        self.assertEqual(item['available'], 7)
        self.assertTrue(item['nearby_stock'])

        response = self.request(
            'GET', '/catalog/products/%s?shop=%s&lat=30.26&lon=120.13' % (
                self.tea_id, self.shop_id))
        data = check_response(
            response, '/catalog/products/{product}', 'get')
        self.assertEqual(
            [(s['id'], s['available']) for s in data['stores']],
            list(zip(self.store_ids, [2, 5], strict=True)))
        self.assertLess(data['stores'][0]['distance_km'], 0.2)
        self.assertEqual(data['description'], "云南勐海")

        far = self.request(
            'GET', '/catalog/products?shop=%s&lat=31.23&lon=121.47' % (
                self.shop_id))
        data = check_response(far, '/catalog/products', 'get')
        self.assertFalse(data['items'][0]['nearby_stock'])

    def test_product_images(self):
        """The catalog links each product's images at a list's and a
        page's size; they show without a session and only for published
        products"""
        response = self.request(
            'GET', '/catalog/products?shop=%s' % self.shop_id)
        item, = check_response(
            response, '/catalog/products', 'get')['items']
        response = self.request('GET', '/catalog/products/%s?shop=%s' % (
                self.tea_id, self.shop_id))
        image, = check_response(
            response, '/catalog/products/{product}', 'get')['images']
        self.assertEqual(image['description'], "茶饼")
        self.assertEqual(item['thumbnail'], image['thumbnail'])
        for url, size in [
                (image['thumbnail'], (250, 200)), (image['url'], (750, 600)),
                (image['url'].replace('s=750', 's=100'), (100, 80))]:
            with self.subTest(url=url):
                response = self.request('GET', url)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.content_type, 'image/jpeg')
                self.assertIn('public', response.headers['Cache-Control'])
                picture = Image.open(io.BytesIO(response.get_data()))
                self.assertEqual((picture.format, picture.size),
                    ('JPEG', size))
        # A member's session names the shop too
        response = self.request(
            'GET', image['url'].split('?')[0], self.token)
        self.assertEqual(response.content_type, 'image/jpeg')

        with Transaction().start(DB_NAME, 0):
            hidden, = Pool().get('product.product')(
                self.hidden_id).images_used
        path = '/catalog/products/%s/images/%s' % (self.tea_id, image['id'])
        for url, status, code in [
                (path + '?shop=%s&s=2000' % self.shop_id, 400,
                    'invalid_request'),
                (path + '?shop=%s&s=big' % self.shop_id, 400,
                    'invalid_request'),
                (path, 404, 'shop_not_found'),
                ('/catalog/products/%s/images/%s?shop=%s' % (
                        self.tea_id, hidden.id, self.shop_id), 404,
                    'image_not_found'),
                ('/catalog/products/%s/images/%s?shop=%s' % (
                        self.hidden_id, hidden.id, self.shop_id), 404,
                    'product_not_found'),
                ('/catalog/products/%s/images/0?shop=%s' % (
                        self.tea_id, self.shop_id), 404, 'not_found'),
                ]:
            with self.subTest(url=url):
                response = self.request('GET', url)
                self.assertEqual(response.status_code, status)
                data = check_response(response,
                    '/catalog/products/{product}/images/{image}', 'get')
                self.assertEqual(data['code'], code)

    def test_product_image_cached_meanwhile(self):
        "An image another request is caching at that size still shows"
        response = self.request('GET', '/catalog/products/%s?shop=%s' % (
                self.tea_id, self.shop_id))
        image, = json.loads(response.get_data())['images']
        url = image['url'].replace('s=750', 's=300')
        with Transaction().start(DB_NAME, 0):
            Cache = Pool().get('product.image.cache')
        with patch.object(Cache, 'save', side_effect=SQLConstraintError(
                    "The size of cached image must be unique.")) as save:
            response = self.request('GET', url)
        save.assert_called_once()
        self.assertEqual(response.status_code, 200)
        picture = Image.open(io.BytesIO(response.get_data()))
        self.assertEqual(picture.size, (300, 240))
        with Transaction().start(DB_NAME, 0):
            self.assertEqual(Cache.search([('width', '=', 300)]), [])

    def test_catalog_refused(self):
        "Unpublished products, unknown shops and bad parameters get a 4xx"
        for path, status, code in [
                ('/catalog/products/%s?shop=%s' % (
                        self.hidden_id, self.shop_id), 404,
                    'product_not_found'),
                ('/catalog/products?shop=999', 404, 'shop_not_found'),
                ('/catalog/products', 404, 'shop_not_found'),
                ('/catalog/products?shop=%s&per_page=1000' % self.shop_id,
                    400, 'invalid_request'),
                ('/catalog/products?shop=%s&lat=north' % self.shop_id,
                    400, 'invalid_request'),
                ('/catalog/stock?shop=%s' % self.shop_id, 400,
                    'invalid_request'),
                ]:
            with self.subTest(path=path):
                response = self.request('GET', path)
                self.assertEqual(response.status_code, status)
                self.assertEqual(
                    json.loads(response.get_data())['code'], code)

    def test_stock_changes(self):
        "The client refreshes only what changed since its stock version"
        response = self.request(
            'GET', '/catalog/stock?shop=%s&since=0' % self.shop_id)
        data = check_response(response, '/catalog/stock', 'get')
        self.assertEqual(
            {(c['store'], c['available']) for c in data['changes']},
            set(zip(self.store_ids, [2, 5], strict=True)))
        response = self.request(
            'GET', '/catalog/stock?shop=%s&since=%s' % (
                self.shop_id, data['version']))
        self.assertEqual(
            check_response(response, '/catalog/stock', 'get')['changes'], [])


del RouteTestCase
