# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What the mall shows: the shop's published products with their price and
their availability in the stores, from inventory_bridge's one figure."""
from decimal import Decimal
from urllib.parse import urlencode

from sql import Literal
from trytond import backend
from trytond.model.modelsql import SQLConstraintError
from trytond.pool import Pool
from trytond.transaction import Transaction

from trytond.modules.omni_inventory_bridge.stock import distance_km

from .api import ApiError

CENT = Decimal('0.01')
# The changes /catalog/stock answers at most at once
STOCK_PAGE_MAX = 500
# The sizes in pixels of the images the answers link to: a list's
# thumbnail and the product page's gallery
THUMBNAIL_SIZE = 250
IMAGE_SIZE = 750


def money(amount):
    return str(Decimal(amount or 0).quantize(CENT))


def public_shop(request):
    "Return the shop of the session, or of the shop parameter"
    Shop = Pool().get('web.shop')
    if request.shop:
        return request.shop
    shop_id = request.query.get('shop')
    shops = Shop.search([
            ('id', '=', shop_id),
            ('type', '=', 'mini_program'),
            ]) if shop_id else []
    if not shops:
        raise ApiError(404, 'shop_not_found')
    return shops[0]


def published_product(shop, product_id):
    Product = Pool().get('product.product')
    with Transaction().set_context(company=shop.company.id):
        products = Product.search([
                ('id', '=', product_id),
                ('web_shops', '=', shop.id),
                ('salable', '=', True),
                ])
    if not products:
        raise ApiError(404, 'product_not_found', product=product_id)
    return products[0]


def product_price(shop, product):
    "Return the tax-included price the shop asks for the product"
    with Transaction().set_context(company=shop.company.id):
        return product.__class__(product.id).gross_price_used or Decimal(0)


def store_data(store):
    "The store as the API shows it, or None"
    if not store:
        return None
    return {
        'id': store.id,
        'name': store.name,
        'address': store.address.full_address if store.address else '',
        'latitude': (float(store.latitude)
            if store.latitude is not None else None),
        'longitude': (float(store.longitude)
            if store.longitude is not None else None),
        }


def store_availability(shop, products, lat=None, lon=None):
    """Return {product id: [store dict]} over the shop's stores, nearest
    first when the coordinates are given"""
    Availability = Pool().get('stock.availability')
    stores = list(shop.warehouses)
    figures = Availability.get(products, stores)
    result = {}
    for product in products:
        rows = []
        for store in stores:
            _, _, available = figures[(int(product), store.id)]
            distance = None
            if (lat is not None and lon is not None
                    and store.latitude is not None
                    and store.longitude is not None):
                distance = round(distance_km(
                        lat, lon, store.latitude, store.longitude), 2)
            rows.append(dict(
                    store_data(store),
                    distance_km=distance, available=available))
        rows.sort(key=lambda r: (
                r['distance_km'] is None, r['distance_km'] or 0, r['name']))
        result[int(product)] = rows
    return result


def nearby_stock(shop, stores):
    "Whether a store within the shop's radius has the product"
    radius = shop.nearby_radius or 0
    return any(
        s['available'] > 0 and s['distance_km'] is not None
        and s['distance_km'] <= radius for s in stores)


def image_url(shop, product, image, size):
    """The URL of the product's image at size, below the API's base: it
    names the shop, so that it shows without a session"""
    return '/catalog/products/%s/images/%s?%s' % (
        product.id, image.id, urlencode({'shop': shop.id, 's': size}))


def product_images(shop, product):
    "The product's images, its variant's first, as the API shows them"
    return [{
            'id': image.id,
            'description': image.description or '',
            'thumbnail': image_url(shop, product, image, THUMBNAIL_SIZE),
            'url': image_url(shop, product, image, IMAGE_SIZE),
            } for image in product.images_used]


def product_image(shop, product, image_id):
    "Return the product's image of the id"
    for image in product.images_used:
        if image.id == image_id:
            return image
    raise ApiError(404, 'image_not_found', product=product.id, image=image_id)


def image_data(image, size):
    """Return the JPEG of the image fitting a square of size pixels, cached
    by product_image; when another request caches the same size at the
    same moment, this one is resized without caching it"""
    try:
        return image.get(size)
    except (SQLConstraintError, backend.DatabaseIntegrityError):
        return image._resize((image._round_size(size),) * 2)


def product_summary(shop, product, stores, member=None):
    "The product as the catalog lists it, at member's price if given"
    price = product_price(shop, product)
    member_price = member.member_price(price) if member else None
    discount = shop.pickup_discount or Decimal(0)
    images = product_images(shop, product)
    return {
        'id': product.id,
        'name': product.name,
        'code': product.code or '',
        'category': (product.categories[0].id
            if product.categories else None),
        'price': money(price),
        'member_price': (
            money(member_price) if member_price is not None else None),
        'pickup_price': money(
            (price if member_price is None else member_price)
            * (1 - discount)),
        'pickup_discount': str(discount),
        'available': sum(s['available'] for s in stores),
        'nearby_stock': nearby_stock(shop, stores),
        'thumbnail': images[0]['thumbnail'] if images else None,
        }


def stock_changes(shop, since, limit):
    """Return the (product, store) of the shop's published products whose
    availability changed after the stock version since, oldest first and
    at most limit rows, the stock version they bring the client to and
    whether more changes are left"""
    pool = Pool()
    Availability = pool.get('stock.availability')
    Product = pool.get('product.product')
    ShopProduct = pool.get('web.shop-product.product')
    Template = pool.get('product.template')
    storage = Availability.storage_children(list(shop.warehouses))
    store_of = {
        location: store for store, locations in storage.items()
        for location in locations}
    version = Availability.current_version()
    if not store_of:
        return [], version, False
    availability = Availability.__table__()
    product = Product.__table__()
    template = Template.__table__()
    shop_product = ShopProduct.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*availability
        .join(product, condition=availability.product == product.id)
        .join(template, condition=product.template == template.id)
        .join(shop_product, condition=shop_product.product == product.id)
        .select(
            availability.product, availability.location, availability.version,
            where=(availability.version > since)
            & availability.location.in_(sorted(store_of))
            & (shop_product.shop == shop.id)
            & (template.salable == Literal(True))
            & (template.active == Literal(True))
            & (product.active == Literal(True)),
            order_by=[availability.version.asc],
            limit=limit + 1))
    rows = cursor.fetchall()
    more = len(rows) > limit
    if more:
        rows = rows[:limit]
        version = rows[-1][2]
    touched = sorted({(p, store_of[location]) for p, location, _ in rows})
    return touched, version, more
