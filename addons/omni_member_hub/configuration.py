# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "Member Configuration"
    __name__ = 'member.configuration'

    points_redeem_rate = fields.Integer(
        "Points per Yuan Redeemed", required=True,
        domain=[('points_redeem_rate', '>', 0)],
        help="How many points pay ¥1.")
    points_redeem_cap = fields.Numeric(
        "Redeem Cap %", digits=(16, 2), required=True,
        domain=[
            ('points_redeem_cap', '>=', 0),
            ('points_redeem_cap', '<=', 100),
            ],
        help="The largest part of an order that points may pay.")
    points_validity = fields.Integer(
        "Points Validity (Months)", required=True,
        domain=[('points_validity', '>', 0)],
        help="Each award expires this many months after it was earned.")
    points_product = fields.Many2One(
        'product.product', "Points Discount Product",
        domain=[('type', '=', 'service')],
        help="The service sold at a negative price when points pay part "
        "of a mall order.")
    sign_in_points = fields.Integer(
        "Sign-in Points", required=True,
        domain=[('sign_in_points', '>=', 0)],
        help="Awarded once a day when the member signs in "
        "in the mini-program.")
    share_points = fields.Integer(
        "Share Points", required=True,
        domain=[('share_points', '>=', 0)],
        help="Awarded when the member shares from the mini-program.")
    share_daily_cap = fields.Integer(
        "Share Daily Cap", required=True,
        domain=[('share_daily_cap', '>=', 0)],
        help="The most points that shares earn a member in a day.")

    @classmethod
    def default_points_redeem_rate(cls):
        return 100

    @classmethod
    def default_points_redeem_cap(cls):
        return 50

    @classmethod
    def default_points_validity(cls):
        return 12

    @classmethod
    def default_sign_in_points(cls):
        return 5

    @classmethod
    def default_share_points(cls):
        return 10

    @classmethod
    def default_share_daily_cap(cls):
        return 30
