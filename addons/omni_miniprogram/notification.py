# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The member's pickup and campaign messages, sent as WeChat subscribe
messages."""
import datetime

from trytond.pool import Pool, PoolMeta

from . import wechat

# The shop's template field of each kind. The pickup templates' data keys:
# 订单号 character_string1, 门店 thing2, then 截止时间 time3 or 金额 amount3;
# the campaign's: 优惠券 thing1, 有货门店 thing2, 有效期至 date3
TEMPLATES = {
    'pickup_ready': 'wechat_template_pickup_ready',
    'pickup_reminder': 'wechat_template_pickup_reminder',
    'pickup_expired': 'wechat_template_pickup_expiry',
    'campaign': 'wechat_template_campaign',
    }
ORDER_PAGE = 'pages/order/index?id=%s'
COUPONS_PAGE = 'pages/coupons/index'
# WeChat takes at most 20 characters for a thing
THING = 20


class Notification(metaclass=PoolMeta):
    __name__ = 'member.notification'

    def mp_recipient(self):
        """Return the shop, the openid and the template that deliver the
        message through the mini-program, or None"""
        pool = Pool()
        Identity = pool.get('party.wechat_identity')
        Shop = pool.get('web.shop')
        field = TEMPLATES.get(self.kind)
        if not field:
            return None
        for shop in Shop.search([
                    ('type', '=', 'mini_program'),
                    (field, '!=', None),
                    ], order=[('id', 'ASC')]):
            identities = Identity.search([
                    ('party', '=', self.member.id),
                    ('appid', '=', shop.wechat_appid),
                    ], limit=1)
            if identities:
                return shop, identities[0].openid, getattr(shop, field)
        return None

    @property
    def deliverable(self):
        return super().deliverable or bool(self.mp_recipient())

    def mp_values(self):
        "The template data of the message"
        data = self.data
        store = data.get('store') or ''
        if self.kind == 'campaign':
            return {
                'thing1': (data.get('coupon') or '')[:THING],
                'thing2': store[:THING],
                'date3': str(data.get('end_date') or ''),
                }
        if self.origin and getattr(self.origin, 'pickup_store', None):
            store = self.origin.pickup_store.name
        values = {
            'character_string1': data.get('sale') or '',
            'thing2': store[:THING],
            }
        if self.kind == 'pickup_expired':
            values['amount3'] = '¥%s' % data.get('amount', '')
        else:
            deadline = data.get('deadline') or ''
            try:
                deadline = datetime.datetime.fromisoformat(deadline)
            except ValueError:
                pass
            else:
                deadline = wechat.china_time(deadline).strftime(
                    '%Y-%m-%d %H:%M')
            values['time3'] = deadline
        return values

    def _deliver(self):
        recipient = self.mp_recipient()
        if not recipient:
            return super()._deliver()
        shop, openid, template = recipient
        page = None
        if self.kind == 'campaign':
            page = COUPONS_PAGE
        elif self.origin and self.origin.__name__ == 'sale.sale':
            page = ORDER_PAGE % self.origin.id
        wechat.send_subscribe_message(
            shop, openid, template, self.mp_values(), page=page)
