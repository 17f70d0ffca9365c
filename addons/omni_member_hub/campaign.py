# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Targeted campaigns: members who bought category A in channel X within N
days and never bought category B in channel Y get a coupon for B and a
message naming a store.

`marketing_automation` is not used: its scenarios select records with a
stored domain and act by e-mail, while this rule compares purchases across
two sale models and acts by issuing a coupon.  POS sales with a member are
channel 'pos'; sale.sale orders of a member are channel 'mall'."""
import datetime

from sql import Null
from sql.operators import NotIn
from trytond import backend
from trytond.i18n import gettext
from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval, PYSONEncoder
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction

from .exceptions import CampaignError

SALE_CHANNELS = [
    ('pos', "POS"),
    ('mall', "Mall"),
    ]


class TargetCampaign(DeactivableMixin, ModelSQL, ModelView):
    "Targeted Campaign"
    __name__ = 'member.target_campaign'

    name = fields.Char("Name", required=True)
    company = fields.Many2One('company.company', "Company", required=True)
    bought_category = fields.Many2One(
        'product.category', "Bought Category", required=True,
        help="The members bought goods of this category (A).")
    bought_channel = fields.Selection(
        SALE_CHANNELS, "Bought in", required=True)
    days = fields.Integer(
        "Within Days", required=True,
        domain=[('days', '>', 0)],
        help="How many days back the purchase of category A counts.")
    not_bought_category = fields.Many2One(
        'product.category', "Never Bought Category", required=True,
        help="The members never bought goods of this category (B).")
    not_bought_channel = fields.Selection(
        SALE_CHANNELS, "Never Bought in", required=True)
    coupon = fields.Many2One(
        'sale.promotion.coupon', "Coupon", required=True,
        domain=[('company', '=', Eval('company', -1))],
        help="The coupon for category B issued to each member.")
    issues = fields.One2Many(
        'member.target_campaign.issue', 'campaign', "Issues", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'preview': {},
                'run_now': {},
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_days(cls):
        return 30

    @classmethod
    def _buyers(cls, channel, category, since=None):
        """Return the query of the members who bought goods of the
        category in the channel since the date"""
        pool = Pool()
        Product = pool.get('product.product')
        products = [p.id for p in Product.search([
                    ('template.categories', 'child_of', [category.id],
                        'parent'),
                    ], order=[])]
        if channel == 'pos':
            Sale = pool.get('sale.point.sale')
            Line = pool.get('sale.point.sale.line')
            sale, line = Sale.__table__(), Line.__table__()
            member = sale.member
            date = sale.date
            states = ['done', 'posted']
        else:
            Sale = pool.get('sale.sale')
            Line = pool.get('sale.line')
            Party = pool.get('party.party')
            sale, line = Sale.__table__(), Line.__table__()
            party = Party.__table__()
            member = sale.party
            date = sale.sale_date
            states = ['confirmed', 'processing', 'done']
        query = sale.join(line, condition=line.sale == sale.id)
        where = (sale.state.in_(states)
            & (member != Null)
            & reduce_ids(line.product, products))
        if channel == 'mall':
            query = query.join(party, condition=sale.party == party.id)
            where &= party.member_number != Null
        if since:
            where &= date >= since
        return query.select(member, where=where, distinct=True)

    def get_members(self):
        """Return the members the rule matches now who have not been
        issued the campaign's coupon yet"""
        pool = Pool()
        Date = pool.get('ir.date')
        Issue = pool.get('member.target_campaign.issue')
        Party = pool.get('party.party')
        party = Party.__table__()
        issue = Issue.__table__()
        since = Date.today() - datetime.timedelta(days=self.days)
        bought = self._buyers(
            self.bought_channel, self.bought_category, since)
        never = self._buyers(
            self.not_bought_channel, self.not_bought_category)
        issued = issue.select(
            issue.member, where=issue.campaign == self.id)
        cursor = Transaction().connection.cursor()
        cursor.execute(*party.select(party.id,
                where=party.id.in_(bought)
                & NotIn(party.id, never)
                & NotIn(party.id, issued),
                order_by=[party.id]))
        return Party.browse([i for i, in cursor])

    @classmethod
    @ModelView.button_action('omni_member_hub.act_target_campaign_preview')
    def preview(cls, campaigns):
        "Open the members the campaigns would issue a coupon to now"
        members = {m.id for c in campaigns for m in c.get_members()}
        return {
            'pyson_domain': PYSONEncoder().encode(
                [('id', 'in', sorted(members))]),
            }

    @classmethod
    @ModelView.button
    def run_now(cls, campaigns):
        cls.run(campaigns)

    @classmethod
    def run(cls, campaigns=None):
        """Issue the coupon and queue the message to the matching members
        of the active campaigns; never twice for a member and campaign"""
        if campaigns is None:
            campaigns = cls.search([('active', '=', True)])
        for campaign in campaigns:
            if not campaign.active:
                raise CampaignError(gettext(
                        'omni_member_hub.msg_target_campaign_inactive',
                        campaign=campaign.rec_name))
            campaign.issue(campaign.get_members())

    def issue(self, members):
        pool = Pool()
        Coupon = pool.get('sale.promotion.coupon')
        Issue = pool.get('member.target_campaign.issue')
        Notification = pool.get('member.notification')
        products = self.not_bought_products()
        issues = []
        for sub_members in grouped_slice(
                members, backend.MAX_QUERY_PARAMS):
            numbers = Coupon.push(
                self.coupon, list(sub_members), how='campaign')
            for number in numbers:
                store = self.store_for(number.party, products)
                issue = Issue(
                    campaign=self, member=number.party, number=number,
                    store=store)
                issue.save()
                issue.notification = Notification.queue(
                    number.party, 'campaign',
                    issue.notification_data(),
                    key='target_campaign-%d' % self.id, origin=issue)
                issues.append(issue)
        Issue.save(issues)
        return issues

    def not_bought_products(self):
        Product = Pool().get('product.product')
        return Product.search([
                ('template.categories', 'child_of',
                    [self.not_bought_category.id], 'parent'),
                ])

    @classmethod
    def store_for(cls, member, products):
        """Return the store to name in the member's message for the
        products: the member's join store"""
        return member.member_join_store


class TargetCampaignIssue(ModelSQL, ModelView):
    "Targeted Campaign Issue"
    __name__ = 'member.target_campaign.issue'

    campaign = fields.Many2One(
        'member.target_campaign', "Campaign", required=True,
        ondelete='CASCADE', readonly=True)
    member = fields.Many2One(
        'party.party', "Member", required=True, ondelete='CASCADE',
        readonly=True)
    number = fields.Many2One(
        'sale.promotion.coupon.number', "Coupon Number", readonly=True,
        ondelete='RESTRICT')
    store = fields.Many2One(
        'stock.location', "Store", readonly=True, ondelete='SET NULL',
        help="The store named in the message.")
    notification = fields.Many2One(
        'member.notification', "Notification", readonly=True,
        ondelete='SET NULL')
    date = fields.DateTime("Date", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('campaign_member_unique', Unique(t, t.campaign, t.member),
                'omni_member_hub.msg_target_campaign_issue_unique'),
            ]
        cls._order.insert(0, ('date', 'DESC'))

    @classmethod
    def default_date(cls):
        return datetime.datetime.now()

    def notification_data(self):
        "Return the data the message template is filled with"
        number = self.number
        return {
            'campaign': self.campaign.name,
            'coupon': number.coupon.rec_name,
            'number': number.number,
            'end_date': number.end_date,
            'store': self.store.name if self.store else None,
            'store_id': self.store.id if self.store else None,
            }
