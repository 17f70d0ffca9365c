# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Purchase limits (限购) of a product in the mall."""
import datetime

from trytond.model import fields
from trytond.pool import PoolMeta

from .shop import positive


class Template(metaclass=PoolMeta):
    __name__ = 'product.template'

    mp_purchase_limit_order = fields.Integer(
        "Purchase Limit per Order",
        domain=positive('mp_purchase_limit_order'),
        help="The units of the product one mall order may have. "
        "Empty for the shop's limit.")
    mp_purchase_limit_member = fields.Integer(
        "Purchase Limit per Member",
        domain=positive('mp_purchase_limit_member'),
        help="The units of the product a member may order in the mall "
        "over the period. Empty for the shop's limit.")
    mp_purchase_limit_period = fields.TimeDelta(
        "Purchase Limit Period",
        domain=['OR',
            ('mp_purchase_limit_period', '=', None),
            ('mp_purchase_limit_period', '>', datetime.timedelta(0)),
            ],
        help="The period of the limit per member. "
        "Empty for the shop's period.")

    def mp_purchase_limits(self, shop):
        """Return the units one order may have, the units a member may
        order over the period and the period, the product's own else the
        shop's"""
        def first(*values):
            return next((v for v in values if v is not None), None)
        return (
            first(self.mp_purchase_limit_order, shop.mp_purchase_limit_order),
            first(
                self.mp_purchase_limit_member, shop.mp_purchase_limit_member),
            first(
                self.mp_purchase_limit_period, shop.mp_purchase_limit_period))
