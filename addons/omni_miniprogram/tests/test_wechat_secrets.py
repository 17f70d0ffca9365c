# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The WeChat secrets: never logged nor shown, read and written by
administrators only, encrypted at rest and their key rotated"""
import io
import logging
import unittest

from cryptography.fernet import Fernet
from trytond import config
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    with_transaction,
)
from trytond.transaction import Transaction

from trytond.modules.omni_member_hub import secret as secrets_at_rest
from trytond.modules.omni_member_hub.exceptions import SecretError
from trytond.modules.omni_miniprogram import wechat
from trytond.modules.omni_miniprogram.exceptions import (
    ShopWeChatValidationError,
)

from .tools import WeChatTestMixin


class WeChatSecretsTestCase(WeChatTestMixin, unittest.TestCase):
    "The shop's WeChat secrets, the member code and pickup code keys"

    @with_transaction()
    def test_no_secret_in_logs(self):
        "Debug logs of every call hold none of the secrets"
        shop = self.create_shop()
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        root = logging.getLogger()
        level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            self.fake.add_login('code-1', 'o-buyer')
            wechat.code_to_session(shop, 'code-1')
            self.prepay(shop, 'ORDER-0001')
            self.fake.pay('ORDER-0001', deliver=False)
            wechat.refund(
                shop, 'ORDER-0001', 'REFUND-0001', 100, 2500, "取消",
                'https://mall.example.com/notify/refund')
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
        logs = stream.getvalue()
        self.assertIn('/sns/jscode2session', logs)
        self.assertIn('secret=***', logs)
        for secret in self.secrets():
            self.assertNotIn(secret, logs)

    @with_transaction()
    def test_secret_fields_access(self):
        "Only administrators read or write the shop's secrets over RPC"
        pool = Pool()
        Shop = pool.get('web.shop')
        User = pool.get('res.user')
        Group = pool.get('res.group')
        ModelData = pool.get('ir.model.data')
        shop = self.create_shop()
        manager = User(
            login='shop_manager', name="Shop Manager",
            groups=[Group(ModelData.get_id('sale', 'group_sale_admin'))])
        manager.save()
        secret_fields = [
            'wechat_app_secret', 'wechatpay_private_key',
            'wechatpay_apiv3_key']

        transaction = Transaction()
        with transaction.set_user(manager.id), \
                transaction.set_context(_check_access=True):
            record, = Shop.read(
                [shop.id], ['wechat_appid', 'wechatpay_mchid',
                    'pickup_discount', 'nearby_radius'])
            self.assertEqual(record['wechat_appid'], self.fake.appid)
            Shop.write([Shop(shop.id)], {'wechat_notify_url':
                    'https://mall.example.com'})
            for name in secret_fields:
                with self.subTest(field=name):
                    with self.assertRaises(AccessError):
                        Shop.read([shop.id], [name])
                    with self.assertRaises(AccessError):
                        Shop.search([(name, '=', 'x')])
                    with self.assertRaises(AccessError):
                        Shop.write([Shop(shop.id)], {name: 'x'})
            form = Shop.fields_view_get(view_type='form')
            self.assertIn('wechat_appid', form['fields'])
            for name in secret_fields:
                self.assertNotIn(name, form['fields'])
                self.assertNotIn('name="%s"' % name, form['arch'])

        admin, = User.search([('login', '=', 'admin')])
        admin.companies = [shop.company]
        admin.company = shop.company
        admin.save()
        with transaction.set_user(admin.id), transaction.set_context(
                _check_access=True, company=shop.company.id):
            # Even administrators read only a mask: no API sends a secret
            record, = Shop.read([shop.id], secret_fields)
            self.assertEqual(
                {record[n] for n in secret_fields}, {secrets_at_rest.MASK})
            # What they write is the new secret, the mask written back not
            Shop.write([Shop(shop.id)], {
                    'wechat_app_secret': 'new-secret',
                    'wechatpay_apiv3_key': secrets_at_rest.MASK})
        self.assertEqual(
            Shop(shop.id).get_secret('wechat_app_secret'), 'new-secret')
        self.assertEqual(
            Shop(shop.id).get_secret('wechatpay_apiv3_key'),
            self.fake.apiv3_key)

    def stored(self, Model, record, name):
        "The value of the field as the database holds it"
        table = Model.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                getattr(table, name), where=table.id == record.id))
        return cursor.fetchone()[0]

    @with_transaction()
    def test_secrets_encrypted_at_rest(self):
        """The shop's WeChat secrets, the member code secrets and the pickup
        code key are stored encrypted, readable only by the code"""
        pool = Pool()
        MemberSecret = pool.get('member.code_secret')
        Party = pool.get('party.party')
        PickupSecret = pool.get('sale.pickup.secret')
        Shop = pool.get('web.shop')
        shop = self.create_shop()
        member = Party.register_member('13800138000', "张伟", 'mall')
        member.member_code()
        PickupSecret.get()
        member_secret, = MemberSecret.search([('party', '=', member.id)])
        pickup_secret, = PickupSecret.search([])
        for Model, record, name in [
                (Shop, shop, 'wechat_app_secret'),
                (Shop, shop, 'wechatpay_private_key'),
                (Shop, shop, 'wechatpay_apiv3_key'),
                (MemberSecret, member_secret, 'secret'),
                (PickupSecret, pickup_secret, 'secret')]:
            with self.subTest(model=Model.__name__, field=name):
                stored = self.stored(Model, record, name)
                plain = record.get_secret(name)
                self.assertTrue(stored.startswith(secrets_at_rest.PREFIX))
                self.assertNotIn(plain, stored)
                self.assertNotEqual(getattr(record, name), plain)
                self.assertEqual(
                    Model.read([record.id], [name])[0][name],
                    secrets_at_rest.MASK)
        self.assertEqual(
            shop.get_secret('wechat_app_secret'), self.fake.secret)
        # A copy of the shop does not carry the secrets
        copy, = Shop.copy([shop], default={"name": shop.name + " (copy)"})
        self.assertIsNone(copy.get_secret('wechat_app_secret'))

    @with_transaction()
    def test_secret_key_rotation(self):
        """A new key first and the old one after: the secrets still decrypt,
        the rotation re-encrypts them, then the old key can go; a legacy
        plain value is encrypted by the rotation"""
        pool = Pool()
        Shop = pool.get('web.shop')
        old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
        saved = config.get('omni', 'secret_key', default='')
        self.addCleanup(config.set, 'omni', 'secret_key', saved)
        config.set('omni', 'secret_key', old_key.decode())
        shop = self.create_shop()
        before = self.stored(Shop, shop, 'wechat_app_secret')
        table = Shop.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.wechatpay_apiv3_key], [self.fake.apiv3_key],
                where=table.id == shop.id))
        self.assertEqual(
            shop.get_secret('wechatpay_apiv3_key'), self.fake.apiv3_key)

        config.set('omni', 'secret_key', '%s, %s' % (
                new_key.decode(), old_key.decode()))
        self.assertEqual(
            shop.get_secret('wechat_app_secret'), self.fake.secret)
        self.assertGreaterEqual(secrets_at_rest.rotate_all()['web.shop'], 1)
        after = self.stored(Shop, shop, 'wechat_app_secret')
        self.assertNotEqual(after, before)
        self.assertTrue(self.stored(Shop, shop, 'wechatpay_apiv3_key')
            .startswith(secrets_at_rest.PREFIX))

        config.set('omni', 'secret_key', new_key.decode())
        self.assertEqual(
            shop.get_secret('wechat_app_secret'), self.fake.secret)
        self.assertEqual(
            shop.get_secret('wechatpay_apiv3_key'), self.fake.apiv3_key)
        self.fake.add_login('code-1', 'o-1')
        self.assertEqual(wechat.code_to_session(shop, 'code-1')['openid'],
            'o-1')
        config.set('omni', 'secret_key', old_key.decode())
        with self.assertRaises(SecretError):
            shop.get_secret('wechat_app_secret')

    @with_transaction()
    def test_secrets_not_shown(self):
        "Neither a shop's repr nor its validation errors show the secrets"
        Shop = Pool().get('web.shop')
        shop = self.create_shop()
        self.assertEqual(repr(shop), "Pool().get('web.shop')(%s)" % shop.id)
        unsaved = Shop(**self.fake.shop_values())
        for secret in self.secrets():
            self.assertNotIn(secret, repr(unsaved))
        self.assertIn(self.fake.appid, repr(unsaved))

        short_key = 'abcdefgh12345678'
        with self.assertRaises(ShopWeChatValidationError) as short:
            Shop.write([shop], {'wechatpay_apiv3_key': short_key})
        self.assertNotIn(short_key, self.error_text(short.exception))
        broken_pem = self.fake.settings['private_key'][:400]
        with self.assertRaises(ShopWeChatValidationError) as broken:
            Shop.write([shop], {'wechatpay_private_key': broken_pem})
        self.assertNotIn(broken_pem[30:80], self.error_text(broken.exception))
        with self.assertRaises(ShopWeChatValidationError):
            Shop.write([shop], {'wechatpay_public_key': broken_pem})
        with self.assertRaises(ShopWeChatValidationError):
            Shop.write([shop], {'wechatpay_public_key_id': None})

    def secrets(self):
        settings = self.fake.settings
        key_body = ''.join(settings['private_key'].splitlines()[1:-1])
        return [settings['secret'], settings['apiv3_key'], key_body[:64],
            key_body[-64:]]
