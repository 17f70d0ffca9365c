# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import fields
from trytond.pool import PoolMeta

from trytond.modules.omni_miniprogram.shop import SECRET_FIELDS


class Shop(metaclass=PoolMeta):
    __name__ = 'web.shop'
    _secret_fields = SECRET_FIELDS | {'wechatpay_v2_key'}

    wechatpay_v2_key = fields.Char(
        "APIv2 Key", strip=True,
        help="The merchant's WeChat Pay API key of version 2, which signs "
        "the tills' payment-code charges.")
    wechatpay_api_cert = fields.Text(
        "API Certificate",
        help="The merchant's API certificate (apiclient_cert.pem) of the "
        "merchant private key, which WeChat Pay asks for to reverse a "
        "payment-code charge.")
