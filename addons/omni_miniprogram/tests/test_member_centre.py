# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The member centre of the mall over HTTP: points, tier, daily bonuses and
coupons, each member seeing only their own."""
import datetime
from decimal import Decimal

from trytond.pool import Pool
from trytond.tests.test_tryton import RouteTestCase
from trytond.transaction import Transaction

from trytond.modules.company.tests import set_company
from trytond.modules.omni_miniprogram.tests.tools import (
    MallTestMixin,
    check_response,
)

MEMBER_PATHS = [
    ('GET', '/me/points', '/me/points'),
    ('GET', '/me/tier', '/me/tier'),
    ('POST', '/me/sign-in', '/me/sign-in'),
    ('POST', '/me/share', '/me/share'),
    ('GET', '/coupons', '/coupons'),
    ('POST', '/coupons/1/claim', '/coupons/{coupon}/claim'),
    ('GET', '/me/coupons', '/me/coupons'),
    ]


class MemberCentreTestCase(MallTestMixin, RouteTestCase):
    "Test the member centre of the mall API"

    @classmethod
    def setUpDatabase(cls):
        super().setUpDatabase()
        pool = Pool()
        Number = pool.get('sale.promotion.coupon.number')
        Party = pool.get('party.party')
        Redemption = pool.get('sale.promotion.coupon.redemption')
        Session = pool.get('web.shop.mp_session')
        Shop = pool.get('web.shop')
        shop = Shop(cls.shop_id)
        # PostgreSQL locks the tables of exclusion constraints to validate
        locks = [Party._table, Number._table, Redemption._table]
        with Transaction().new_transaction(
                _lock_tables=locks) as transaction, \
                set_company(shop.company):
            other = Party.register_member('13900139000', "王芳", 'mall')
            bonus = Party.register_member('13600136000', "赵敏", 'mall')
            _, cls.other_token = Session.open(shop, 'o-other', member=other)
            _, cls.bonus_token = Session.open(shop, 'o-bonus', member=bonus)
            cls.other_id = other.id
            cls.setUpTiers(shop)
            cls.setUpPoints(Party(cls.member_id), other)
            cls.setUpCoupons(shop, other)
            transaction.commit()

    @classmethod
    def setUpTiers(cls, shop):
        """Silver from the first yuan, gold from ¥1000; 张伟 paid a ¥300
        mall order and is silver"""
        pool = Pool()
        Address = pool.get('party.address')
        Date = pool.get('ir.date')
        ModelData = pool.get('ir.model.data')
        Party = pool.get('party.party')
        Sale = pool.get('sale.sale')
        Tier = pool.get('member.tier')
        address, = Address.create([{'party': cls.member_id, 'city': "杭州"}])
        # Processed by hand: the spend counts the state, not how
        sales = Sale.create([{
                    'party': cls.member_id,
                    'sale_date': Date.today(),
                    'invoice_address': address.id,
                    'shipment_address': address.id,
                    'warehouse': cls.store_ids[0],
                    'currency': shop.company.currency.id,
                    'lines': [('create', [{
                                    'product': cls.tea_id, 'quantity': 1,
                                    'unit': ModelData.get_id(
                                        'product', 'uom_unit'),
                                    'unit_price': Decimal(300),
                                    }])],
                    }])
        Sale.write(sales, {'state': 'processing'})
        Tier.create([{
                    'name': "银卡", 'threshold': Decimal(0),
                    'discount': Decimal(0), 'points_multiplier': Decimal(1),
                    }, {
                    'name': "金卡", 'threshold': Decimal(1000),
                    'discount': Decimal(5),
                    'points_multiplier': Decimal('1.5'),
                    }])
        Tier.upgrade_members([Party(cls.member_id)])

    @classmethod
    def setUpPoints(cls, member, other):
        """张伟 earns 300 points at the West Lake store, redeems 100 there
        and gets 50 from the back office; 王芳 earns 80"""
        pool = Pool()
        Entry = pool.get('member.points.entry')
        Location = pool.get('stock.location')
        Rule = pool.get('member.points.rule')
        Rule.create([{'channel': 'pos', 'points_per_yuan': Decimal(1)}])
        store = Location(cls.store_ids[0])
        Entry.earn(member, Decimal(300), 'pos', store)
        Entry.redeem(member, 100, 'pos', store)
        Entry.adjust(member, 50, "生日礼")
        Entry.earn(other, Decimal(80), 'pos', store)

    @classmethod
    def setUpCoupons(cls, shop, other):
        """满100减20 runs this month, one per member; 国庆 ended; a targeted
        campaign's coupon is not for claiming; 王芳 used a 满100减20 at the
        till and holds an expired 国庆 coupon"""
        pool = Pool()
        Campaign = pool.get('member.target_campaign')
        Category = pool.get('product.category')
        Coupon = pool.get('sale.promotion.coupon')
        Date = pool.get('ir.date')
        Location = pool.get('stock.location')
        Number = pool.get('sale.promotion.coupon.number')
        Promotion = pool.get('sale.promotion')
        Redemption = pool.get('sale.promotion.coupon.redemption')
        today = Date.today()
        day = datetime.timedelta(days=1)
        currency = shop.company.currency
        running, ended, targeted = Promotion.create([{
                    'name': name, 'formula': 'unit_price',
                    'start_date': start, 'end_date': end,
                    'amount': Decimal(100), 'currency': currency.id,
                    } for name, start, end in [
                    ("满100减20", today - day, today + 30 * day),
                    ("国庆", today - 40 * day, today - 10 * day),
                    ("回购礼", today - day, today + 30 * day),
                    ]])
        coupon, old, target = Coupon.create([{
                    'promotion': p.id, 'number_of_use': 1,
                    'discount_amount': Decimal(amount),
                    'limit_per_member': 1,
                    } for p, amount in [
                    (running, 20), (ended, 10), (targeted, 15)]])
        category, = Category.create([{'name': "Oolong"}])
        Campaign.create([{
                    'name': "回购", 'company': shop.company.id,
                    'bought_category': category.id, 'bought_channel': 'pos',
                    'not_bought_category': category.id,
                    'not_bought_channel': 'mall', 'coupon': target.id,
                    }])
        used = Coupon.claim(other, coupon)
        Redemption.redeem(
            used, other, 'pos', Location(cls.store_ids[0]), amount=100)
        Number.create([{
                    'coupon': old.id, 'party': other.id,
                    'number': 'CEXPIRED01', 'start_date': ended.start_date,
                    'end_date': ended.end_date,
                    }])
        cls.coupon_id, cls.old_coupon_id = coupon.id, old.id
        cls.targeted_coupon_id = target.id
        cls.used_number = used.number

    def get(self, path, token, openapi_path=None):
        "GET path and return the data checked against the OpenAPI document"
        response = self.request('GET', path, token)
        self.assertEqual(response.status_code, 200, response.get_data())
        return check_response(
            response, openapi_path or path.split('?')[0], 'get')

    def post(self, path, token, openapi_path=None, status=200):
        "POST path and return the status' data checked against the document"
        response = self.request('POST', path, token)
        self.assertEqual(response.status_code, status, response.get_data())
        return check_response(response, openapi_path or path, 'post')

    def test_points_history(self):
        "The points history of POS and back office entries, a page at a time"
        data = self.get('/me/points?per_page=2', self.token)
        self.assertEqual(data['balance'], 250)
        self.assertEqual(data['value_per_100'], '1.00')
        self.assertEqual(data['redeem_cap_percent'], '50.00')
        self.assertEqual(
            (data['page'], data['per_page'], data['total']), (1, 2, 3))
        adjust, redeem = data['entries']
        self.assertEqual(
            (adjust['type'], adjust['points'], adjust['channel'],
                adjust['store'], adjust['description']),
            ('adjust', 50, 'back_office', None, "生日礼"))
        self.assertEqual(
            (redeem['type'], redeem['points'], redeem['channel'],
                redeem['store'], redeem['expires_on']),
            ('redeem', -100, 'pos', 'WL', None))

        data = self.get('/me/points?page=2&per_page=2', self.token)
        earn, = data['entries']
        self.assertEqual(
            (earn['type'], earn['points'], earn['store']),
            ('earn', 300, 'WL'))
        self.assertGreater(
            datetime.date.fromisoformat(earn['expires_on']),
            datetime.date.today())
        self.assertEqual(
            self.get('/me/points?page=3&per_page=2', self.token)['entries'],
            [])

    def test_points_refused(self):
        for path in ['/me/points?per_page=1000', '/me/points?page=0']:
            with self.subTest(path=path):
                response = self.request('GET', path, self.token)
                self.assertEqual(response.status_code, 400)
                data = check_response(response, '/me/points', 'get')
                self.assertEqual(data['code'], 'invalid_request')

    def test_tier(self):
        "Silver with ¥300 paid, gold ¥700 away"
        data = self.get('/me/tier', self.token)
        self.assertEqual(data['tier'], {
                'name': "银卡", 'discount_percent': '0.00',
                'points_multiplier': '1.00'})
        self.assertEqual(data['spend_12m'], '300.00')
        self.assertEqual(data['next'], {
                'name': "金卡", 'threshold': '1000.00', 'missing': '700.00'})
        history, = data['history']
        self.assertEqual(
            (history['tier'], history['previous'], history['reason']),
            ("银卡", None, 'upgrade'))

        data = self.get('/me/tier', self.other_token)
        self.assertIsNone(data['tier'])
        self.assertEqual(data['next']['name'], "银卡")
        self.assertEqual(data['next']['missing'], '0.00')
        self.assertEqual(data['history'], [])

    def test_sign_in(self):
        "A member signs in once a day; the second call awards nothing"
        balance = self.get('/me/points', self.bonus_token)['balance']
        first = self.post('/me/sign-in', self.bonus_token)
        self.assertEqual(first, {
                'awarded': 5, 'balance': balance + 5,
                'signed_in_today': True})
        second = self.post('/me/sign-in', self.bonus_token)
        self.assertEqual(second, {
                'awarded': 0, 'balance': balance + 5,
                'signed_in_today': True})
        entry = self.get('/me/points', self.bonus_token)['entries'][0]
        self.assertEqual(
            (entry['type'], entry['bonus'], entry['channel']),
            ('earn', 'sign_in', 'mall'))

    def test_share_cap(self):
        "Shares earn 10 points each up to 30 a day"
        balance = self.get('/me/points', self.bonus_token)['balance']
        awarded = [
            self.post('/me/share', self.bonus_token)['awarded']
            for _ in range(4)]
        self.assertEqual(awarded, [10, 10, 10, 0])
        self.assertEqual(
            self.get('/me/points', self.bonus_token)['balance'],
            balance + 30)

    def test_coupon_centre_and_claim(self):
        "Claim the running coupon once; ended and unknown ones are refused"
        items = self.get('/coupons', self.token)['items']
        coupon, = items
        self.assertEqual(coupon, {
                'id': self.coupon_id, 'name': "满100减20",
                'minimum': '100.00', 'discount': '20.00', 'channels': [],
                'start_date': coupon['start_date'],
                'end_date': coupon['end_date'],
                'claimed': 0, 'limit_per_member': 1, 'claimable': True})

        path = '/coupons/%s/claim' % self.coupon_id
        claimed = self.post(path, self.token, '/coupons/{coupon}/claim')
        self.assertEqual(claimed['coupon'], self.coupon_id)
        self.assertEqual(claimed['end_date'], coupon['end_date'])
        coupon, = self.get('/coupons', self.token)['items']
        self.assertEqual((coupon['claimed'], coupon['claimable']), (1, False))
        usable = self.get('/me/coupons?status=usable', self.token)['items']
        self.assertEqual(
            [n['number'] for n in usable], [claimed['number']])

        for coupon_id, status, code in [
                (self.coupon_id, 409, 'coupon_limit_reached'),
                (self.old_coupon_id, 409, 'coupon_ended'),
                (self.targeted_coupon_id, 404, 'coupon_not_found'),
                (9999, 404, 'coupon_not_found'),
                ]:
            with self.subTest(coupon=coupon_id):
                data = self.post(
                    '/coupons/%s/claim' % coupon_id, self.token,
                    '/coupons/{coupon}/claim', status=status)
                self.assertEqual(data['code'], code)
                self.assertTrue(data['message'])
        self.assertEqual(
            len(self.get('/me/coupons', self.token)['items']), 1)

    def test_my_coupons_by_status(self):
        "Usable, used with where and when, and expired numbers"
        data = self.get('/me/coupons?status=used', self.other_token)
        self.assertEqual(data['status'], 'used')
        used, = data['items']
        self.assertEqual(used['number'], self.used_number)
        self.assertEqual(
            (used['name'], used['discount'], used['minimum']),
            ("满100减20", '20.00', '100.00'))
        self.assertEqual(
            (used['redemption']['channel'], used['redemption']['store']),
            ('pos', 'WL'))

        expired, = self.get(
            '/me/coupons?status=expired', self.other_token)['items']
        self.assertEqual(
            (expired['number'], expired['name'], expired['redemption']),
            ('CEXPIRED01', "国庆", None))
        self.assertLess(
            datetime.date.fromisoformat(expired['end_date']),
            datetime.date.today())
        self.assertEqual(
            self.get('/me/coupons', self.other_token)['items'], [])

        response = self.request(
            'GET', '/me/coupons?status=lost', self.other_token)
        self.assertEqual(response.status_code, 400)

    def test_members_see_only_their_own(self):
        "A member never sees the points or coupons of another member"
        mine = self.get('/me/points?per_page=100', self.token)
        theirs = self.get('/me/points?per_page=100', self.other_token)
        self.assertEqual(theirs['balance'], 80)
        self.assertEqual([e['points'] for e in theirs['entries']], [80])
        self.assertFalse(
            {e['id'] for e in mine['entries']}
            & {e['id'] for e in theirs['entries']})
        for status in ['used', 'expired']:
            with self.subTest(status=status):
                self.assertEqual(
                    self.get(
                        '/me/coupons?status=%s' % status, self.token)[
                        'items'], [])

    def test_guest_and_anonymous(self):
        "A guest must bind a phone first; without a session it is a 401"
        for method, path, openapi_path in MEMBER_PATHS:
            with self.subTest(method=method, path=path):
                response = self.request(method, path, self.guest_token)
                self.assertEqual(response.status_code, 403)
                data = check_response(
                    response, openapi_path, method.lower())
                self.assertEqual(data['code'], 'phone_required')

                response = self.request(method, path)
                self.assertEqual(response.status_code, 401)
                data = check_response(
                    response, openapi_path, method.lower())
                self.assertEqual(data['code'], 'unauthorized')


del RouteTestCase
