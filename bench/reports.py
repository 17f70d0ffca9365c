#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The owner's reports over a year of a chain on PostgreSQL.

Each report is read as its list view does (search with the client's page
of 1000 rows, then read the view's fields) with a one-year context, and the
anchor is a hand-written plain SQL GROUP BY over the same rows computing
the same figures, timed in the same run. The script prints both times, the
ratio and whether the totals of the page agree.

Fill the database first with tools/generate_chain.py.

Usage: bench/reports.py postgresql://user@host:port/ [--database omni_chain]
    [--repeat 3] [--to-date YYYY-MM-DD]
"""
import argparse
import datetime
import os
import statistics
import sys
import time

import psycopg

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
            CASE WHEN s.origin_store IS NOT NULL THEN 'endless_aisle'
                WHEN s.pickup_store IS NOT NULL THEN 'mall_pickup'
                WHEN s.web_shop IS NOT NULL THEN 'mall_delivery'
                ELSE 'back_office' END,
            COALESCE(s.origin_store, s.pickup_store, s.warehouse),
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
            AND NOT EXISTS (SELECT 1 FROM "sale_pickup_refund-sale_line" AS r
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
    GROUP BY {key}, channel
    ORDER BY revenue DESC NULLS LAST, {key}, channel
    LIMIT {page}"""

# name, model, fields of the list view, the anchor's SQL, and the pairs of
# (ORM field, SQL column) whose page totals must agree
REPORTS = [
    ("product channel", 'omni.insights.product_channel',
        ['product', 'channel', 'quantity', 'revenue', 'cost', 'margin',
            'margin_rate', 'share', 'previous_revenue', 'revenue_change'],
        COMPANY_LINES + CHANNEL_FIGURES.format(
            key='product', lines='lines', page=PAGE),
        [('revenue', 3), ('quantity', 2)]),
    ("category channel", 'omni.insights.category_channel',
        ['category', 'channel', 'quantity', 'revenue', 'cost', 'margin',
            'margin_rate', 'share', 'previous_revenue', 'revenue_change'],
        COMPANY_LINES + CHANNEL_FIGURES.format(
            key='category', page=PAGE,
            lines='lines JOIN product_product AS pp ON pp.id = lines.product '
            'JOIN "product_template-product_category" AS tc '
            'ON tc.template = pp.template'),
        [('revenue', 3), ('quantity', 2)]),
    ("store capability", 'omni.insights.store',
        ['store', 'members_acquired', 'members_bound', 'online_orders',
            'pickups', 'endless_aisle_orders', 'coupons_redeemed',
            'online_revenue'],
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
            AND s.origin_store IS NULL
            AND (s.pickup_store IS NOT NULL OR s.web_shop IS NOT NULL)
        GROUP BY p.member_join_store),
    pickups AS (
        SELECT pickup_store AS store, count(*) AS n FROM sale_sale
        WHERE company = %(company)s AND pickup_state = 'picked_up'
            AND pickup_handed_over_at >= %(from_date)s
            AND pickup_handed_over_at < %(to_date)s::date + 1
        GROUP BY pickup_store),
    aisle AS (
        SELECT origin_store AS store, count(*) AS n FROM sale_sale
        WHERE company = %(company)s
            AND state IN ('confirmed', 'processing', 'done')
            AND sale_date BETWEEN %(from_date)s AND %(to_date)s
            AND origin_store IS NOT NULL
        GROUP BY origin_store),
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
    ORDER BY online_revenue DESC NULLS LAST, w.id""",
        [('online_revenue', 7), ('members_acquired', 1), ('pickups', 4)]),
    ("member segment", 'omni.insights.member_segment',
        ['segment', 'members', 'average_spend', 'average_orders',
            'frequency', 'retention', 'uplift', 'spend'],
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
        GROUP BY l.party)
    SELECT CASE WHEN online AND store THEN 'omnichannel'
            WHEN online THEN 'online_only' ELSE 'store_only' END
            AS segment,
        count(*) AS members, sum(spend) AS spend, sum(orders) AS orders,
        sum(months) AS months, count(*) FILTER (WHERE months >= 2)
    FROM member GROUP BY 1 ORDER BY 1""",
        [('members', 1), ('spend', 2)]),
    ("inventory", 'omni.insights.inventory',
        ['product', 'location', 'quantity_sold', 'cost_of_sales', 'on_hand',
            'stock_value', 'turnover', 'days_of_inventory', 'sell_through'],
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
    ORDER BY cost DESC, product, warehouse
    LIMIT {PAGE}""",
        [('quantity_sold', 2), ('cost_of_sales', 3), ('on_hand', 4)]),
    ("coupon statistics", 'sale.promotion.coupon.statistic',
        ['coupon', 'issued', 'claimed', 'redeemed', 'rate', 'revenue'],
        """
    WITH redeemed AS (
        SELECT n.coupon, split_part(r.origin, ',', 1) AS model,
            split_part(r.origin, ',', 2)::integer AS document
        FROM sale_promotion_coupon_redemption AS r
        JOIN sale_promotion_coupon_number AS n ON n.id = r.number
        WHERE r.state = 'done' AND r.origin IS NOT NULL
            AND r.date >= %(from_date)s
            AND r.date < %(to_date)s::date + 1),
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
            AND NOT EXISTS (SELECT 1 FROM "sale_pickup_refund-sale_line" AS f
                WHERE f.line = l.id)
        GROUP BY r.coupon),
    numbers AS (
        SELECT coupon, count(*) AS issued,
            count(*) FILTER (WHERE issued_how = 'claim') AS claimed
        FROM sale_promotion_coupon_number WHERE party IS NOT NULL
            AND issued_at >= %(from_date)s
            AND issued_at < %(to_date)s::date + 1
        GROUP BY coupon),
    redemptions AS (
        SELECT n.coupon, count(*) AS redeemed
        FROM sale_promotion_coupon_redemption AS r
        JOIN sale_promotion_coupon_number AS n ON n.id = r.number
        WHERE r.state = 'done' AND r.date >= %(from_date)s
            AND r.date < %(to_date)s::date + 1
        GROUP BY n.coupon)
    SELECT coupon, numbers.issued, numbers.claimed,
        COALESCE(redemptions.redeemed, 0),
        (SELECT sum(amount) FROM revenue WHERE revenue.coupon = numbers.coupon)
    FROM numbers LEFT JOIN redemptions USING (coupon)
    ORDER BY coupon DESC""",
        [('issued', 1), ('redeemed', 3), ('revenue', 4)]),
    ]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('uri', help="PostgreSQL server URI")
    parser.add_argument('--database', default='omni_chain')
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument(
        '--to-date', type=datetime.date.fromisoformat,
        default=datetime.date.today(),
        help="the last day of the year of the reports")
    parser.add_argument(
        '--only', help="the names of the reports to run, comma separated")
    return parser.parse_args()


def median_time(func, repeat):
    "Return the median time of repeat calls after a warm-up and the result"
    result = func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def tryton_read(database, context, model, fields):
    "Return a function reading the page of the report as its list view"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    def read():
        with Transaction().start(database, 1, context=context, readonly=True):
            Model = Pool().get(model)
            records = Model.search([], limit=PAGE)
            # The client shows the record name of the linked records
            names = [f'{f}.rec_name' for f in fields
                if Model._fields[f]._type == 'many2one']
            return Model.read(list(map(int, records)), fields + names)
    return read


def plain_sql(conninfo, query, params):
    "Return a function running the query on its own connection"
    connection = psycopg.connect(conninfo, autocommit=True)

    def run():
        return connection.execute(query, params).fetchall()
    return run


def total(rows, key):
    return sum(float(r[key] or 0) for r in rows)


def main():
    args = parse_args()
    uri = args.uri if args.uri.endswith('/') else args.uri + '/'
    os.environ['TRYTOND_DATABASE_URI'] = uri
    os.environ.pop('TRYTOND_CONFIG', None)
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool(args.database).init()
    with Transaction().start(args.database, 1):
        company, = Pool().get('company.company').search([], limit=1)
        company = company.id
    to_date = args.to_date
    from_date = to_date - datetime.timedelta(days=364)
    context = {
        'company': company, 'from_date': from_date, 'to_date': to_date}
    params = {
        'company': company, 'from_date': from_date, 'to_date': to_date,
        # The channel reports compare with the same-length period before
        'lines_from': from_date - (to_date - from_date)
        - datetime.timedelta(days=1),
        # The member report covers the 12 months up to the last day
        'year_from': to_date.replace(year=to_date.year - 1)
        + datetime.timedelta(days=1),
        }
    conninfo = uri + args.database
    only = args.only.split(',') if args.only else None
    print(f"{args.database}: {from_date} to {to_date}, median of "
        f"{args.repeat} after a warm-up, pages of {PAGE} rows")
    print(f"{'report':18} {'rows':>5} {'Tryton':>8} {'plain SQL':>10} "
        f"{'ratio':>6}  totals")
    failed = False
    for name, model, fields, query, checks in REPORTS:
        if only and name not in only:
            continue
        ours, records = median_time(
            tryton_read(args.database, context, model, fields), args.repeat)
        anchor, rows = median_time(
            plain_sql(conninfo, query, params), args.repeat)
        agree = all(
            abs(total(records, f) - total(rows, c))
            <= 0.01 * max(1, len(rows))
            for f, c in checks) and len(records) == len(rows)
        failed |= not agree
        sums = ", ".join(
            f"{f} {total(records, f):,.2f}" for f, _ in checks)
        print(f"{name:18} {len(records):5} {ours:7.3f}s {anchor:9.3f}s "
            f"{ours / anchor:6.2f}  {'agree' if agree else 'DIFFER'}: "
            f"{sums}", flush=True)
        if not agree:
            print("    plain SQL: " + ", ".join(
                    f"{c} {total(rows, c):,.2f}" for _, c in checks)
                + f", {len(rows)} rows")
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
