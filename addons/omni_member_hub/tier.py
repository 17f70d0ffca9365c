# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Member tiers from the paid spend of the last 12 months in every
channel, net of refunds.  A paid order upgrades at once; the nightly cron
downgrades the members whose old orders aged out."""
import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from trytond.model import (
    DeactivableMixin,
    Index,
    ModelSQL,
    ModelView,
    fields,
    sequence_ordered,
)
from trytond.pool import Pool
from trytond.transaction import without_check_access

SPEND_MONTHS = 12


class Tier(DeactivableMixin, sequence_ordered(), ModelSQL, ModelView):
    "Member Tier"
    __name__ = 'member.tier'

    name = fields.Char("Name", required=True, translate=True)
    threshold = fields.Numeric(
        "Threshold", digits=(16, 2), required=True,
        domain=[('threshold', '>=', 0)],
        help="The paid spend of the last 12 months that reaches the tier.")
    discount = fields.Numeric(
        "Discount %", digits=(16, 2), required=True,
        domain=[('discount', '>=', 0), ('discount', '<', 100)],
        help="Taken off the price at the POS and in the mall.")
    points_multiplier = fields.Numeric(
        "Points Multiplier", digits=(16, 2), required=True,
        domain=[('points_multiplier', '>=', 0)],
        help="Multiplies the points that purchases earn.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('threshold', 'ASC'))

    @classmethod
    def default_threshold(cls):
        return Decimal(0)

    @classmethod
    def default_discount(cls):
        return Decimal(0)

    @classmethod
    def default_points_multiplier(cls):
        return Decimal(1)

    @classmethod
    def discount_of(cls, member):
        "Return the member's discount as a rate (0.05 for 5%)"
        if member and member.member_tier:
            return member.member_tier.discount / 100
        return Decimal(0)

    @classmethod
    def multiplier_of(cls, member):
        "Return the member's points multiplier"
        if member and member.member_tier:
            return member.member_tier.points_multiplier
        return Decimal(1)

    @classmethod
    def for_spend(cls, spend):
        "Return the highest active tier that the spend reaches or None"
        tiers = cls.search([('threshold', '<=', spend)])
        return tiers[-1] if tiers else None

    @classmethod
    def spend_of(cls, member, at=None):
        """Return the member's paid amount over the 12 months before at,
        in every channel, net of refunds"""
        pool = Pool()
        POSSale = pool.get('sale.point.sale')
        Sale = pool.get('sale.sale')
        today = at or pool.get('ir.date').today()
        since = today - relativedelta(months=SPEND_MONTHS)
        pos_sales = POSSale.search([
                ('member', '=', member.id),
                ('state', 'in', ['done', 'posted']),
                ('date', '>', since),
                ('date', '<=', today),
                ])
        sales = Sale.search([
                ('party', '=', member.id),
                ('state', 'in', ['processing', 'done']),
                ('sale_date', '>', since),
                ('sale_date', '<=', today),
                ])
        return (sum((s.amount_paid_in_money for s in pos_sales), Decimal(0))
            + sum((s.total_amount for s in sales), Decimal(0)))

    @classmethod
    def upgrade_members(cls, members):
        "Move the members up to the tier their spend reaches now"
        cls._update(members, downgrade=False)

    @classmethod
    def update_members(cls, members):
        "Move the members to the tier of their spend, up or down"
        cls._update(members, downgrade=True)

    @classmethod
    def downgrade_members(cls, date=None):
        """Cron: move down the members whose spend of the 12 months before
        date (today) dropped below their tier"""
        Party = Pool().get('party.party')
        cls._update(
            Party.search([('member_tier', '!=', None)]), downgrade=True,
            date=date)

    @classmethod
    @without_check_access
    def _update(cls, members, downgrade, date=None):
        pool = Pool()
        Party = pool.get('party.party')
        History = pool.get('member.tier.history')
        histories, to_write = [], []
        for member in members:
            if not member.is_member:
                continue
            spend = cls.spend_of(member, date)
            tier = cls.for_spend(spend)
            previous = member.member_tier
            if tier == previous:
                continue
            upgrade = (previous is None
                or (tier is not None and tier.threshold > previous.threshold))
            if not upgrade and not downgrade:
                continue
            to_write.extend(([member], {'member_tier': tier}))
            histories.append(History(
                    member=member, tier=tier, previous=previous,
                    reason='upgrade' if upgrade else 'downgrade',
                    spend=spend, date=datetime.datetime.now()))
        if to_write:
            Party.write(*to_write)
            History.save(histories)


class TierHistory(ModelSQL, ModelView):
    "Member Tier History"
    __name__ = 'member.tier.history'

    member = fields.Many2One(
        'party.party', "Member", required=True, readonly=True,
        ondelete='CASCADE')
    tier = fields.Many2One(
        'member.tier', "Tier", readonly=True, ondelete='RESTRICT')
    previous = fields.Many2One(
        'member.tier', "Previous Tier", readonly=True, ondelete='RESTRICT')
    date = fields.DateTime("Date", required=True, readonly=True)
    reason = fields.Selection([
            ('upgrade', "Upgrade"),
            ('downgrade', "Downgrade"),
            ], "Reason", required=True, readonly=True)
    spend = fields.Numeric(
        "Spend", digits=(16, 2), required=True, readonly=True,
        help="The paid spend of the last 12 months that decided.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.member, Index.Equality())))
        cls._order.insert(0, ('date', 'DESC'))
        cls._order.insert(1, ('id', 'DESC'))
