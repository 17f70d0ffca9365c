# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime
import math
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.rsa import (
    RSAPrivateKey,
    RSAPublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    load_pem_private_key,
    load_pem_public_key,
)
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from trytond.modules.omni_member_hub.secret import SecretMixin

from .exceptions import LimitError, ShopWeChatValidationError

# Readable and writable only by administrators (ir.model.field.access),
# stored encrypted and read back only as a mask
SECRET_FIELDS = {
    'wechat_app_secret', 'wechatpay_private_key', 'wechatpay_apiv3_key'}


def positive(name):
    "The domain of a limit: empty for none, else positive"
    return [['OR', (name, '=', None), (name, '>', 0)]]


def seconds(delta):
    "Whole seconds of the timedelta, at least 1"
    return max(math.ceil(delta.total_seconds()), 1)


class Shop(SecretMixin, metaclass=PoolMeta):
    __name__ = 'web.shop'
    _secret_fields = SECRET_FIELDS

    wechat_appid = fields.Char(
        "App ID", strip=True,
        help="The mini-program's AppID (小程序 AppID).")
    wechat_app_secret = fields.Char(
        "App Secret", strip=True,
        help="The mini-program's AppSecret.")
    wechatpay_mchid = fields.Char(
        "Merchant ID", strip=True,
        help="The WeChat Pay merchant ID (商户号).")
    wechatpay_serial_no = fields.Char(
        "Merchant Serial Number", strip=True,
        help="The serial number of the merchant API certificate.")
    wechatpay_private_key = fields.Text(
        "Merchant Private Key",
        help="The merchant API private key in PEM format "
        "(apiclient_key.pem).")
    wechatpay_apiv3_key = fields.Char(
        "APIv3 Key", strip=True,
        help="The 32 characters APIv3 key that encrypts notifications.")
    wechatpay_public_key = fields.Text(
        "WeChat Pay Public Key",
        help="The WeChat Pay public key in PEM format, which verifies "
        "WeChat Pay's answers and notifications.")
    wechatpay_public_key_id = fields.Char(
        "WeChat Pay Public Key ID", strip=True,
        help="The ID of the WeChat Pay public key (PUB_KEY_ID_...).")
    wechat_notify_url = fields.Char(
        "Notify Base URL", strip=True,
        help="The public HTTPS address of this server that WeChat Pay "
        "posts its notifications to.")
    mp_receipt_url = fields.Char(
        "Receipt Link Prefix", strip=True,
        help="The link prefix that opens the receipt page of the "
        "mini-program (扫普通链接二维码打开小程序), such as "
        "https://shop.example.com/mp/receipt: the tills' receipt QR code "
        "becomes this link with ?n=<number>.")
    pickup_discount = fields.Numeric(
        "Pickup Discount", digits=(16, 4),
        domain=[
            ['OR',
                ('pickup_discount', '=', None),
                [
                    ('pickup_discount', '>=', 0),
                    ('pickup_discount', '<', 1),
                    ],
                ],
            ],
        help="The discount on orders picked up in a store.")
    nearby_radius = fields.Float(
        "Nearby Radius", digits=(16, 1),
        domain=[
            ['OR',
                ('nearby_radius', '=', None),
                ('nearby_radius', '>', 0),
                ],
            ],
        help="In km: the mall tells whether stores within this distance "
        "have stock.")
    payment_time = fields.TimeDelta(
        "Payment Time", required=True,
        domain=[('payment_time', '>', datetime.timedelta(0))],
        help="How long the stock of an order is held for its payment.")
    wechat_template_pickup_ready = fields.Char(
        "Ready for Pickup Template", strip=True,
        help="The subscribe message template ID sent when an order is "
        "ready for pickup.")
    wechat_template_pickup_reminder = fields.Char(
        "Pickup Reminder Template", strip=True,
        help="The subscribe message template ID that reminds the member "
        "of an order waiting for pickup.")
    wechat_template_pickup_expiry = fields.Char(
        "Pickup Expiry Template", strip=True,
        help="The subscribe message template ID sent when a pickup order "
        "expires.")
    wechat_template_campaign = fields.Char(
        "Campaign Template", strip=True,
        help="The subscribe message template ID that tells a member of the "
        "coupon a targeted campaign gave him and of the nearby store that "
        "has the goods.")

    mp_rate_window = fields.TimeDelta(
        "Rate Limit Window", required=True,
        domain=[('mp_rate_window', '>', datetime.timedelta(0))],
        help="The rate limits count the requests of this window.")
    mp_login_rate_member = fields.Integer(
        "Logins per WeChat User", domain=positive('mp_login_rate_member'),
        help="The logins of a WeChat user (or member) in a window. "
        "Empty for no limit.")
    mp_login_rate_address = fields.Integer(
        "Logins per Address", domain=positive('mp_login_rate_address'),
        help="The logins from a client address in a window. "
        "Empty for no limit.")
    mp_order_rate_member = fields.Integer(
        "Orders per Member", domain=positive('mp_order_rate_member'),
        help="The orders a member places, or tries to, in a window. "
        "Empty for no limit.")
    mp_order_rate_address = fields.Integer(
        "Orders per Address", domain=positive('mp_order_rate_address'),
        help="The orders placed, or tried, from a client address in a "
        "window. Empty for no limit.")
    mp_coupon_rate_member = fields.Integer(
        "Coupon Claims per Member", domain=positive('mp_coupon_rate_member'),
        help="The coupon claims of a member in a window. "
        "Empty for no limit.")
    mp_coupon_rate_address = fields.Integer(
        "Coupon Claims per Address",
        domain=positive('mp_coupon_rate_address'),
        help="The coupon claims from a client address in a window. "
        "Empty for no limit.")
    mp_bonus_rate_member = fields.Integer(
        "Sign-ins and Shares per Member",
        domain=positive('mp_bonus_rate_member'),
        help="The sign-ins and shares of a member in a window. "
        "Empty for no limit.")
    mp_bonus_rate_address = fields.Integer(
        "Sign-ins and Shares per Address",
        domain=positive('mp_bonus_rate_address'),
        help="The sign-ins and shares from a client address in a window. "
        "Empty for no limit.")
    mp_max_unpaid_orders = fields.Integer(
        "Unpaid Orders per Member", domain=positive('mp_max_unpaid_orders'),
        help="The orders a member may have awaiting payment at once, each "
        "holding its stock. Empty for no limit.")
    mp_purchase_limit_order = fields.Integer(
        "Purchase Limit per Order",
        domain=positive('mp_purchase_limit_order'),
        help="The units of a product one order may have, unless the "
        "product sets its own. Empty for no limit.")
    mp_purchase_limit_member = fields.Integer(
        "Purchase Limit per Member",
        domain=positive('mp_purchase_limit_member'),
        help="The units of a product a member may order in the period, "
        "unless the product sets its own. Empty for no limit.")
    mp_purchase_limit_period = fields.TimeDelta(
        "Purchase Limit Period", required=True,
        domain=[('mp_purchase_limit_period', '>', datetime.timedelta(0))],
        help="The period over which the limit per member counts a "
        "member's orders, unless the product sets its own.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.type.selection.append(('mini_program', "WeChat Mini-Program"))

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('//page[@id="wechat"]', 'states', {
                    'invisible': Eval('type') != 'mini_program',
                    }),
            ('//page[@id="mall_limits"]', 'states', {
                    'invisible': Eval('type') != 'mini_program',
                    }),
            ]

    @classmethod
    def default_pickup_discount(cls):
        return Decimal('0.1')

    @classmethod
    def default_payment_time(cls):
        return datetime.timedelta(minutes=15)

    @classmethod
    def default_nearby_radius(cls):
        return 5.0

    @classmethod
    def default_mp_rate_window(cls):
        return datetime.timedelta(minutes=1)

    @classmethod
    def default_mp_login_rate_member(cls):
        return 10

    @classmethod
    def default_mp_login_rate_address(cls):
        return 60

    @classmethod
    def default_mp_order_rate_member(cls):
        return 10

    @classmethod
    def default_mp_order_rate_address(cls):
        return 60

    @classmethod
    def default_mp_coupon_rate_member(cls):
        return 10

    @classmethod
    def default_mp_coupon_rate_address(cls):
        return 60

    @classmethod
    def default_mp_bonus_rate_member(cls):
        return 10

    @classmethod
    def default_mp_bonus_rate_address(cls):
        return 60

    @classmethod
    def default_mp_max_unpaid_orders(cls):
        return 2

    @classmethod
    def default_mp_purchase_limit_period(cls):
        return datetime.timedelta(days=30)

    def __repr__(self):
        if self.id is None or self.id < 0:
            values = {
                name: '***' if name in SECRET_FIELDS else value
                for name, value in self._default_values.items()}
            return "Pool().get('%s')(**%r)" % (self.__name__, values)
        return super().__repr__()

    @classmethod
    def validate_fields(cls, shops, field_names):
        super().validate_fields(shops, field_names)
        cls.check_wechatpay_keys(shops, field_names)

    @classmethod
    def check_wechatpay_keys(cls, shops, field_names=None):
        if field_names and not (field_names & {
                    'wechatpay_private_key', 'wechatpay_apiv3_key',
                    'wechatpay_public_key', 'wechatpay_public_key_id'}):
            return
        for shop in shops:
            apiv3_key = shop.get_secret('wechatpay_apiv3_key')
            if apiv3_key and len(apiv3_key.encode()) != 32:
                raise ShopWeChatValidationError(gettext(
                        'omni_miniprogram.msg_shop_apiv3_key_length',
                        shop=shop.rec_name))
            for name, loader, type_, message in [
                    ('wechatpay_private_key', _load_private_key,
                        RSAPrivateKey, 'msg_shop_private_key_invalid'),
                    ('wechatpay_public_key', load_pem_public_key,
                        RSAPublicKey, 'msg_shop_public_key_invalid'),
                    ]:
                pem = (shop.get_secret(name) if name in SECRET_FIELDS
                    else getattr(shop, name))
                if pem and not isinstance(_load_pem(loader, pem), type_):
                    raise ShopWeChatValidationError(gettext(
                            'omni_miniprogram.' + message,
                            shop=shop.rec_name))
            if (bool(shop.wechatpay_public_key)
                    != bool(shop.wechatpay_public_key_id)):
                raise ShopWeChatValidationError(gettext(
                        'omni_miniprogram.msg_shop_public_key_id_missing',
                        shop=shop.rec_name))

    def mp_check_limits(self, member, quantities, lock=False):
        """Refuse an order of the member for {product: quantity} over the
        shop's unpaid orders per member or the products' purchase limits
        by raising LimitError.  With lock, the member's orders wait for
        each other until the end of the transaction, so that concurrent
        orders count each other."""
        Sale = Pool().get('sale.sale')
        if lock:
            self._mp_lock_member(member)
        now = datetime.datetime.now()
        if self.mp_max_unpaid_orders:
            unpaid = Sale.search([
                    ('party', '=', member.id),
                    ('web_shop', '=', self.id),
                    ('state', 'in', ['draft', 'quotation']),
                    ('paid_at', '=', None),
                    ('mp_pay_deadline', '>', now),
                    ], order=[('mp_pay_deadline', 'ASC')])
            if len(unpaid) >= self.mp_max_unpaid_orders:
                limit = self.mp_max_unpaid_orders
                raise LimitError(gettext(
                        'omni_miniprogram.msg_too_many_unpaid_orders',
                        limit=limit),
                    'too_many_unpaid_orders',
                    retry_after=seconds(unpaid[0].mp_pay_deadline - now),
                    details={
                        'limit': limit,
                        'orders': [s.id for s in unpaid],
                        })
        for product, quantity in quantities.items():
            self._mp_check_purchase_limits(member, product, quantity, now)

    def _mp_check_purchase_limits(self, member, product, quantity, now):
        pool = Pool()
        Sale = pool.get('sale.sale')
        Line = pool.get('sale.line')
        per_order, per_member, period = (
            product.template.mp_purchase_limits(self))
        details = {'product': {'id': product.id, 'name': product.name}}
        limits = [n for n in [per_order, per_member] if n]
        if limits and quantity > min(limits):
            # Waiting does not help: fewer units do
            raise LimitError(gettext(
                    'omni_miniprogram.msg_quantity_limit',
                    product=product.name, limit=min(limits)),
                'quantity_limit', details=dict(details, limit=min(limits)))
        if not per_member:
            return
        # Every order of the period counts but those refunded after they
        # were paid: an unpaid order that lapsed or was cancelled held the
        # stock all the same
        lines = Line.search([
                ('product', '=', product.id),
                ('quantity', '>', 0),
                ('sale.party', '=', member.id),
                ('sale.web_shop', '=', self.id),
                ('sale.create_date', '>=', now - period),
                ['OR',
                    ('sale.state', '!=', 'cancelled'),
                    ('sale.paid_at', '=', None),
                    ],
                ])
        taken = Sale.search([
                ('party', '=', member.id),
                ('web_shop', '=', self.id),
                ('mp_build', '!=', None),
                ('create_date', '>=', now - period),
                ])
        # The orders taken but not built yet count with their cart
        bought = sum(line.quantity for line in lines) + sum(
            values['quantity'] for sale in taken
            for values in sale.mp_cart['lines']
            if values.get('product') == product.id)
        if bought + quantity > per_member:
            first = min(s.create_date for s in [
                    *(line.sale for line in lines), *taken])
            raise LimitError(gettext(
                    'omni_miniprogram.msg_purchase_limit',
                    product=product.name, limit=per_member, bought=bought),
                'purchase_limit',
                retry_after=seconds(first + period - now),
                details=dict(details, limit=per_member, bought=bought))

    @classmethod
    def _mp_lock_member(cls, member):
        """Lock the member's row by writing it: on PostgreSQL the order
        of the member that committed since this transaction began makes the
        write fail with a serialization error, and the request is retried
        on a snapshot that sees that order"""
        Party = Pool().get('party.party')
        party = Party.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*party.update(
                [party.write_date], [party.write_date],
                where=party.id == member.id))


def _load_private_key(data):
    return load_pem_private_key(data, password=None)


def _load_pem(loader, text):
    "Return the key of the PEM text or None (never the error: it quotes it)"
    try:
        return loader(text.strip().encode())
    except (ValueError, TypeError):
        return None
