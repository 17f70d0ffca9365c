# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The member centre of the mall: points, tier, daily bonuses and coupons,
read from and written to member_hub's ledgers."""
from trytond.transaction import Transaction

from trytond.modules.omni_member_hub.exceptions import CouponError

from .api import ApiError, route
from .catalog import money


def utc(value):
    "Return the ISO form of a naive UTC datetime as Tryton stores them"
    return value.isoformat() + 'Z'


def iso_date(value):
    return value.isoformat() if value else None


def name_of(record):
    return record.name if record else None


def page_of(request):
    "Return the page, its size and the offset of its first record"
    page = request.query.get('page', 1)
    per_page = request.query.get('per_page', 20)
    return page, per_page, (page - 1) * per_page


@route('/me/points')
def points(request):
    "The member's balance and points history, newest first"
    Entry = request.pool.get('member.points.entry')
    member = request.session.require_member()
    page, per_page, offset = page_of(request)
    domain = [('member', '=', member.id)]
    entries = Entry.search(domain, offset=offset, limit=per_page)
    return {
        'balance': Entry.balance(member),
        'value_per_100': money(Entry.points_value(100)),
        'redeem_cap_percent': money(Entry._config().points_redeem_cap),
        'entries': [{
                'id': e.id,
                'type': e.type,
                'bonus': e.bonus_reason,
                'points': e.points,
                'channel': e.channel,
                'store': name_of(e.store),
                'date': utc(e.date),
                'expires_on': iso_date(e.expires_on),
                'description': e.description,
                } for e in entries],
        'page': page,
        'per_page': per_page,
        'total': Entry.search_count(domain),
        }


@route('/me/tier')
def tier(request):
    """The member's tier, the spend of the last 12 months that decides it,
    the tier above and what is missing to reach it, and the changes so
    far"""
    pool = request.pool
    History = pool.get('member.tier.history')
    Tier = pool.get('member.tier')
    member = request.session.require_member()
    current = member.member_tier
    spend = Tier.spend_of(member)
    higher = Tier.search(
        [('threshold', '>', current.threshold)] if current else [], limit=1)
    return {
        'tier': {
            'name': current.name,
            'discount_percent': money(current.discount),
            'points_multiplier': money(current.points_multiplier),
            } if current else None,
        'spend_12m': money(spend),
        'next': {
            'name': higher[0].name,
            'threshold': money(higher[0].threshold),
            'missing': money(max(higher[0].threshold - spend, 0)),
            } if higher else None,
        'history': [{
                'tier': name_of(h.tier),
                'previous': name_of(h.previous),
                'reason': h.reason,
                'date': utc(h.date),
                } for h in History.search([('member', '=', member.id)])],
        }


def award_bonus(request, reason):
    "Award the bonus of the day and return the points awarded and balance"
    pool = request.pool
    Date = pool.get('ir.date')
    Entry = pool.get('member.points.entry')
    member = request.session.require_member()
    # The route runs in the shop company's context: its day
    entry = Entry.bonus(member, reason, Date.today())
    return entry.points if entry else 0, Entry.balance(member)


@route('/me/sign-in', 'POST', limit='bonus')
def sign_in(request):
    "Sign in for the day: the bonus once, 0 points on the next calls"
    awarded, balance = award_bonus(request, 'sign_in')
    return {'awarded': awarded, 'balance': balance, 'signed_in_today': True}


@route('/me/share', 'POST', limit='bonus')
def share(request):
    "Points for sharing from the mini-program, up to the daily cap"
    awarded, balance = award_bonus(request, 'share')
    return {'awarded': awarded, 'balance': balance}


def centre_coupons(request, domain):
    """Return the coupons of the shop's company that members claim in the
    mall, within domain: those with a fixed discount, but for the coupons
    of targeted campaigns, which are issued to the members they target"""
    pool = request.pool
    Campaign = pool.get('member.target_campaign')
    Coupon = pool.get('sale.promotion.coupon')
    targeted = Campaign.search([('active', 'in', [True, False])])
    return Coupon.search([
            ('company', '=', request.shop.company.id),
            ('discount_amount', '!=', None),
            ('id', 'not in', [c.coupon.id for c in targeted]),
            *domain,
            ], order=[('id', 'ASC')])


@route('/coupons')
def coupon_centre(request):
    "The coupons of running campaigns, with how many the member holds"
    Date = request.pool.get('ir.date')
    member = request.session.require_member()
    today = Date.today()
    coupons = centre_coupons(request, [
            ('promotion.active', '=', True),
            ['OR',
                ('promotion.end_date', '=', None),
                ('promotion.end_date', '>=', today),
                ],
            ])
    items = []
    for coupon in coupons:
        promotion, limit = coupon.promotion, coupon.limit_per_member
        claimed = coupon.held_by([member]).get(member.id, 0)
        items.append({
                'id': coupon.id,
                'name': coupon.rec_name,
                'minimum': money(promotion.amount),
                'discount': money(coupon.discount_amount),
                'channels': list(coupon.channels or []),
                'start_date': iso_date(promotion.start_date),
                'end_date': iso_date(promotion.end_date),
                'claimed': claimed,
                'limit_per_member': limit,
                'claimable': not limit or claimed < limit,
                })
    return {'items': items}


@route('/coupons/<int:coupon>/claim', 'POST', limit='coupon')
def claim_coupon(request):
    "Issue a number of the coupon to the member"
    Coupon = request.pool.get('sale.promotion.coupon')
    member = request.session.require_member()
    coupon_id = request.path['coupon']
    coupons = centre_coupons(request, [('id', '=', coupon_id)])
    if not coupons:
        raise ApiError(404, 'coupon_not_found', coupon=coupon_id)
    coupon, = coupons
    try:
        coupon.check_dates()
    except CouponError:
        raise ApiError(
            409, 'coupon_ended', coupon=coupon.rec_name) from None
    try:
        number = Coupon.claim(member, coupon)
    except CouponError:
        # Once the dates pass, a claim is refused only for the limit
        raise ApiError(
            409, 'coupon_limit_reached', coupon=coupon.rec_name,
            limit=coupon.limit_per_member) from None
    return {
        'number': number.number,
        'coupon': coupon.id,
        'end_date': iso_date(number.end_date),
        }


def number_status(number, today):
    if number.redemption:
        return 'used'
    if ((number.end_date and number.end_date < today)
            or not number.coupon.promotion.active):
        return 'expired'
    return 'usable'


@route('/me/coupons')
def my_coupons(request):
    "The member's coupon numbers that are usable, used or expired"
    pool = request.pool
    Date = pool.get('ir.date')
    Issue = pool.get('member.target_campaign.issue')
    Number = pool.get('sale.promotion.coupon.number')
    member = request.session.require_member()
    status = request.query.get('status', 'usable')
    today = Date.today()
    # Expired and used numbers are inactive
    with Transaction().set_context(active_test=False):
        numbers = Number.search(
            [('party', '=', member.id)],
            order=[('end_date', 'ASC NULLS LAST'), ('id', 'ASC')])
    # The nearby store that has the goods a targeted campaign's coupon is for
    stores = {i.number.id: i.store for i in Issue.search([
                ('member', '=', member.id),
                ('number', 'in', [n.id for n in numbers]),
                ('store', '!=', None),
                ])}
    items = []
    for number in numbers:
        if number_status(number, today) != status:
            continue
        coupon = number.coupon
        redemption = number.redemption
        items.append({
                'number': number.number,
                'coupon': coupon.id,
                'name': coupon.rec_name,
                'minimum': money(coupon.promotion.amount),
                'discount': money(coupon.discount_amount),
                'channels': list(coupon.channels or []),
                'start_date': iso_date(number.start_date),
                'end_date': iso_date(number.end_date),
                'store': {
                    'id': stores[number.id].id,
                    'name': stores[number.id].name,
                    } if number.id in stores else None,
                'redemption': {
                    'channel': redemption.channel,
                    'store': name_of(redemption.store),
                    'date': utc(redemption.date),
                    } if redemption else None,
                })
    return {'status': status, 'items': items}
