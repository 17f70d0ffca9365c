# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The revenue of the sales that redeemed each coupon, by coupon and store"""
from decimal import Decimal

from sql import Literal, Null
from sql.aggregate import Sum
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from trytond.modules.currency.fields import Monetary

from .reporting import (
    DrillDownMixin,
    in_values,
)


class CouponRevenueMixin(DrillDownMixin):
    __slots__ = ()

    revenue = fields.Function(Monetary(
            "Revenue", currency='currency', digits='currency',
            help="The untaxed revenue of the orders that used the coupons."),
        'get_revenue')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_currency')

    def _revenue_row(self):
        return (self.coupon.id,)

    @classmethod
    def redeemed_orders(cls):
        """Return a query of the coupon, store and origin of the live
        redemptions of the period"""
        pool = Pool()
        Number = pool.get('sale.promotion.coupon.number')
        Redemption = pool.get('sale.promotion.coupon.redemption')
        redemption = Redemption.__table__()
        number = Number.__table__()
        return redemption.join(number,
            condition=redemption.number == number.id).select(
                number.coupon, redemption.store, redemption.origin,
                where=(redemption.state == 'done')
                & (redemption.origin != Null)
                & cls._in_period(redemption.date))

    @classmethod
    def get_revenue(cls, statistics, name):
        pool = Pool()
        Line = pool.get('insights.line')
        context = Transaction().context
        result = dict.fromkeys(map(int, statistics), Decimal(0))
        rows = {s._revenue_row(): s.id for s in statistics}
        orders = cls.redeemed_orders()
        lines = Line.lines(context.get('company'), filtered=False)
        keys = [getattr(orders, c) for c in cls._revenue_columns()]
        # Only the orders of the rows read, so that the database looks their
        # lines up rather than scanning them all
        where = Literal(True)
        for i, key in enumerate(keys):
            where &= in_values(key, {r[i] for r in rows})
        cursor = Transaction().connection.cursor()
        cursor.execute(*orders.join(lines,
                condition=orders.origin == lines.order).select(
                *keys, Sum(lines.revenue), where=where, group_by=keys))
        for *key, revenue in cursor:
            if tuple(key) in rows:
                statistic = cls(rows[tuple(key)])
                result[statistic.id] = statistic.currency.round(
                    Decimal(str(revenue)))
        return result

    @classmethod
    def _revenue_columns(cls):
        return ['coupon']

    def get_currency(self, name):
        return self.coupon.currency.id if self.coupon.currency else None

    def get_document_domain(self):
        return [('order', 'in', [o for o, in self._redeemed_origins()])]

    def _redeemed_origins(self):
        orders = self.redeemed_orders()
        cursor = Transaction().connection.cursor()
        where = Literal(True)
        for name, value in zip(
                self._revenue_columns(), self._revenue_row(), strict=True):
            where &= getattr(orders, name) == value
        cursor.execute(*orders.select(orders.origin, where=where))
        return cursor


class CouponStatistic(CouponRevenueMixin, metaclass=PoolMeta):
    __name__ = 'sale.promotion.coupon.statistic'


class CouponStoreStatistic(CouponRevenueMixin, metaclass=PoolMeta):
    __name__ = 'sale.promotion.coupon.statistic.store'

    @classmethod
    def _revenue_columns(cls):
        return ['coupon', 'store']

    def _revenue_row(self):
        return (self.coupon.id, self.store.id if self.store else None)
