#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The owner's reports and dashboard over a year of a chain on PostgreSQL.

Each report is read as its list view does (search with the client's page
of 1000 rows, then read the view's fields) for the last 30 days (the
default period), the last whole month and the year, of every store and of
one store. The anchor is a hand-written plain SQL GROUP BY over the same
rows computing the same figures, timed in the same run. The script prints
both times, the ratio and whether the totals of the page agree.

Then the owner's dashboard: its data route over HTTP with a Tryton
session, the first request and the median after it (charts cached), its
figures in process with the charts' cache cleared, and the page in
headless Chromium in a phone-sized window from the login to the last
chart drawn. The top products of its charts must agree with plain SQL.

Fill the database first with tools/generate_chain.py; the script adds
the owner's login bench_owner.

Usage: bench/reports.py postgresql://user@host:port/ [--database omni_chain]
    [--repeat 3] [--to-date YYYY-MM-DD] [--store CODE] [--only NAMES]
    [--periods '30 days,month,year'] [--no-dashboard]
"""
import argparse
import base64
import contextlib
import datetime
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

import psycopg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = 1000
# The warehouse of each location and the company's cost prices
STORES_AND_COSTS = """
    WITH stores AS (
        SELECT l.id AS location, w.id AS warehouse
        FROM stock_location AS l
        JOIN stock_location AS w
            ON w."left" <= l."left" AND w."right" >= l."right"
        WHERE w.type = 'warehouse'),
    costs AS (
        SELECT product, cost_price FROM product_cost_price
        WHERE company = %(company)s),
"""
COMPANY_LINES = STORES_AND_COSTS + """\
    lines AS (
        SELECT s.id AS document, 'sale.point.sale,' || s.id AS origin,
            s.date, 'pos' AS channel, st.warehouse AS store,
            s.member AS party, l.product, l.quantity,
            l.quantity * l.unit_list_price AS revenue,
            l.quantity * COALESCE(c.cost_price, 0) AS cost
        FROM sale_point_sale_line AS l
        JOIN sale_point_sale AS s ON s.id = l.sale
        JOIN sale_point AS p ON p.id = s.point
        JOIN stores AS st ON st.location = p.storage_location
        LEFT JOIN costs AS c ON c.product = l.product
        WHERE s.company = %(company)s AND s.state IN ('done', 'posted')
            AND s.date BETWEEN %(lines_from)s AND %(to_date)s
        UNION ALL
        SELECT -s.id, 'sale.sale,' || s.id, s.sale_date,
            CASE WHEN s.credited_store IS NOT NULL THEN 'endless_aisle'
                WHEN s.pickup_store IS NOT NULL THEN 'mall_pickup'
                WHEN s.web_shop IS NOT NULL THEN 'mall_delivery'
                ELSE 'back_office' END,
            COALESCE(s.credited_store, s.pickup_store, s.warehouse),
            s.party, l.product, COALESCE(l.actual_quantity, l.quantity),
            COALESCE(l.actual_quantity, l.quantity) * l.unit_price,
            COALESCE(l.actual_quantity, l.quantity)
                * COALESCE(c.cost_price, 0)
        FROM sale_line AS l
        JOIN sale_sale AS s ON s.id = l.sale
        LEFT JOIN costs AS c ON c.product = l.product
        WHERE s.company = %(company)s
            AND s.state IN ('confirmed', 'processing', 'done')
            AND l.type = 'line' AND l.product IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM "sale_refund-sale_line" AS r
                WHERE r.line = l.id)
            AND s.sale_date BETWEEN %(lines_from)s AND %(to_date)s)
"""
CHANNEL_FIGURES = """
    SELECT {key}, channel,
        sum(quantity) FILTER (WHERE date >= %(from_date)s) AS quantity,
        sum(revenue) FILTER (WHERE date >= %(from_date)s) AS revenue,
        sum(cost) FILTER (WHERE date >= %(from_date)s) AS cost,
        sum(sum(revenue) FILTER (WHERE date >= %(from_date)s))
            OVER (PARTITION BY {key}) AS total_revenue,
        sum(revenue) FILTER (WHERE date < %(from_date)s)
            AS previous_revenue
    FROM {lines}
    WHERE lines.date >= %(previous_from)s
        AND (%(store)s::integer IS NULL OR lines.store = %(store)s)
    GROUP BY {key}, channel
    ORDER BY revenue DESC NULLS LAST, {key}, channel
    LIMIT {page}"""

# name, model, the anchor's SQL, and the pairs of (ORM field, SQL column)
# whose page totals must agree
REPORTS = [
    ("product channel", 'insights.product_channel',
        COMPANY_LINES + CHANNEL_FIGURES.format(
            key='product', lines='lines', page=PAGE),
        [('revenue', 3), ('quantity', 2)]),
    ("category channel", 'insights.category_channel',
        COMPANY_LINES + CHANNEL_FIGURES.format(
            key='category', page=PAGE,
            lines='lines JOIN product_product AS pp ON pp.id = lines.product '
            'JOIN "product_template-product_category" AS tc '
            'ON tc.template = pp.template'),
        [('revenue', 3), ('quantity', 2)]),
    ("store capability", 'insights.store',
        COMPANY_LINES + """,
    members AS (
        SELECT member_join_store AS store, count(*) AS n FROM party_party
        WHERE member_joined_at >= %(from_date)s
            AND member_joined_at < %(to_date)s::date + 1
        GROUP BY member_join_store),
    bound AS (
        SELECT p.member_join_store AS store, count(*) AS n
        FROM (SELECT party, min(create_date) AS at
            FROM party_wechat_identity GROUP BY party) AS i
        JOIN party_party AS p ON p.id = i.party
        WHERE i.at >= %(from_date)s AND i.at < %(to_date)s::date + 1
        GROUP BY p.member_join_store),
    online AS (
        SELECT p.member_join_store AS store, count(*) AS n
        FROM sale_sale AS s JOIN party_party AS p ON p.id = s.party
        WHERE s.company = %(company)s
            AND s.state IN ('confirmed', 'processing', 'done')
            AND s.sale_date BETWEEN %(from_date)s AND %(to_date)s
            AND s.credited_store IS NULL
            AND (s.pickup_store IS NOT NULL OR s.web_shop IS NOT NULL)
        GROUP BY p.member_join_store),
    pickups AS (
        SELECT pickup_store AS store, count(*) AS n FROM sale_sale
        WHERE company = %(company)s AND pickup_state = 'picked_up'
            AND pickup_handed_over_at >= %(from_date)s
            AND pickup_handed_over_at < %(to_date)s::date + 1
        GROUP BY pickup_store),
    aisle AS (
        SELECT credited_store AS store, count(*) AS n FROM sale_sale
        WHERE company = %(company)s
            AND state IN ('confirmed', 'processing', 'done')
            AND sale_date BETWEEN %(from_date)s AND %(to_date)s
            AND credited_store IS NOT NULL
        GROUP BY credited_store),
    coupons AS (
        SELECT store, count(*) AS n
        FROM sale_promotion_coupon_redemption
        WHERE state = 'done' AND date >= %(from_date)s
            AND date < %(to_date)s::date + 1
        GROUP BY store),
    revenue AS (
        SELECT CASE WHEN l.channel = 'endless_aisle' THEN l.store
                ELSE p.member_join_store END AS store,
            sum(l.revenue) AS amount
        FROM lines AS l LEFT JOIN party_party AS p ON p.id = l.party
        WHERE l.channel IN ('mall_delivery', 'mall_pickup', 'endless_aisle')
            AND l.date >= %(from_date)s
        GROUP BY 1)
    SELECT w.id, COALESCE(members.n, 0), COALESCE(bound.n, 0),
        COALESCE(online.n, 0), COALESCE(pickups.n, 0), COALESCE(aisle.n, 0),
        COALESCE(coupons.n, 0), revenue.amount AS online_revenue
    FROM stock_location AS w
    LEFT JOIN members ON members.store = w.id
    LEFT JOIN bound ON bound.store = w.id
    LEFT JOIN online ON online.store = w.id
    LEFT JOIN pickups ON pickups.store = w.id
    LEFT JOIN aisle ON aisle.store = w.id
    LEFT JOIN coupons ON coupons.store = w.id
    LEFT JOIN revenue ON revenue.store = w.id
    WHERE w.type = 'warehouse' AND COALESCE(members.n, bound.n, online.n,
        pickups.n, aisle.n, coupons.n, revenue.amount) IS NOT NULL
        AND (%(store)s::integer IS NULL OR w.id = %(store)s)
    ORDER BY online_revenue DESC NULLS LAST, w.id""",
        [('online_revenue', 7), ('members_acquired', 1), ('pickups', 4)]),
    ("member segment", 'insights.member_segment',
        COMPANY_LINES + """,
    member AS (
        SELECT l.party,
            bool_or(l.channel IN ('mall_delivery', 'mall_pickup'))
                AS online,
            bool_or(l.channel IN ('pos', 'endless_aisle')) AS store,
            sum(l.revenue) AS spend,
            count(DISTINCT l.document) AS orders,
            count(DISTINCT date_trunc('month', l.date)) AS months
        FROM lines AS l JOIN party_party AS p ON p.id = l.party
        WHERE p.member_number IS NOT NULL
            AND l.channel <> 'back_office'
            AND l.date >= %(year_from)s
            AND (%(store)s::integer IS NULL OR l.store = %(store)s)
        GROUP BY l.party)
    SELECT CASE WHEN online AND store THEN 'omnichannel'
            WHEN online THEN 'online_only' ELSE 'store_only' END
            AS segment,
        count(*) AS members, sum(spend) AS spend, sum(orders) AS orders,
        sum(months) AS months, count(*) FILTER (WHERE months >= 2)
    FROM member GROUP BY 1 ORDER BY 1""",
        [('members', 1), ('spend', 2)]),
    ("inventory", 'insights.inventory',
        STORES_AND_COSTS + f"""\
    sold AS (
        SELECT m.product, st.warehouse, sum(m.internal_quantity) AS sold,
            sum(m.internal_quantity * COALESCE(m.cost_price, c.cost_price, 0))
                AS cost
        FROM stock_move AS m
        JOIN stores AS st ON st.location = m.from_location
        JOIN stock_location AS t ON t.id = m.to_location
        LEFT JOIN costs AS c ON c.product = m.product
        WHERE m.state = 'done' AND m.company = %(company)s
            AND t.type = 'customer'
            AND m.effective_date BETWEEN %(from_date)s AND %(to_date)s
        GROUP BY m.product, st.warehouse),
    held AS (
        SELECT a.product, st.warehouse, sum(a.on_hand) AS on_hand,
            sum(a.on_hand * COALESCE(c.cost_price, 0)) AS value
        FROM stock_availability AS a
        JOIN stores AS st ON st.location = a.location
        LEFT JOIN costs AS c ON c.product = a.product
        GROUP BY a.product, st.warehouse)
    SELECT product, warehouse, COALESCE(sold.sold, 0),
        COALESCE(sold.cost, 0) AS cost, COALESCE(held.on_hand, 0),
        COALESCE(held.value, 0)
    FROM sold FULL JOIN held USING (product, warehouse)
    WHERE %(store)s::integer IS NULL OR warehouse = %(store)s
    ORDER BY cost DESC, product, warehouse
    LIMIT {PAGE}""",
        [('quantity_sold', 2), ('cost_of_sales', 3), ('on_hand', 4)]),
    ("coupon statistics", 'sale.promotion.coupon.statistic',
        """
    WITH redeemed AS (
        SELECT n.coupon, split_part(r.origin, ',', 1) AS model,
            split_part(r.origin, ',', 2)::integer AS document
        FROM sale_promotion_coupon_redemption AS r
        JOIN sale_promotion_coupon_number AS n ON n.id = r.number
        WHERE r.state = 'done' AND r.origin IS NOT NULL
            AND r.date >= %(from_date)s
            AND r.date < %(to_date)s::date + 1
            AND (%(store)s::integer IS NULL OR r.store = %(store)s)),
    revenue AS (
        SELECT r.coupon, sum(l.quantity * l.unit_list_price) AS amount
        FROM redeemed AS r
        JOIN sale_point_sale AS s
            ON r.model = 'sale.point.sale' AND s.id = r.document
        JOIN sale_point_sale_line AS l ON l.sale = s.id
        WHERE s.company = %(company)s AND s.state IN ('done', 'posted')
        GROUP BY r.coupon
        UNION ALL
        SELECT r.coupon,
            sum(COALESCE(l.actual_quantity, l.quantity) * l.unit_price)
        FROM redeemed AS r
        JOIN sale_sale AS s
            ON r.model = 'sale.sale' AND s.id = r.document
        JOIN sale_line AS l ON l.sale = s.id
        WHERE s.company = %(company)s
            AND s.state IN ('confirmed', 'processing', 'done')
            AND l.type = 'line' AND l.product IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM "sale_refund-sale_line" AS f
                WHERE f.line = l.id)
        GROUP BY r.coupon),
    numbers AS (
        SELECT coupon, count(*) AS issued,
            count(*) FILTER (WHERE issued_how = 'claim') AS claimed
        FROM sale_promotion_coupon_number AS n
        JOIN party_party AS p ON p.id = n.party
        WHERE issued_at >= %(from_date)s
            AND issued_at < %(to_date)s::date + 1
            AND (%(store)s::integer IS NULL
                OR p.member_join_store = %(store)s)
        GROUP BY coupon),
    redemptions AS (
        SELECT n.coupon, count(*) AS redeemed
        FROM sale_promotion_coupon_redemption AS r
        JOIN sale_promotion_coupon_number AS n ON n.id = r.number
        WHERE r.state = 'done' AND r.date >= %(from_date)s
            AND r.date < %(to_date)s::date + 1
            AND (%(store)s::integer IS NULL OR r.store = %(store)s)
        GROUP BY n.coupon)
    SELECT coupon, COALESCE(numbers.issued, 0), COALESCE(numbers.claimed, 0),
        COALESCE(redemptions.redeemed, 0),
        (SELECT sum(amount) FROM revenue AS v
            WHERE v.coupon = COALESCE(numbers.coupon, redemptions.coupon))
    FROM numbers FULL JOIN redemptions USING (coupon)
    ORDER BY coupon DESC""",
        [('issued', 1), ('redeemed', 3), ('revenue', 4)]),
    ]
# The coupon statistics filtered on a store are their own list
STORE_MODELS = {
    'sale.promotion.coupon.statistic':
        'sale.promotion.coupon.statistic.store',
    }


# The dashboard's charts of the last 30 days, recomputed in plain SQL: the
# revenue of the top 8 products with the total of all, and the stock value
# of the top 8 products with the total of all
DASHBOARD_PRODUCTS = COMPANY_LINES + """
    SELECT product, sum(revenue) AS revenue, sum(sum(revenue)) OVER ()
    FROM lines
    WHERE date >= %(from_date)s
        AND (%(store)s::integer IS NULL OR store = %(store)s)
    GROUP BY product
    ORDER BY revenue DESC, product
    LIMIT 8"""
DASHBOARD_STOCK = STORES_AND_COSTS + """\
    held AS (
        SELECT a.product, a.on_hand * COALESCE(c.cost_price, 0) AS value
        FROM stock_availability AS a
        JOIN stores AS st ON st.location = a.location
        LEFT JOIN costs AS c ON c.product = a.product
        WHERE %(store)s::integer IS NULL OR st.warehouse = %(store)s)
    SELECT product, sum(value) AS value, sum(sum(value)) OVER ()
    FROM held
    GROUP BY product
    ORDER BY value DESC, product
    LIMIT 8"""
OWNER = ('bench_owner', 'owner-bench-2026')
PHONE = (414, 896)
# Times the page from the login's submit to the frame after it is ready,
# that is with every chart drawn (Chart.js draws without animation)
LOGIN_TIMER = """
    window.benchDrawn = null;
    document.getElementById('login').addEventListener('submit', () => {
        window.benchStart = performance.now();
    }, {capture: true, once: true});
    new MutationObserver((records, observer) => {
        if (document.body.dataset.state === 'ready') {
            observer.disconnect();
            requestAnimationFrame(() => {
                window.benchDrawn = performance.now() - window.benchStart;
            });
        }
    }).observe(document.body, {attributes: true});
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('uri', help="PostgreSQL server URI")
    parser.add_argument('--database', default='omni_chain')
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument(
        '--to-date', type=datetime.date.fromisoformat,
        default=datetime.date.today(),
        help="the last day of the reports' periods")
    parser.add_argument(
        '--store', default='S01',
        help="the code of the store of the filtered legs")
    parser.add_argument(
        '--only', help="the names of the reports to run, comma separated")
    parser.add_argument(
        '--periods', default='30 days,month,year',
        help="the periods to run, comma separated")
    parser.add_argument(
        '--no-dashboard', action='store_true',
        help="skip the dashboard's legs")
    return parser.parse_args()


def periods(to_date):
    """Return the name, first and last day of the default period (the last
    30 days), the last whole month and the year up to to_date"""
    month_end = to_date.replace(day=1) - datetime.timedelta(days=1)
    return [
        ('30 days', to_date - datetime.timedelta(days=29), to_date),
        ('month', month_end.replace(day=1), month_end),
        ('year', to_date - datetime.timedelta(days=364), to_date),
        ]


def sql_params(company, from_date, to_date, store):
    # The channel reports compare with the same-length period before
    previous_from = from_date - (to_date - from_date) - datetime.timedelta(
        days=1)
    # The member report covers the 12 months up to the last day
    year_from = to_date.replace(year=to_date.year - 1) + datetime.timedelta(
        days=1)
    return {
        'company': company, 'from_date': from_date, 'to_date': to_date,
        'store': store, 'previous_from': previous_from,
        'year_from': year_from, 'lines_from': min(previous_from, year_from),
        }


def median_time(func, repeat):
    "Return the median time of repeat calls after a warm-up and the result"
    result = func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def tryton_read(database, context, model, domain):
    """Return a function reading the page of the report as its list view
    does: search, then read the view's fields and the record names of its
    links, each in its own transaction as the client's two calls"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    def read():
        with Transaction().start(database, 1, context=context, readonly=True):
            Model = Pool().get(model)
            ids = list(map(int, Model.search(domain, limit=PAGE)))
            view = Model.fields_view_get(view_type='tree')
        with Transaction().start(database, 1, context=context, readonly=True):
            Model = Pool().get(model)
            fields = list(view['fields'])
            names = [f'{f}.rec_name' for f in fields
                if Model._fields[f]._type == 'many2one']
            return Model.read(ids, fields + names)
    return read


def plain_sql(conninfo, query, params):
    "Return a function running the query on its own connection"
    connection = psycopg.connect(conninfo, autocommit=True)

    def run():
        return connection.execute(query, params).fetchall()
    return run


def total(rows, key):
    return sum(float(r[key] or 0) for r in rows)


def report_legs(args, conninfo, company, stores):
    """Time each report for each period, of every store and of one store,
    against its anchor; return whether all agree and the anchor times by
    period and store"""
    wanted = args.periods.split(',')
    only = args.only.split(',') if args.only else None
    failed = False
    anchors = {}
    print(f"{'report':18} {'period':8} {'store':6} {'rows':>5} {'Tryton':>8} "
        f"{'plain SQL':>10} {'ratio':>6}  totals")
    for period, from_date, to_date in periods(args.to_date):
        if period not in wanted:
            continue
        for code, store in stores:
            context = {
                'company': company, 'from_date': from_date,
                'to_date': to_date, 'store': store}
            params = sql_params(company, from_date, to_date, store)
            for name, model, query, checks in REPORTS:
                if only and name not in only:
                    continue
                domain = []
                if store and model in STORE_MODELS:
                    model = STORE_MODELS[model]
                    domain = [('store', '=', store)]
                ours, records = median_time(
                    tryton_read(args.database, context, model, domain),
                    args.repeat)
                anchor, rows = median_time(
                    plain_sql(conninfo, query, params), args.repeat)
                anchors[period, code, name] = anchor
                agree = all(
                    abs(total(records, f) - total(rows, c))
                    <= 0.01 * max(1, len(rows))
                    for f, c in checks) and len(records) == len(rows)
                failed |= not agree
                sums = ", ".join(
                    f"{f} {total(records, f):,.2f}" for f, _ in checks)
                print(f"{name:18} {period:8} {code:6} {len(records):5} "
                    f"{ours:7.3f}s {anchor:9.3f}s {ours / anchor:6.2f}  "
                    f"{'agree' if agree else 'DIFFER'}: {sums}", flush=True)
                if not agree:
                    print("    plain SQL: " + ", ".join(
                            f"{c} {total(rows, c):,.2f}" for _, c in checks)
                        + f", {len(rows)} rows")
    return failed, anchors


def owner(database, company):
    "Return the id of the bench's owner, made with the owner's group"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(database, 0) as transaction:
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        values = {
            'password': OWNER[1],
            'groups': [('add', [
                        ModelData.get_id('omni_insights', 'group_owner')])],
            'companies': [('add', [company])],
            'company': company,
            }
        users = User.search([('login', '=', OWNER[0])])
        if users:
            User.write(users, values)
        else:
            users = User.create([
                    {'login': OWNER[0], 'name': "老板", **values}])
        transaction.commit()
        return users[0].id


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def trytond_server(uri, database):
    "Serve the database with trytond on a free port; yield its URL"
    port = free_port()
    env = dict(os.environ, TRYTOND_DATABASE_URI=uri,
        TRYTOND_WEB__LISTEN=f'127.0.0.1:{port}')
    env.pop('TRYTOND_CONFIG', None)
    process = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), 'trytond'),
            '-d', database],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(600):
            try:
                get_json(f'{url}/{database}/omni/ops/v1/health')
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError("trytond stopped") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def get_json(url, data=None, auth=None):
    request = urllib.request.Request(url, data=data,
        headers={'Content-Type': 'application/json'})
    if auth:
        request.add_header('Authorization', auth)
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.load(response)


def login(url, database):
    "Log the owner in as the dashboard does; return the session header"
    answer = get_json(f'{url}/{database}/rpc/', json.dumps({
                'id': 1, 'method': 'common.db.login',
                'params': [OWNER[0], {'password': OWNER[1]}, 'zh_CN'],
                }).encode())
    user_id, session = answer['result'][:2]
    return 'Session ' + base64.b64encode(
        f'{OWNER[0]}:{user_id}:{session}'.encode()).decode()


def figures_in_process(database, user, company, store, repeat):
    """Return the median time of the dashboard's figures computed in
    process with the charts' cache cleared"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    def compute():
        with Transaction().start(database, user, readonly=True, context={
                    'company': company, 'language': 'zh_CN'}):
            Dashboard = Pool().get('insights.dashboard')
            Company = Pool().get('company.company')
            Dashboard._charts_cache.clear()
            stores = Dashboard.stores()
            return Dashboard.figures(Company(company), stores,
                {s.id: s for s in stores}.get(store))
    return median_time(compute, repeat)[0]


def dashboard_agrees(figures, conninfo, params):
    """Whether the top products of the charts and their totals agree with
    plain SQL"""
    connection = psycopg.connect(conninfo, autocommit=True)
    charts = figures['charts']
    products = connection.execute(DASHBOARD_PRODUCTS, params).fetchall()
    stock = connection.execute(DASHBOARD_STOCK, params).fetchall()
    revenue = charts['product_channel']
    top_revenue = [sum(v) for v in zip(*revenue['series'].values(),
            strict=True)]
    inventory = charts['inventory']

    def close(a, b):
        return abs(float(a) - float(b)) <= 0.01 * max(1, len(products))
    return (len(top_revenue) == len(products)
        and all(close(a, r[1]) for a, r in zip(
                top_revenue, products, strict=True))
        and close(sum(top_revenue) + revenue['others']['revenue'],
            products[0][2])
        and all(close(a, r[1]) for a, r in zip(
                inventory['stock_value'], stock, strict=True))
        and close(sum(inventory['stock_value'])
            + inventory['others']['stock_value'], stock[0][2]))


def dashboard_legs(args, uri, conninfo, company, stores, anchors):
    """Time the dashboard's data route over HTTP with the owner's session,
    its figures in process without cache, and the page in Chromium from
    the login to the last chart drawn"""
    database = args.database
    user = owner(database, company)
    from_date = args.to_date - datetime.timedelta(days=29)
    failed = False
    print(f"\n{'dashboard':26} {'store':6} {'first':>8} {'median':>8} "
        f"{'anchor':>8} {'ratio':>6}  totals")
    with trytond_server(uri, database) as url:
        auth = login(url, database)
        for code, store in stores:
            query = f'?store={store}' if store else ''

            def data(query=query):
                return get_json(
                    f'{url}/{database}/omni/dashboard/data{query}',
                    auth=auth)
            start = time.perf_counter()
            data()
            first = time.perf_counter() - start
            warm, figures = median_time(data, args.repeat)
            anchor = sum(t for (p, c, n), t in anchors.items()
                if p == '30 days' and c == code
                and n != 'coupon statistics')
            agree = dashboard_agrees(figures, conninfo,
                sql_params(company, from_date, args.to_date, store))
            failed |= not agree
            ratio = f"{warm / anchor:6.2f}" if anchor else f"{'':6}"
            print(f"{'HTTP data route':26} {code:6} {first:7.3f}s "
                f"{warm:7.3f}s {anchor:7.3f}s {ratio}  "
                f"{'agree' if agree else 'DIFFER'}", flush=True)
            uncached = figures_in_process(
                database, user, company, store, args.repeat)
            print(f"{'in process, no cache':26} {code:6} {'':8} "
                f"{uncached:7.3f}s", flush=True)
    with trytond_server(uri, database) as url:
        first, warm = chromium_dashboard(url, database, args.repeat)
        print(f"{'Chromium login to charts':26} {'all':6} {first:7.3f}s "
            f"{warm:7.3f}s  ({PHONE[0]}x{PHONE[1]})", flush=True)
    return failed


def chromium_dashboard(url, database, repeat):
    """Return the first and the median of the next repeat times from the
    login to the last chart drawn, in a phone-sized window"""
    sys.path.insert(0, os.path.join(ROOT, 'tests'))
    from demo_site import chromium
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait
    times = []
    with chromium() as driver:
        driver.set_window_size(*PHONE)
        driver.get(f'{url}/{database}/omni/dashboard/')
        for _ in range(repeat + 1):
            WebDriverWait(driver, 60).until(
                lambda d: d.find_element(By.ID, 'login').is_displayed())
            driver.execute_script(LOGIN_TIMER)
            driver.find_element(By.ID, 'login-name').clear()
            driver.find_element(By.ID, 'login-name').send_keys(OWNER[0])
            driver.find_element(By.ID, 'login-password').send_keys(OWNER[1])
            driver.find_element(By.CSS_SELECTOR, '#login button').click()
            WebDriverWait(driver, 300).until(
                lambda d: d.execute_script("return window.benchDrawn"))
            times.append(driver.execute_script("return window.benchDrawn"))
            assert all(driver.execute_script(
                    "return ['product_channel', 'category_channel', 'store',"
                    " 'member_segment', 'inventory'].map("
                    "n => Chart.getChart('chart-' + n).data.labels.length"
                    " > 0)"))
            driver.find_element(By.ID, 'logout').click()
    return times[0] / 1000, statistics.median(times[1:]) / 1000


def main():
    args = parse_args()
    uri = args.uri if args.uri.endswith('/') else args.uri + '/'
    os.environ['TRYTOND_DATABASE_URI'] = uri
    os.environ.pop('TRYTOND_CONFIG', None)
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool(args.database).init()
    with Transaction().start(args.database, 1):
        pool = Pool()
        company, = pool.get('company.company').search([], limit=1)
        company = company.id
        store, = pool.get('stock.location').search([
                ('type', '=', 'warehouse'), ('code', '=', args.store)])
        stores = [('all', None), (store.code, store.id)]
    conninfo = uri + args.database
    print(f"{args.database}: periods up to {args.to_date}, median of "
        f"{args.repeat} after a warm-up, pages of {PAGE} rows")
    failed, anchors = report_legs(args, conninfo, company, stores)
    if not args.no_dashboard:
        failed |= dashboard_legs(
            args, uri, conninfo, company, stores, anchors)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
