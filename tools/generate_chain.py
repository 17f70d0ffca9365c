#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Generate a year of a retail chain on a new PostgreSQL database.

The omni modules are activated (set DB_CACHE=postgresql:// to reuse an
activated template), then the company, its chart, a central warehouse, the
stores with their tills and coordinates, the products and the coupon
campaigns are made with the ORM. The year of documents is bulk-inserted
with INSERT ... SELECT: members and their WeChat identities, POS sales and
lines, mall delivery, mall pickup and endless-aisle orders and lines,
coupon numbers and redemptions, the done stock moves of every line and of
the stock received, and the availability counters they leave.

Usage: tools/generate_chain.py postgresql://user@host:port/ [--stores 20]
    [--members 100000] [--lines 1000000] [--products 1000] [--seed 1]
"""
import argparse
import datetime
import os
import sys
import time
from decimal import Decimal

import psycopg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# Each channel's part of the sale lines; a document has 3 lines on average
CHANNEL_SHARES = [
    ('pos', 0.70),
    ('mall_delivery', 0.12),
    ('mall_pickup', 0.12),
    ('endless_aisle', 0.06),
    ]
LINES_PER_DOCUMENT = 3
CATEGORIES = [
    "普洱茶", "绿茶", "乌龙茶", "红茶", "白茶", "花茶", "茶具", "茶点",
    "母婴", "礼盒"]
CAMPAIGNS = [
    ("满100减20", 100, 20), ("满200减50", 200, 50), ("满300减60", 300, 60),
    ("新会员券", 50, 10), ("生日券", 150, 30), ("门店开业券", 99, 15),
    ("双十一券", 500, 120), ("春茶节券", 200, 40)]
APPID = 'wxchain0000000omni'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('uri', help="PostgreSQL server URI")
    parser.add_argument('--database', default='omni_chain')
    parser.add_argument('--stores', type=int, default=20)
    parser.add_argument('--members', type=int, default=100_000)
    parser.add_argument('--lines', type=int, default=1_000_000)
    parser.add_argument('--products', type=int, default=1000)
    parser.add_argument('--seed', type=float, default=1)
    parser.add_argument(
        '--to-date', type=datetime.date.fromisoformat,
        default=datetime.date.today(),
        help="the last day of the year of documents")
    return parser.parse_args()


class Timer:
    def __init__(self):
        self.start = self.step = time.monotonic()

    def __call__(self, label):
        now = time.monotonic()
        print(f"  {label}: {now - self.step:.1f} s", flush=True)
        self.step = now


def activate(uri, database):
    os.environ['TRYTOND_DATABASE_URI'] = uri
    os.environ['DB_NAME'] = database
    os.environ.pop('TRYTOND_CONFIG', None)
    from trytond.tests.test_tryton import activate_module, db_exist
    if db_exist(database):
        sys.exit(f'Database "{database}" exists: drop it or pick another.')
    activate_module('omni_insights')


def setup_chain(database, args):
    """Create the company, chart, warehouses, tills, shop, products and
    campaigns and return their ids"""
    from proteus import Model
    from proteus import config as pconfig

    from demo import tea_house
    config = pconfig.set_trytond(database=database)
    country = tea_house.get_or_create(
        config, 'country.country', [('code', '=', 'CN')],
        name="中国", code='CN', code3='CHN', code_numeric='156')
    company = tea_house.setup_company(config, country)
    accounts, account_category = tea_house.setup_accounting(config, company)
    central = tea_house.setup_warehouse(
        config, company, country, *tea_house.WAREHOUSES[0])
    stores = []
    for index in range(args.stores):
        # Stores spread over about 40 km around Hangzhou
        latitude = Decimal('30.10') + Decimal(index % 5) * Decimal('0.08')
        longitude = Decimal('120.00') + Decimal(index // 5) * Decimal('0.09')
        stores.append(tea_house.setup_warehouse(
                config, company, country, f'S{index + 1:02d}',
                f"{index + 1}号店", str(latitude), str(longitude),
                f"连锁大道 {index + 1} 号"))
    Location = Model.get('stock.location', config=config)
    Journal = Model.get('account.journal', config=config)
    POS = Model.get('sale.point', config=config)
    customer, = Location.find([('type', '=', 'customer')], limit=1)
    supplier, = Location.find([('type', '=', 'supplier')], limit=1)
    journal, = Journal.find([('type', '=', 'revenue')], limit=1)
    points = []
    for store in stores:
        name = store.name + "收银台"
        sequence = tea_house.strict_sequence(
            config, company, name, 'sale_point.sequence_type_sale')
        point = POS(name=name, sequence=sequence, address=store.address,
            storage_location=store.storage_location,
            return_location=store.storage_location,
            customer_location=customer, journal=journal)
        point.save()
        points.append(point)
    Lang = Model.get('ir.lang', config=config)
    lang, = Lang.find([('code', '=', 'en')])
    tea_house.setup_shop(config, company, central, lang, country, {})
    Shop = Model.get('web.shop', config=config)
    shop, = Shop.find([])

    products, coupons, unit = create_products_and_campaigns(
        database, config.context, company.id, company.currency.id,
        account_category.id, args)
    return {
        'company': company.id,
        'currency': company.currency.id,
        'central': (central.id, central.storage_location.id),
        'stores': [(s.id, s.storage_location.id, p.id)
            for s, p in zip(stores, points, strict=True)],
        'customer': customer.id,
        'supplier': supplier.id,
        'shop': shop.id,
        'products': products,
        'coupons': coupons,
        'unit': unit,
        }


def create_products_and_campaigns(database, context, company, currency,
        account_category, args):
    """Create the products in batches with the ORM and the coupon
    campaigns; return [(product, list price, cost price)], the coupon ids
    and the unit"""
    import random

    from trytond.pool import Pool
    from trytond.transaction import Transaction
    rng = random.Random(args.seed)
    with Transaction().start(database, 1, context=context) as transaction:
        pool = Pool()
        Category = pool.get('product.category')
        Coupon = pool.get('sale.promotion.coupon')
        ModelData = pool.get('ir.model.data')
        Promotion = pool.get('sale.promotion')
        Template = pool.get('product.template')
        unit = ModelData.get_id('product', 'uom_unit')
        categories = Category.create([{'name': n} for n in CATEGORIES])
        values = []
        for index in range(args.products):
            price = Decimal(rng.choice(
                    [28, 58, 98, 128, 168, 198, 268, 380, 580, 880, 1280]))
            values.append({
                    'name': f"{CATEGORIES[index % len(CATEGORIES)]} "
                    f"{index + 1:04d}",
                    'code': f'P{index + 1:05d}',
                    'type': 'goods',
                    'default_uom': unit,
                    'sale_uom': unit,
                    'salable': True,
                    'account_category': account_category,
                    'list_price': price,
                    'categories': [
                        ('add', [categories[index % len(categories)].id])],
                    'products': [('create', [{
                                    'cost_price': (price * Decimal(
                                            rng.uniform(0.35, 0.6))
                                        ).quantize(Decimal('0.0001')),
                                    }])],
                    })
        templates = []
        for start in range(0, len(values), 200):
            templates += Template.create(values[start:start + 200])
        products = [(t.products[0].id, t.list_price, t.products[0].cost_price)
            for t in templates]
        today = datetime.date.today()
        coupons = []
        for name, amount, discount in CAMPAIGNS:
            promotion, = Promotion.create([{
                        'name': name, 'company': company,
                        'amount': Decimal(amount),
                        'currency': currency,
                        'formula': 'unit_price',
                        'start_date': today - datetime.timedelta(days=400),
                        'end_date': today + datetime.timedelta(days=60),
                        }])
            coupon, = Coupon.create([{
                        'promotion': promotion.id, 'company': company,
                        'number_of_use': 1,
                        'discount_amount': Decimal(discount),
                        'limit_per_member': 0,
                        }])
            coupons.append(coupon.id)
        transaction.commit()
    return products, coupons, unit


def bulk_insert(conninfo, ids, args):
    "Insert the year of documents with SQL and print the counts"
    timer = Timer()
    counts = {}
    with psycopg.connect(conninfo) as connection:
        # Client-side binding allows parameters in CREATE TABLE AS
        cursor = psycopg.ClientCursor(connection)

        def execute(label, query, params=None):
            cursor.execute(query, params or {})
            if label:
                counts[label] = counts.get(label, 0) + cursor.rowcount
                timer(f"{label} {cursor.rowcount:,}")

        cursor.execute('SELECT setseed(%s)', (1 / (1 + args.seed),))
        create_work_tables(cursor, ids, args)
        params = parameters(ids, args)
        # The rows refer to records just read: skip the foreign key
        # triggers, which cost more than the inserts, when allowed to
        try:
            with connection.transaction():
                cursor.execute(
                    "SET LOCAL session_replication_role = 'replica'")
        except psycopg.errors.InsufficientPrivilege:
            print("  checking the foreign keys (not a superuser)")
        # Building an index once is faster than updating it for each row
        indexes = drop_indexes(cursor, BULK_TABLES)
        for label, query in documents_queries():
            execute(label, query, params)
        for index in indexes:
            cursor.execute(index)
        timer(f"{len(indexes)} indexes rebuilt")
        cursor.execute('ANALYZE')
        timer("analyze")
        for table in SEQUENCE_TABLES:
            cursor.execute(
                f'SELECT setval(pg_get_serial_sequence(%s, %s), '
                f'(SELECT max(id) FROM "{table}"))', (table, 'id'))
        connection.commit()
    return counts


def record_insights(database):
    """Record the reports' sale lines and shipped goods of the documents
    and summarize the closed months"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    tables = ['insights.line', 'insights.shipped']
    with Transaction().start(database, 0) as transaction:
        for name in tables:
            Pool().get(name).rebuild()
        Pool().get('insights.summarized_month').summarize()
        transaction.commit()
        transaction.connection.cursor().execute('ANALYZE')


BULK_TABLES = ['stock_move', 'sale_point_sale_line', 'sale_line']


def drop_indexes(cursor, tables):
    "Drop the plain indexes of the tables and return their definitions"
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes AS i "
        "JOIN pg_class AS c ON c.relname = i.indexname "
        "JOIN pg_index AS x ON x.indexrelid = c.oid "
        "WHERE i.tablename = ANY(%s) AND NOT x.indisunique",
        (tables,))
    definitions = []
    for name, definition in cursor.fetchall():
        cursor.execute(f'DROP INDEX "{name}"')
        definitions.append(definition)
    return definitions


def create_work_tables(cursor, ids, args):
    "Make temporary tables of the products and stores indexed from 0"
    cursor.execute(
        'CREATE TEMP TABLE gen_product (idx integer PRIMARY KEY, '
        'id integer, price numeric, cost numeric)')
    with cursor.copy('COPY gen_product FROM STDIN') as copy:
        for index, row in enumerate(ids['products']):
            copy.write_row((index, *row))
    cursor.execute(
        'CREATE TEMP TABLE gen_store (idx integer PRIMARY KEY, '
        'warehouse integer, storage integer, point integer)')
    with cursor.copy('COPY gen_store FROM STDIN') as copy:
        for index, row in enumerate(ids['stores']):
            copy.write_row((index, *row))
    cursor.execute(
        'CREATE TEMP TABLE gen_coupon (idx integer PRIMARY KEY, '
        'id integer)')
    with cursor.copy('COPY gen_coupon FROM STDIN') as copy:
        for index, coupon in enumerate(ids['coupons']):
            copy.write_row((index, coupon))
    cursor.execute('ANALYZE gen_product; ANALYZE gen_store; '
        'ANALYZE gen_coupon')


def parameters(ids, args):
    shares = dict(CHANNEL_SHARES)
    lines = {c: int(args.lines * s) for c, s in shares.items()}
    documents = {c: max(n // LINES_PER_DOCUMENT, 1) for c, n in lines.items()}
    order_lines = sum(lines[c] for c in lines if c != 'pos')
    order_documents = sum(documents[c] for c in documents if c != 'pos')
    return {
        'company': ids['company'],
        'currency': ids['currency'],
        'unit': ids['unit'],
        'shop': ids['shop'],
        'central': ids['central'][0],
        'central_storage': ids['central'][1],
        'customer': ids['customer'],
        'supplier': ids['supplier'],
        'stores': len(ids['stores']),
        'products': len(ids['products']),
        'coupons': len(ids['coupons']),
        'members': args.members,
        'appid': APPID,
        'to_date': args.to_date,
        'pos_sales': documents['pos'],
        'pos_lines': lines['pos'],
        'orders': order_documents,
        'order_lines': order_lines,
        # The orders are delivery, then pickup, then endless aisle
        'pickup_from': documents['mall_delivery'],
        'aisle_from': documents['mall_delivery'] + documents['mall_pickup'],
        }


SEQUENCE_TABLES = [
    'party_party', 'party_wechat_identity', 'sale_point_sale',
    'sale_point_sale_line', 'sale_sale', 'sale_line',
    'sale_promotion_coupon_number', 'sale_promotion_coupon_redemption',
    'stock_move', 'stock_availability']

# Popular products sell more: the index is products * random()^2
PRODUCT_INDEX = 'floor(%(products)s * power(random(), 2))::integer'
STORE_INDEX = 'floor(%(stores)s * random())::integer'
MEMBER = '(m.first + floor(%(members)s * random())::integer)'
DAY = "(%(to_date)s::date - floor(365 * random())::integer)"


def documents_queries():
    "Yield the label and the query of each bulk insert, in order"
    yield "members", """
        INSERT INTO party_party (id, code, name, active, member_number,
            member_mobile, member_join_channel, member_join_store,
            member_joined_at, create_date, create_uid)
        SELECT base.id + g, 'CM' || g, '会员' || g, true,
            'M' || lpad(g::text, 9, '0'),
            '+8613' || lpad(g::text, 9, '0'),
            CASE WHEN j.store < 0.7 THEN 'pos' ELSE 'mall' END,
            CASE WHEN j.store < 0.7 THEN s.warehouse END,
            j.at, j.at, 0
        FROM generate_series(1, %(members)s) AS g
        CROSS JOIN (SELECT COALESCE(max(id), 0) AS id FROM party_party) AS base
        CROSS JOIN LATERAL (SELECT random() + g * 0 AS store,
                %(to_date)s::date - (random() * 730) * interval '1 day'
                + interval '10 hours' AS at,
                floor(%(stores)s * random())::integer AS idx) AS j
        JOIN gen_store AS s ON s.idx = j.idx"""
    yield None, """
        CREATE TEMP TABLE gen_member AS
        SELECT min(id) AS first FROM party_party WHERE code LIKE 'CM%%'"""
    yield "wechat identities", """
        INSERT INTO party_wechat_identity (appid, openid, party,
            create_date, create_uid)
        SELECT %(appid)s, 'o-chain-' || p.id, p.id,
            p.member_joined_at + random() * interval '60 days', 0
        FROM party_party AS p
        WHERE p.code LIKE 'CM%%' AND random() < 0.45"""
    yield "POS sales", f"""
        INSERT INTO sale_point_sale (id, company, date, number, point, state,
            member, create_date, create_uid)
        SELECT base.id + g, %(company)s, d.day, 'CPOS' || g, s.point,
            CASE WHEN d.r < 0.02 THEN 'cancelled'
                WHEN d.r < 0.05 THEN 'done' ELSE 'posted' END,
            CASE WHEN d.r2 < 0.6 THEN {MEMBER} END,
            d.day + interval '9 hours' + random() * interval '12 hours', 0
        FROM generate_series(1, %(pos_sales)s) AS g
        CROSS JOIN (SELECT COALESCE(max(id), 0) AS id FROM sale_point_sale)
            AS base
        CROSS JOIN gen_member AS m
        CROSS JOIN LATERAL (SELECT {DAY} + g * 0 AS day, random() AS r,
                random() AS r2, {STORE_INDEX} AS idx) AS d
        JOIN gen_store AS s ON s.idx = d.idx"""
    yield "POS sale lines", f"""
        INSERT INTO sale_point_sale_line (sale, product, quantity,
            unit_list_price, unit_gross_price, create_date, create_uid)
        SELECT sale.id, p.id, l.quantity, p.price,
            round(p.price * 1.13, 2), sale.create_date, 0
        FROM generate_series(0, %(pos_lines)s - 1) AS g
        CROSS JOIN (SELECT min(id) AS id FROM sale_point_sale
            WHERE number LIKE 'CPOS%%') AS base
        CROSS JOIN LATERAL (SELECT {PRODUCT_INDEX} + g * 0 AS idx,
                1 + floor(power(random(), 3) * 4) AS quantity) AS l
        JOIN gen_product AS p ON p.idx = l.idx
        JOIN sale_point_sale AS sale
            ON sale.id = base.id
                + (g::bigint * %(pos_sales)s / %(pos_lines)s)::integer"""
    yield "orders", f"""
        INSERT INTO sale_sale (id, company, currency, party, number,
            sale_date, state, invoice_method, invoice_state, shipment_method,
            shipment_state, member_channel, web_shop, warehouse,
            pickup_store, pickup_state, paid_at,
            pickup_handed_over_at, credited_store, create_date, create_uid)
        SELECT base.id + g, %(company)s, %(currency)s, {MEMBER},
            'CSO' || g, d.day, d.state, 'order',
            CASE d.state WHEN 'done' THEN 'paid' ELSE 'waiting' END,
            'order',
            CASE d.state WHEN 'done' THEN 'sent' ELSE 'waiting' END,
            CASE WHEN d.kind = 'aisle' THEN 'back_office' ELSE 'mall' END,
            CASE WHEN d.kind <> 'aisle' THEN %(shop)s END,
            CASE WHEN d.kind = 'pickup' THEN s.warehouse
                ELSE %(central)s END,
            CASE WHEN d.kind = 'pickup' THEN s.warehouse END,
            CASE WHEN d.kind <> 'pickup' THEN NULL
                WHEN d.state = 'done' THEN 'picked_up'
                WHEN d.state = 'cancelled' THEN 'cancelled'
                ELSE 'ready' END,
            CASE WHEN d.kind = 'pickup' THEN d.day + interval '10 hours' END,
            CASE WHEN d.kind = 'pickup' AND d.state = 'done'
                THEN d.day + interval '1 day 15 hours' END,
            CASE WHEN d.kind = 'aisle' THEN s.warehouse END,
            d.day + interval '10 hours', 0
        FROM generate_series(1, %(orders)s) AS g
        CROSS JOIN (SELECT COALESCE(max(id), 0) AS id FROM sale_sale) AS base
        CROSS JOIN gen_member AS m
        CROSS JOIN LATERAL (SELECT {DAY} + g * 0 AS day,
                CASE WHEN g > %(aisle_from)s THEN 'aisle'
                    WHEN g > %(pickup_from)s THEN 'pickup'
                    ELSE 'delivery' END AS kind,
                CASE WHEN random() < 0.04 THEN 'cancelled'
                    WHEN random() < 0.03 THEN 'processing'
                    ELSE 'done' END AS state,
                {STORE_INDEX} AS idx) AS d
        JOIN gen_store AS s ON s.idx = d.idx"""
    yield "order lines", f"""
        INSERT INTO sale_line (sale, sequence, type, product, quantity,
            actual_quantity, unit, unit_price, create_date, create_uid)
        SELECT sale.id, 1 + g %% 3, 'line', p.id, l.quantity,
            CASE WHEN sale.state = 'done' THEN l.quantity END, %(unit)s,
            CASE WHEN sale.pickup_store IS NOT NULL
                THEN round(p.price * 0.95, 4) ELSE p.price END,
            sale.create_date, 0
        FROM generate_series(0, %(order_lines)s - 1) AS g
        CROSS JOIN (SELECT min(id) AS id FROM sale_sale
            WHERE number LIKE 'CSO%%') AS base
        CROSS JOIN LATERAL (SELECT {PRODUCT_INDEX} + g * 0 AS idx,
                1 + floor(power(random(), 3) * 4) AS quantity) AS l
        JOIN gen_product AS p ON p.idx = l.idx
        JOIN sale_sale AS sale
            ON sale.id = base.id
                + (g::bigint * %(orders)s / %(order_lines)s)::integer"""
    yield None, """
        UPDATE sale_sale AS sale SET
            untaxed_amount_cache = t.amount,
            tax_amount_cache = round(t.amount * 0.13, 2),
            total_amount_cache = t.amount + round(t.amount * 0.13, 2)
        FROM (SELECT sale,
                round(sum(quantity::numeric * unit_price), 2) AS amount
            FROM sale_line GROUP BY sale) AS t
        WHERE sale.id = t.sale AND sale.number LIKE 'CSO%%'
            AND sale.state = 'done'"""
    # A fifth of the member documents redeemed a number issued to the member
    yield None, """
        CREATE TEMP TABLE gen_redeem AS
        SELECT 'sale.point.sale,' || id AS origin, member, date AS day,
            'pos' AS channel, point AS point, NULL::integer AS store, id
        FROM sale_point_sale
        WHERE member IS NOT NULL AND state <> 'cancelled' AND random() < 0.2
        UNION ALL
        SELECT 'sale.sale,' || id, party, sale_date,
            CASE WHEN credited_store IS NULL THEN 'mall' ELSE 'pos' END,
            NULL, COALESCE(credited_store, pickup_store, warehouse), id
        FROM sale_sale
        WHERE state <> 'cancelled' AND number LIKE 'CSO%%'
            AND random() < 0.2"""
    yield None, 'ALTER TABLE gen_redeem ADD COLUMN number integer'
    yield None, """
        UPDATE gen_redeem AS r SET store = s.warehouse
        FROM gen_store AS s WHERE r.point = s.point"""
    yield "coupon numbers", f"""
        INSERT INTO sale_promotion_coupon_number (company, coupon, number,
            party, issued_at, issued_how, create_date, create_uid)
        SELECT %(company)s, c.id, 'CN' || g, n.member,
            n.at, CASE WHEN random() < 0.6 THEN 'claim' ELSE 'push' END,
            n.at, 0
        FROM generate_series(1, (SELECT count(*) FROM gen_redeem)
            + %(members)s) AS g
        CROSS JOIN gen_member AS m
        LEFT JOIN (SELECT row_number() OVER (ORDER BY origin) AS g,
                member, day FROM gen_redeem) AS r USING (g)
        CROSS JOIN LATERAL (SELECT COALESCE(r.member, {MEMBER}) AS member,
                COALESCE(r.day, {DAY}) - random() * interval '20 days'
                    AS at,
                floor(%(coupons)s * random())::integer AS idx) AS n
        JOIN gen_coupon AS c ON c.idx = n.idx"""
    yield None, """
        UPDATE gen_redeem AS r SET number = n.id
        FROM (SELECT row_number() OVER (ORDER BY origin) AS g, origin
            FROM gen_redeem) AS o,
            sale_promotion_coupon_number AS n
        WHERE o.origin = r.origin AND n.number = 'CN' || o.g"""
    yield "coupon redemptions", """
        INSERT INTO sale_promotion_coupon_redemption (number, member,
            channel, store, origin, date, state, reversed_at, create_date,
            create_uid)
        SELECT number, member, channel, store, origin,
            day + interval '12 hours', t.state,
            CASE WHEN t.state = 'reversed'
                THEN day + interval '2 days' END,
            day + interval '12 hours', 0
        FROM gen_redeem
        CROSS JOIN LATERAL (SELECT CASE WHEN random() + number * 0 < 0.03
                THEN 'reversed' ELSE 'done' END AS state) AS t"""
    yield None, """
        UPDATE sale_point_sale AS sale SET coupon = r.number
        FROM gen_redeem AS r
        WHERE r.origin = 'sale.point.sale,' || sale.id"""
    yield "POS stock moves", """
        INSERT INTO stock_move (company, currency, product, unit, quantity,
            internal_quantity, from_location, to_location, effective_date,
            planned_date, state, unit_price, cost_price, origin,
            create_date, create_uid)
        SELECT %(company)s, %(currency)s, line.product, %(unit)s,
            line.quantity, line.quantity, s.storage, %(customer)s,
            sale.date, sale.date, 'done', line.unit_list_price, p.cost,
            'sale.point.sale.line,' || line.id, sale.create_date, 0
        FROM sale_point_sale_line AS line
        JOIN sale_point_sale AS sale ON sale.id = line.sale
        JOIN gen_store AS s ON s.point = sale.point
        JOIN gen_product AS p ON p.id = line.product
        WHERE sale.state IN ('done', 'posted')"""
    yield "order stock moves", """
        INSERT INTO stock_move (company, currency, product, unit, quantity,
            internal_quantity, from_location, to_location, effective_date,
            planned_date, state, unit_price, cost_price, origin,
            create_date, create_uid)
        SELECT %(company)s, %(currency)s, line.product, %(unit)s,
            line.quantity, line.quantity,
            COALESCE(s.storage, %(central_storage)s), %(customer)s,
            sale.sale_date, sale.sale_date, 'done',
            line.unit_price, p.cost, 'sale.line,' || line.id,
            sale.create_date, 0
        FROM sale_line AS line
        JOIN sale_sale AS sale ON sale.id = line.sale
        LEFT JOIN gen_store AS s ON s.warehouse = sale.pickup_store
        JOIN gen_product AS p ON p.id = line.product
        WHERE sale.state = 'done' AND sale.number LIKE 'CSO%%'"""
    # Each location received what it sold and 5 to 50 more
    yield None, """
        CREATE TEMP TABLE gen_stock AS
        SELECT product, from_location AS location,
            sum(internal_quantity) AS sold,
            5 + floor(random() * 46) AS left_over
        FROM stock_move
        WHERE to_location = %(customer)s AND state = 'done'
        GROUP BY product, from_location"""
    yield "received stock moves", """
        INSERT INTO stock_move (company, currency, product, unit, quantity,
            internal_quantity, from_location, to_location, effective_date,
            planned_date, state, unit_price, cost_price, create_date,
            create_uid)
        SELECT %(company)s, %(currency)s, g.product, %(unit)s,
            g.sold + g.left_over, g.sold + g.left_over, %(supplier)s,
            g.location, %(to_date)s::date - 366, %(to_date)s::date - 366,
            'done', p.cost, p.cost,
            %(to_date)s::date - 366 + interval '8 hours', 0
        FROM gen_stock AS g JOIN gen_product AS p ON p.id = g.product"""
    yield "availability counters", """
        INSERT INTO stock_availability (product, location, on_hand,
            reserved, version, create_date, create_uid)
        SELECT product, location, left_over, 0, 0, now(), 0
        FROM gen_stock"""


def main():
    args = parse_args()
    uri = args.uri if args.uri.endswith('/') else args.uri + '/'
    began = time.monotonic()
    activate(uri, args.database)
    print(f"activated: {time.monotonic() - began:.0f} s", flush=True)
    ids = setup_chain(args.database, args)
    print(f"company, {len(ids['stores'])} stores, "
        f"{len(ids['products'])} products, {len(ids['coupons'])} "
        f"campaigns: {time.monotonic() - began:.0f} s", flush=True)
    counts = bulk_insert(uri + args.database, ids, args)
    print(", ".join(f"{k} {v:,}" for k, v in counts.items()))
    record_insights(args.database)
    print(f"insights lines recorded: {time.monotonic() - began:.0f} s")
    print(f"total: {time.monotonic() - began:.0f} s")


if __name__ == '__main__':
    main()
