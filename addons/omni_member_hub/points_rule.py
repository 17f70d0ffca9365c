# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The rules that say how many points each channel's sales earn, and for
which products and categories"""
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields

from .points import CHANNELS


class PointsRule(DeactivableMixin, ModelSQL, ModelView):
    "Member Points Rule"
    __name__ = 'member.points.rule'

    channel = fields.Selection(CHANNELS, "Channel", required=True)
    channel_string = channel.translated('channel')
    points_per_yuan = fields.Numeric(
        "Points per Yuan", digits=(16, 4), required=True,
        domain=[('points_per_yuan', '>=', 0)],
        help="The points that ¥1 paid earns, before the tier multiplier.")
    rounding = fields.Selection([
            ('down', "Down"),
            ('half_up', "Half Up"),
            ], "Rounding", required=True,
        help="How fractions of a point are rounded.")
    excluded_categories = fields.Many2Many(
        'member.points.rule-excluded-product.category', 'rule', 'category',
        "Excluded Categories",
        help="Products of these categories earn no points.")
    excluded_products = fields.Many2Many(
        'member.points.rule-excluded-product.product', 'rule', 'product',
        "Excluded Products", help="These products earn no points.")

    @classmethod
    def default_points_per_yuan(cls):
        return Decimal(1)

    @classmethod
    def default_rounding(cls):
        return 'down'

    def get_rec_name(self, name):
        return self.channel_string

    @classmethod
    def of_channel(cls, channel):
        rules = cls.search([('channel', '=', channel)], limit=1)
        return rules[0] if rules else None

    def excludes(self, product):
        if product in self.excluded_products:
            return True
        categories = set(self.excluded_categories)
        for category in getattr(product, 'categories_all', []):
            while category:
                if category in categories:
                    return True
                category = category.parent
        return False

    def eligible(self, amount, lines=None):
        """Return the part of amount that earns points: when lines, the
        (product, amount) pairs that amount paid, in proportion of the
        lines that are not excluded"""
        if not lines:
            return amount
        lines = list(lines)
        total = sum((a for _, a in lines), Decimal(0))
        if not total:
            return Decimal(0)
        included = sum(
            (a for p, a in lines if not self.excludes(p)), Decimal(0))
        return amount * included / total

    def points(self, amount, multiplier=1):
        value = Decimal(amount) * self.points_per_yuan * Decimal(multiplier)
        rounding = ROUND_DOWN if self.rounding == 'down' else ROUND_HALF_UP
        return int(value.quantize(Decimal(1), rounding=rounding))


class PointsRuleCategory(ModelSQL):
    "Member Points Rule - Excluded Category"
    __name__ = 'member.points.rule-excluded-product.category'
    rule = fields.Many2One(
        'member.points.rule', "Rule", required=True, ondelete='CASCADE')
    category = fields.Many2One(
        'product.category', "Category", required=True, ondelete='CASCADE')


class PointsRuleProduct(ModelSQL):
    "Member Points Rule - Excluded Product"
    __name__ = 'member.points.rule-excluded-product.product'
    rule = fields.Many2One(
        'member.points.rule', "Rule", required=True, ondelete='CASCADE')
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='CASCADE')
