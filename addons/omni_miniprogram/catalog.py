# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What the mall shows: the shop's published products with their price and
their availability in the stores, from inventory_bridge's one figure."""
from decimal import Decimal

from trytond.pool import Pool
from trytond.transaction import Transaction

from trytond.modules.omni_inventory_bridge.stock import distance_km

from .api import ApiError

CENT = Decimal('0.01')


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


def product_summary(shop, product, stores, member=None):
    "The product as the catalog lists it, at member's price if given"
    price = product_price(shop, product)
    member_price = member.member_price(price) if member else None
    discount = shop.pickup_discount or Decimal(0)
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
        }
