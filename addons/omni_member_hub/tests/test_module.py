# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime
from decimal import Decimal

from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction

from trytond.modules.company.tests import create_company, set_company
from trytond.modules.omni_inventory_bridge.tests.tools import SaoWidgetsMixin
from trytond.modules.omni_member_hub.exceptions import (
    CouponError,
    MemberError,
    MobileError,
    PointsError,
)
from trytond.modules.omni_member_hub.party import normalize_mobile


class OmniMemberHubTestCase(SaoWidgetsMixin, ModuleTestCase):
    "Test Omni Member Hub module"
    module = 'omni_member_hub'

    def test_normalize_mobile(self):
        "Mobile numbers are read as Chinese unless they have a country code"
        for value in [
                '13800138000', '138 0013 8000', '+86 138-0013-8000',
                '008613800138000']:
            with self.subTest(value=value):
                self.assertEqual(normalize_mobile(value), '+8613800138000')
        self.assertEqual(
            normalize_mobile('+852 5123 4567'), '+85251234567')

    def test_normalize_mobile_invalid(self):
        "Malformed, foreign without country and landline numbers are refused"
        for value in ['1380013', 'abc', '', '2025550143', '0571 8888 6666']:
            with self.subTest(value=value):
                with self.assertRaises(MobileError):
                    normalize_mobile(value)

    @with_transaction()
    def test_wechat_identity(self):
        "A WeChat identity belongs to one member, found by unionid too"
        pool = Pool()
        Party = pool.get('party.party')
        Identity = pool.get('party.wechat_identity')
        member = Party.register_member('13800138000', "A")
        other = Party.register_member('13900139000', "B")

        identity = Identity.bind(member, 'wxmall', 'o-1')
        self.assertEqual(Identity.bind(member, 'wxmall', 'o-1', 'u-1'),
            identity)
        self.assertEqual(identity.unionid, 'u-1')
        self.assertEqual(Identity.member_of('wxmall', 'o-1'), member)
        self.assertEqual(Identity.member_of('wxshop', 'o-9', 'u-1'), member)
        self.assertIsNone(Identity.member_of('wxshop', 'o-9'))
        with self.assertRaises(MemberError):
            Identity.bind(other, 'wxmall', 'o-1')
        self.assertEqual(member.wechat_identities, (identity,))

    @with_transaction()
    def test_member_code(self):
        "A member code identifies the member once, for at most 60 seconds"
        Party = Pool().get('party.party')
        member = Party.register_member('13800138000', "A")
        other = Party.register_member('13900139000', "B")
        at = 1_800_000_000

        code, expires_at = member.member_code(at)
        self.assertEqual(len(code), 18)
        self.assertTrue(at < expires_at <= at + 60)
        self.assertNotEqual(other.member_code(at)[0][9:], code[9:])
        self.assertEqual(Party.identify_member(code, at + 59), member)
        with self.assertRaisesRegex(MemberError, "already been used"):
            Party.identify_member(code, at + 1)

        code, expires_at = member.member_code(at + 30)
        with self.assertRaisesRegex(MemberError, "expired"):
            Party.identify_member(code, expires_at)
        forged = '%09d' % other.id + code[9:]
        tampered = code[:-1] + str((int(code[-1]) + 1) % 10)
        for value in [forged, tampered, '123', '', 'M99999999']:
            with self.subTest(code=value):
                with self.assertRaises(MemberError):
                    Party.identify_member(value, at + 31)

        self.assertEqual(
            Party.identify_member(member.member_number.lower()), member)

    @with_transaction()
    def test_notification_queue(self):
        "A message is queued once per key and waits for a channel"
        pool = Pool()
        Party = pool.get('party.party')
        Notification = pool.get('member.notification')
        member = Party.register_member('13800138000', "A")
        first = Notification.queue(
            member, 'campaign', {'store': "西湖店"}, key='spring')
        again = Notification.queue(
            member, 'campaign', {'store': "西湖店"}, key='spring')
        self.assertEqual(again, first)
        self.assertEqual(first.data, {'store': "西湖店"})

        Notification.send_queued()
        self.assertEqual(first.state, 'queued')

    @with_transaction()
    def test_coupon_redemption(self):
        "A number is used once until its redemption is reversed"
        pool = Pool()
        Coupon = pool.get('sale.promotion.coupon')
        Number = pool.get('sale.promotion.coupon.number')
        Party = pool.get('party.party')
        Promotion = pool.get('sale.promotion')
        Redemption = pool.get('sale.promotion.coupon.redemption')
        Sale = pool.get('sale.sale')
        company = create_company()
        with set_company(company):
            member = Party.register_member('13800138000', "A")
            other = Party.register_member('13900139000', "B")
            promotion, = Promotion.create([{
                        'name': "满100减20", 'formula': 'unit_price',
                        'amount': 100, 'currency': company.currency.id,
                        }])
            coupon, = Coupon.create([{
                        'promotion': promotion.id, 'discount_amount': 20,
                        'limit_per_member': 1,
                        }])
            number = Coupon.claim(member, coupon)
            self.assertEqual(
                Coupon.push(coupon, [member, other])[0].party, other)
            self.assertEqual(Number.usable_by(member, 'pos', 100), [number])

            with self.assertRaisesRegex(CouponError, "another member"):
                Redemption.redeem(number, other, 'mall')
            with self.assertRaisesRegex(CouponError, "at least"):
                Redemption.redeem(number, member, 'mall', amount=99)
            sale = Sale(party=member)
            sale.save()
            first = Redemption.redeem(number, member, 'mall', origin=sale)
            with self.assertRaisesRegex(CouponError, "already been used"):
                Redemption.redeem(number, member, 'mall')

            Redemption.restore([sale])
            self.assertEqual(first.state, 'reversed')
            second = Redemption.redeem(number, member, 'pos')
            self.assertEqual(Number(number.id).redemption, second)

    @with_transaction()
    def test_points_ledger(self):
        "Redeem takes the oldest-expiring points; the balance stays >= 0"
        pool = Pool()
        Party = pool.get('party.party')
        Entry = pool.get('member.points.entry')
        Rule = pool.get('member.points.rule')
        Rule.create([{'channel': 'pos', 'points_per_yuan': Decimal(1)}])
        member = Party.register_member('13800138000', "A")
        today = datetime.date.today()

        pos_sale = 'sale.point.sale,1'
        first = Entry.earn(member, Decimal('123.45'), 'pos', origin=pos_sale)
        self.assertEqual(first.points, 123)
        self.assertEqual(
            Entry.earn(member, Decimal(500), 'pos', origin=pos_sale), first)
        second = Entry.adjust(member, 50, "goodwill")
        self.assertEqual(Entry.balance(member), 173)

        redeem = Entry.redeem(member, 100, 'mall', origin='sale.sale,7')
        self.assertEqual(redeem.points, -100)
        self.assertEqual(
            Entry.redeem(member, 100, 'mall', origin='sale.sale,7'), redeem)
        self.assertEqual(Entry.balance(member), 73)
        self.assertEqual((first.remaining, second.remaining), (23, 50))
        with self.assertRaisesRegex(PointsError, "73 points.*100 points"):
            Entry.redeem(member, 100, 'pos')

        reverse, = Entry.reverse('sale.sale,7')
        self.assertEqual(reverse.points, 100)
        self.assertEqual(Entry.reverse('sale.sale,7'), [])
        self.assertEqual((first.remaining, second.remaining), (123, 50))

        Entry.redeem(member, 150, 'pos')
        reverse, = Entry.reverse(pos_sale)
        self.assertEqual(reverse.points, -23)
        self.assertEqual(Entry.balance(member), 0)

        Entry.adjust(member, 10, "later")
        Entry.expire(today + datetime.timedelta(days=400))
        Entry.expire(today + datetime.timedelta(days=400))
        expired = Entry.search([('type', '=', 'expire')])
        self.assertEqual([e.points for e in expired], [-10])
        self.assertEqual(Entry.balance(member), 0)
        with self.assertRaises(AccessError):
            Entry.write([first], {'points': 1000})
        with self.assertRaises(AccessError):
            Entry.delete([first])

    @with_transaction()
    def test_points_rule(self):
        "A rule rounds, multiplies by the tier and excludes products"
        pool = Pool()
        Party = pool.get('party.party')
        Entry = pool.get('member.points.entry')
        Rule = pool.get('member.points.rule')
        Tier = pool.get('member.tier')
        Template = pool.get('product.template')
        Uom = pool.get('product.uom')
        unit, = Uom.search([('name', '=', "Unit")])
        tea, gift = Template.create([{
                    'name': name, 'default_uom': unit.id,
                    'products': [('create', [{}])],
                    } for name in ["Tea", "Gift Card"]])
        Rule.create([{
                    'channel': 'mall', 'points_per_yuan': Decimal('1.5'),
                    'rounding': 'half_up',
                    'excluded_products': [('add', [gift.products[0].id])],
                    }])
        member = Party.register_member('13800138000', "A")
        gold, = Tier.create([{
                    'name': "Gold", 'threshold': 0, 'discount': 5,
                    'points_multiplier': 2}])

        entry = Entry.earn(member, Decimal(10), 'mall', lines=[
                (tea.products[0], Decimal(7)),
                (gift.products[0], Decimal(3))])
        self.assertEqual(entry.points, 11)  # 7 * 1.5 = 10.5
        self.assertIsNone(Entry.earn(member, Decimal(10), 'pos'))

        Tier.update_members([member])
        self.assertEqual(member.member_tier, gold)
        self.assertEqual(member.member_price(Decimal(100)), Decimal(95))
        entry = Entry.earn(member, Decimal(10), 'mall')
        self.assertEqual(entry.points, 30)

    @with_transaction()
    def test_points_bonus(self):
        "Sign-in pays once a day, shares up to the daily cap"
        pool = Pool()
        Party = pool.get('party.party')
        Entry = pool.get('member.points.entry')
        member = Party.register_member('13800138000', "A")
        today = datetime.date.today()

        self.assertEqual(Entry.bonus(member, 'sign_in', today).points, 5)
        self.assertIsNone(Entry.bonus(member, 'sign_in', today))
        shares = [Entry.bonus(member, 'share', today) for _ in range(4)]
        self.assertEqual([e.points for e in shares[:3]], [10, 10, 10])
        self.assertIsNone(shares[3])
        with self.assertRaises(PointsError):
            Entry.bonus(member, 'birthday', today)


del ModuleTestCase
