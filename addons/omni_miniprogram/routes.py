# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime
import re
import time

from trytond.protocols.wrappers import Response
from trytond.wsgi import app
from werkzeug.routing import PathConverter

from trytond.modules.omni_member_hub.exceptions import MemberError, MobileError
from trytond.modules.omni_member_hub.party import mask_mobile

from . import catalog, wechat
from .api import (
    API_PREFIX,
    OPENAPI,
    ROUTES,
    ApiError,
    refuse,
    route,
)
from .exceptions import WeChatError


@route('/openapi.json', auth=False)
def openapi(request):
    return OPENAPI


# How long a client may keep an image: a new image gets a new URL, an
# image changed in place shows within a day
IMAGE_MAX_AGE = 24 * 60 * 60

# WeChat's codes for a login or phone code that is unknown, used or expired
WECHAT_BAD_CODES = {40029, 40163, 40226, 41008}


def once(request, key, call):
    """Return what call returns, calling it once per HTTP request even when
    the transaction is retried: WeChat's codes are single use"""
    results = request.http.environ.setdefault('omni.once', {})
    if key not in results:
        try:
            results[key] = call()
        except WeChatError as error:
            if error.errcode in WECHAT_BAD_CODES:
                results[key] = ApiError(401, 'invalid_wechat_code')
            else:
                results[key] = ApiError(
                    502, 'wechat_unavailable', errcode=str(error.errcode))
    if isinstance(results[key], ApiError):
        raise results[key]
    return results[key]


def mall_shop(pool, shop_id):
    Shop = pool.get('web.shop')
    shops = Shop.search([('id', '=', shop_id), ('type', '=', 'mini_program')])
    if not shops:
        raise ApiError(404, 'shop_not_found')
    return shops[0]


@route('/login', 'POST', auth=False, limit='login')
def login(request):
    """Open a session for the WeChat user of a wx.login code; the client
    address is counted before WeChat is asked, the user after"""
    pool = request.pool
    Identity = pool.get('party.wechat_identity')
    RateCounter = pool.get('web.shop.mp_rate_counter')
    Session = pool.get('web.shop.mp_session')
    shop = mall_shop(pool, request.body['shop'])
    account = once(request, 'login', lambda: wechat.code_to_session(
            shop, request.body['code']))
    openid, unionid = account['openid'], account['unionid']
    member = Identity.member_of(shop.wechat_appid, openid, unionid)
    request.limit('login', 'member:%s' % member.id if member
        else RateCounter.wechat_key(shop.wechat_appid, openid),
        address=False)
    if member:
        Identity.bind(member, shop.wechat_appid, openid, unionid)
    session, token = Session.open(shop, openid, unionid, member)
    return {
        'token': token,
        'expires_at': session.expires_at.isoformat() + 'Z',
        'member': bool(member),
        }


@route('/me/phone', 'POST')
def bind_phone(request):
    """Make the WeChat user the member of the phone number WeChat
    vouches for: a customer who joined in a store by phone is found, and a
    mall member with another number is merged into that member"""
    pool = request.pool
    Identity = pool.get('party.wechat_identity')
    Party = pool.get('party.party')
    Session = pool.get('web.shop.mp_session')
    session, shop = request.session, request.shop
    mobile = once(request, 'phone', lambda: wechat.phone_number(
            shop, request.body['code']))
    try:
        member = Party.register_member(mobile, None, 'mall', None)
    except MobileError:
        raise ApiError(400, 'invalid_mobile') from None
    if session.member and session.member != member:
        Party.merge_members(session.member, member)
    try:
        Identity.bind(
            member, shop.wechat_appid, session.openid, session.unionid)
    except MemberError:
        raise ApiError(409, 'wechat_bound_elsewhere') from None
    Session.write(Session.search([
                ('shop', '=', shop.id),
                ('openid', '=', session.openid),
                ]), {'member': member.id})
    session.member = member
    return me_data(request)


@route('/session', 'DELETE')
def logout(request):
    request.session.__class__.delete([request.session])
    return {'status': 'logged_out'}


@route('/me/logout-all', 'POST')
def logout_all(request):
    "End every session of the member, on every phone, this one too"
    Session = request.pool.get('web.shop.mp_session')
    member = request.session.require_member()
    sessions = Session.search([('member', '=', member.id)])
    Session.delete(sessions)
    return {'status': 'logged_out', 'sessions': len(sessions)}


def wechat_accounts(request):
    "The member's WeChat accounts of the shop's mini-program"
    Identity = request.pool.get('party.wechat_identity')
    member = request.session.require_member()
    return Identity.search([
            ('party', '=', member.id),
            ('appid', '=', request.shop.wechat_appid),
            ], order=[('id', 'ASC')])


@route('/me/wechat')
def list_wechat(request):
    """The WeChat accounts that open the member's account, without their
    openids"""
    return {'items': [{
                'id': identity.id,
                'current': identity.openid == request.session.openid,
                'bound_at': identity.create_date.isoformat() + 'Z',
                } for identity in wechat_accounts(request)]}


@route('/me/wechat', 'DELETE')
def unbind_wechat(request):
    """Unbind a WeChat account from the member, this session's unless the
    account parameter names another: its sessions end and it opens the
    member's account no more"""
    Identity = request.pool.get('party.wechat_identity')
    Session = request.pool.get('web.shop.mp_session')
    accounts = wechat_accounts(request)
    account = request.query.get('account')
    if account is None:
        unbound = [i for i in accounts if i.openid == request.session.openid]
    else:
        unbound = [i for i in accounts if i.id == account]
        if not unbound:
            raise ApiError(404, 'wechat_account_not_found')
    # A session opened before the account was bound has no identity yet
    openids = {i.openid for i in unbound} or {request.session.openid}
    sessions = Session.search([
            ('shop', '=', request.shop.id),
            ('openid', 'in', list(openids)),
            ])
    Identity.delete(unbound)
    Session.delete(sessions)
    return {'status': 'unbound', 'sessions': len(sessions)}


def me_data(request):
    member = request.member
    return {
        'shop': request.shop.id,
        'member': {
            'number': member.member_number,
            'name': member.name,
            'mobile': mask_mobile(member.member_mobile),
            'join_channel': member.member_join_channel,
            } if member else None,
        }


@route('/me')
def get_me(request):
    return me_data(request)


@route('/me', 'PUT')
def update_me(request):
    member = request.session.require_member()
    member.name = request.body['name'].strip()
    member.save()
    return me_data(request)


# The member's code secret is created on first use
@route('/me/code', readonly=False)
def member_code(request):
    """The rotating code the member shows at the till, as QR code and
    barcode; the client asks again before it expires"""
    member = request.session.require_member()
    code, expires_at = member.member_code()
    return {
        'code': code,
        'expires_at': datetime.datetime.fromtimestamp(
            expires_at, datetime.UTC).isoformat(),
        'refresh_in': max(1, int(expires_at - time.time()) - 5),
        }


@route('/catalog/categories', auth='optional')
def categories(request):
    shop = catalog.public_shop(request)
    return {'items': [{
                'id': c.id,
                'name': c.name,
                'parent': c.parent.id if c.parent else None,
                } for c in shop.categories]}


@route('/catalog/products', auth='optional')
def products(request):
    "List the published products, a page at a time"
    Product = request.pool.get('product.product')
    Availability = request.pool.get('stock.availability')
    shop = catalog.public_shop(request)
    query = request.query
    domain = [('web_shops', '=', shop.id), ('salable', '=', True)]
    if query.get('category'):
        domain.append(('categories_all', '=', query['category']))
    if query.get('q'):
        domain.append(('rec_name', 'ilike', '%' + query['q'] + '%'))
    page, per_page = query.get('page', 1), query.get('per_page', 20)
    total = Product.search_count(domain)
    items = Product.search(
        domain, offset=(page - 1) * per_page, limit=per_page,
        order=[('name', 'ASC'), ('id', 'ASC')])
    stores = catalog.store_availability(
        shop, items, query.get('lat'), query.get('lon'))
    return {
        'items': [catalog.product_summary(
                shop, p, stores[p.id], request.member) for p in items],
        'page': page,
        'per_page': per_page,
        'total': total,
        'stock_version': Availability.current_version(),
        }


@route('/catalog/products/<int:product>', auth='optional')
def product(request):
    "A product with its availability in each store, nearest first"
    Availability = request.pool.get('stock.availability')
    shop = catalog.public_shop(request)
    product = catalog.published_product(shop, request.path['product'])
    stores = catalog.store_availability(
        shop, [product], request.query.get('lat'),
        request.query.get('lon'))[product.id]
    return dict(
        catalog.product_summary(shop, product, stores, request.member),
        images=catalog.product_images(shop, product),
        description=product.web_shop_description or '',
        unit=product.default_uom.symbol,
        nearby_radius_km=shop.nearby_radius,
        stores=stores,
        stock_version=Availability.current_version())


@route('/catalog/products/<int:product>/images/<int:image>',
    auth='optional')
def product_image(request):
    """A published product's image as a JPEG of at most s pixels a side,
    resized and cached by product_image"""
    shop = catalog.public_shop(request)
    product = catalog.published_product(shop, request.path['product'])
    image = catalog.product_image(shop, product, request.path['image'])
    response = Response(
        catalog.image_data(
            image, request.query.get('s', catalog.IMAGE_SIZE)),
        mimetype='image/jpeg')
    response.cache_control.public = True
    response.cache_control.max_age = IMAGE_MAX_AGE
    response.add_etag()
    return response


@route('/catalog/stock', auth='optional')
def stock_changes(request):
    """The availability of the shop's published products that changed in
    its stores since a stock version, a page at a time, for a cheap
    refresh"""
    Availability = request.pool.get('stock.availability')
    shop = catalog.public_shop(request)
    touched, version, more = catalog.stock_changes(
        shop, request.query['since'],
        request.query.get('limit', catalog.STOCK_PAGE_MAX))
    figures = Availability.get(
        {p for p, _ in touched}, {s for _, s in touched})
    return {
        'version': version,
        'more': more,
        'changes': [{
                'product': product,
                'store': store,
                'available': figures[(product, store)][2],
                } for product, store in touched],
        }


class AnyPath(PathConverter):
    "A path, also with the line breaks that PathConverter does not match"
    regex = r'[^/][\s\S]*?'


app.url_map.converters['anypath'] = AnyPath


@app.route(API_PREFIX + '/<anypath:rest>',
    methods=['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
def unknown(request, database_name, rest):
    "Answer JSON for paths and methods the API does not have"
    if request.method == 'OPTIONS':
        return Response(status=204)
    path = '/' + rest
    methods = {
        m for m, p in ROUTES
        if re.fullmatch(re.sub(r'\{[a-z_]+\}', '[^/]+', p), path)}
    # An operation whose path argument does not convert, e.g. a record id
    # that is not a positive integer, has nothing to find
    if methods and request.method not in methods:
        error = ApiError(405, 'method_not_allowed')
    else:
        error = ApiError(404, 'not_found')
    return refuse(database_name, error)
