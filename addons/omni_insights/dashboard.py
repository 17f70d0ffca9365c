# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The owner's phone dashboard: a page and its static files served by the
module, and a JSON route of its figures for a Tryton session.

The page logs in with common.db.login and sends the session in the
Authorization header as sao does. The owner sees every store, a store
manager the stores an administrator assigned him."""
import datetime
from functools import wraps
from http import HTTPStatus
from pathlib import Path
from zoneinfo import ZoneInfo

from sql import Column, Literal, Null, Window
from sql.aggregate import Count, Sum
from sql.conditionals import Case, Coalesce
from trytond import security
from trytond.cache import Cache
from trytond.model import Model
from trytond.pool import Pool
from trytond.protocols.wrappers import with_pool, with_transaction
from trytond.transaction import Transaction
from trytond.wsgi import app

from trytond.modules.omni_inventory_bridge.http import (
    json_error,
    json_response,
    prefix,
    serve_page,
)

DASHBOARD_PREFIX = prefix('dashboard')
STATIC = Path(__file__).parent / 'static'
OPEN_RESERVATIONS = ['held', 'confirmed']
WAITING_PICKUPS = ['paid', 'ready']
REPORT_DAYS = 30
TOP = 8
# The charts of a company and store are computed at most once in this time
# by each process; the KPI cards are always live.
CHARTS_CACHE = datetime.timedelta(minutes=5)


def amount(value):
    return round(float(value or 0), 2)


class Dashboard(Model):
    "Owner Dashboard"
    __name__ = 'insights.dashboard'
    _charts_cache = Cache(
        'insights.dashboard.charts', duration=CHARTS_CACHE,
        context=False)

    @classmethod
    def is_owner(cls):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        return ModelData.get_id('omni_insights', 'group_owner') in (
            User.get_groups())

    @classmethod
    def sees_all_stores(cls):
        "Whether the user may see the figures of the whole company"
        User = Pool().get('res.user')
        return cls.is_owner() or User.get_stores()[0]

    @classmethod
    def stores(cls):
        """Return the warehouses the user may see: all for the owner, the
        stores he works at for a store manager, else none"""
        pool = Pool()
        Location = pool.get('stock.location')
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        domain = [('type', '=', 'warehouse')]
        if not cls.is_owner():
            if (ModelData.get_id(
                        'omni_inventory_bridge', 'group_store_manager')
                    not in User.get_groups()):
                return []
            all_stores, stores = User.get_stores()
            if not all_stores:
                domain.append(('id', 'in', stores))
        return Location.search(domain, order=[('code', 'ASC')])

    @classmethod
    def periods(cls, company):
        "Return today, the Monday of this week and their start in UTC"
        Date = Pool().get('ir.date')
        today = Date.today()
        monday = today - datetime.timedelta(days=today.weekday())
        zone = ZoneInfo(company.timezone or 'UTC')

        def start(date):
            return datetime.datetime.combine(date, datetime.time(),
                tzinfo=zone).astimezone(datetime.UTC).replace(
                    tzinfo=None)
        return {
            'today': (today, today, start(today)),
            'week': (monday, today, start(monday)),
            }

    @classmethod
    def figures(cls, company, stores, store=None):
        """Return the KPIs of today and this week and the five reports over
        the last 30 days, of the store or of every store"""
        periods = cls.periods(company)
        now = datetime.datetime.now(ZoneInfo(company.timezone or 'UTC'))
        today = periods['today'][0]
        warehouses = [store] if store else stores
        with Transaction().set_context(company=company.id,
                store=store.id if store else None,
                from_date=today - datetime.timedelta(days=REPORT_DAYS - 1),
                to_date=today):
            return {
                'today': today.isoformat(),
                'week_start': periods['week'][0].isoformat(),
                'currency': company.currency.code,
                'store': store.id if store else None,
                'stores': [{'id': s.id, 'name': s.rec_name} for s in stores],
                'all_stores': bool(cls.sees_all_stores()),
                'as_of': now.strftime('%H:%M'),
                'channels': cls.selection(
                    'insights.line', 'channel'),
                'sales': {k: cls.sales(company, *p[:2])
                    for k, p in periods.items()},
                'reservations': cls.reservations(warehouses, periods),
                'low_stock': cls.low_stock(company, warehouses),
                'pickups': cls.pickups(company, store),
                'coupons': cls.coupons(company, store, periods),
                'charts': cls.charts(company, store, today, now),
                }

    @classmethod
    def charts(cls, company, store, today, now):
        """Return the five reports of the context as charts, from the cache
        if they were computed less than CHARTS_CACHE ago, with the time
        they were computed"""
        key = (company.id, store.id if store else None, today.isoformat(),
            Transaction().language)
        charts = cls._charts_cache.get(key)
        if charts is None:
            charts = {
                'as_of': now.strftime('%H:%M'),
                'refresh_minutes': CHARTS_CACHE.seconds // 60,
                'product_channel': cls.channel_chart(
                    'insights.product_channel', 'product'),
                'category_channel': cls.channel_chart(
                    'insights.category_channel', 'category'),
                'store': cls.store_chart(),
                'member_segment': cls.member_segment_chart(),
                'inventory': cls.inventory_chart(),
                }
            cls._charts_cache.set(key, charts)
        return charts

    @classmethod
    def selection(cls, model, field):
        "Return the translated selection of the field as a dictionary"
        Model = Pool().get(model)
        return dict(
            Model.fields_get([field])[field]['selection'])

    @classmethod
    def sales(cls, company, from_date, to_date):
        "Return the revenue per channel and its total"
        Line = Pool().get('insights.line')
        lines = Line.lines(company.id, from_date, to_date)
        cursor = Transaction().connection.cursor()
        cursor.execute(*lines.select(
                lines.channel, Sum(lines.revenue),
                group_by=[lines.channel]))
        channels = {c: amount(r) for c, r in cursor}
        return {
            'total': amount(sum(channels.values())),
            'channels': channels,
            }

    @classmethod
    def reservations(cls, warehouses, periods):
        "Return the open reservations and those made today and this week"
        Reservation = Pool().get('stock.reservation')
        domain = [('location', 'child_of',
                [w.id for w in warehouses], 'parent')]
        result = {
            'open': Reservation.search_count(
                domain + [('state', 'in', OPEN_RESERVATIONS)]),
            }
        for name, (_, _, start) in periods.items():
            result[name] = Reservation.search_count(
                domain + [('create_date', '>=', start)])
        return result

    @classmethod
    def low_stock(cls, company, warehouses):
        """Return the products whose available quantity is at most the
        minimum of their order point, or with an open replenishment
        suggestion of low cover, per store"""
        pool = Pool()
        Availability = pool.get('stock.availability')
        OrderPoint = pool.get('stock.order_point')
        Suggestion = pool.get('stock.replenishment.suggestion')
        warehouse_ids = [w.id for w in warehouses]
        # A purchase order point is at a warehouse, an internal one at a
        # storage location
        points = OrderPoint.search([
                ('company', '=', company.id),
                ('min_quantity', '!=', None),
                ('location', 'child_of', warehouse_ids, 'parent'),
                ])
        figures = Availability.get(
            {p.product for p in points}, {p.location for p in points})
        low = {}
        for point in points:
            place = point.location
            available = figures[(point.product.id, place.id)][2]
            if available <= point.min_quantity:
                warehouse = place if place.type == 'warehouse' else (
                    place.warehouse)
                low[(point.product, warehouse)] = available
        suggestions = Suggestion.search([
                ('company', '=', company.id),
                ('state', '=', 'open'),
                ('low_cover', '=', True),
                ('warehouse', 'in', warehouse_ids),
                ])
        for suggestion in suggestions:
            low.setdefault(
                (suggestion.product, suggestion.warehouse),
                suggestion.available)
        items = sorted(low.items(),
            key=lambda i: (i[1], i[0][0].rec_name, i[0][1].rec_name))
        return {
            'count': len(items),
            'items': [{
                    'product': p.rec_name,
                    'store': w.rec_name,
                    'available': a,
                    } for (p, w), a in items],
            }

    @classmethod
    def pickups(cls, company, store):
        "Return the paid and ready pickup orders waiting at the store"
        Sale = Pool().get('sale.sale')
        domain = [('company', '=', company.id)]
        if store:
            domain.append(('pickup_store', '=', store.id))
        result = {s: Sale.search_count(domain + [('pickup_state', '=', s)])
            for s in WAITING_PICKUPS}
        result['total'] = sum(result.values())
        return result

    @classmethod
    def coupons(cls, company, store, periods):
        """Return the coupons issued and redeemed over the campaigns, their
        redemption rate and the redemptions of today and this week"""
        pool = Pool()
        Redemption = pool.get('sale.promotion.coupon.redemption')
        if store:
            Statistic = pool.get('sale.promotion.coupon.statistic.store')
            domain = [('store', '=', store.id)]
        else:
            Statistic = pool.get('sale.promotion.coupon.statistic')
            domain = []
        statistics = Statistic.search(
            domain + [('company', '=', company.id)])
        issued = sum(s.issued or 0 for s in statistics)
        redeemed = sum(s.redeemed or 0 for s in statistics)
        result = {
            'issued': issued,
            'redeemed': redeemed,
            'rate': round(redeemed / issued, 4) if issued else None,
            }
        for name, (_, _, start) in periods.items():
            result[name] = Redemption.search_count(
                domain + [('state', '=', 'done'), ('date', '>=', start)])
        return result

    @classmethod
    def top(cls, model, key, measures, limit=TOP):
        """Return the records of the report's key with the largest sums of
        the first measure and their sums, and the number and sums of the
        other keys

        The report's own query is grouped, ordered and limited in the
        database. measures is a function of the report's query returning
        the columns to sum."""
        pool = Pool()
        Report = pool.get(model)
        Target = pool.get(Report._fields[key].model_name)
        report = Report.table_query()
        group = Column(report, key)
        sums = [Sum(Coalesce(c, 0)) for c in measures(report)]
        everything = Window([])
        cursor = Transaction().connection.cursor()
        cursor.execute(*report.select(
                group, *sums,
                Count(Literal(1), window=everything),
                *(Sum(s, window=everything) for s in sums),
                where=group != Null,
                group_by=[group],
                order_by=[sums[0].desc, group],
                limit=limit))
        rows = cursor.fetchall()
        if not rows:
            return [], 0, [0] * len(sums)
        records = Target.browse([r[0] for r in rows])
        keys, totals = rows[0][len(sums) + 1], rows[0][len(sums) + 2:]
        top = [(record, [amount(v) for v in row[1:len(sums) + 1]])
            for record, row in zip(records, rows, strict=True)
            if row[1]]
        others = [amount(t) - sum(v[i] for _, v in top)
            for i, t in enumerate(totals)]
        return top, keys - len(top), [round(o, 2) for o in others]

    @classmethod
    def channel_chart(cls, model, key):
        """Return the revenue of the top products or categories stacked by
        channel, and of the others together"""
        codes = list(cls.selection(model, 'channel'))
        top, others, other_sums = cls.top(model, key,
            lambda r: [r.revenue] + [
                Case((r.channel == c, r.revenue), else_=0) for c in codes])
        channels = [c for i, c in enumerate(codes, 1)
            if any(v[i] for _, v in top)]
        return {
            'labels': [r.rec_name for r, _ in top],
            'series': {c: [v[codes.index(c) + 1] for _, v in top]
                for c in channels},
            'others': {'count': others, 'revenue': other_sums[0]},
            }

    @classmethod
    def store_chart(cls):
        "Return the digital figures of each store"
        Report = Pool().get('insights.store')
        rows = Report.search([])
        return {
            'labels': [r.store.rec_name for r in rows],
            'series': {n: [getattr(r, n) or 0 for r in rows]
                for n in Report._counters()},
            'online_revenue': [amount(r.online_revenue) for r in rows],
            }

    @classmethod
    def member_segment_chart(cls):
        "Return the members and average spend of each segment"
        Report = Pool().get('insights.member_segment')
        segments = cls.selection('insights.member_segment', 'segment')
        rows = Report.search([])
        return {
            'labels': [segments[r.segment] for r in rows],
            'members': [r.members for r in rows],
            'average_spend': [amount(r.average_spend) for r in rows],
            }

    @classmethod
    def inventory_chart(cls):
        """Return the stock value and cost of sales of the products of the
        largest stock value, and of the others together"""
        top, others, (stock_value, cost_of_sales) = cls.top(
            'insights.inventory', 'product',
            lambda r: [r.stock_value, r.cost_of_sales])
        return {
            'labels': [r.rec_name for r, _ in top],
            'stock_value': [v[0] for _, v in top],
            'cost_of_sales': [v[1] for _, v in top],
            'others': {
                'count': others,
                'stock_value': stock_value,
                'cost_of_sales': cost_of_sales,
                },
            }


def session_required(func):
    "Answer 401 unless the request carries a valid Tryton session"
    @wraps(func)
    def wrapper(request, pool, *args, **kwargs):
        session = request.session
        if not session or not security.check(
                pool.database_name, session.userid, session.token,
                context={'_request': request.context}):
            return json_error('unauthorized', "Log in first.",
                HTTPStatus.UNAUTHORIZED)
        return func(request, pool, *args, **kwargs)
    return wrapper


serve_page('dashboard', STATIC)


@app.route(DASHBOARD_PREFIX + '/data', methods=['GET'])
@with_pool
@session_required
@with_transaction(user='request', readonly=True)
def data(request, pool):
    "Answer the figures of the store argument, or of every allowed store"
    Dashboard = pool.get('insights.dashboard')
    User = pool.get('res.user')
    user = User(Transaction().user)
    if not user.company:
        return json_error('no_company', "The user has no company.",
            HTTPStatus.FORBIDDEN)
    language = user.language.code if user.language else 'zh_CN'
    with Transaction().set_context(
            company=user.company.id, language=language):
        stores = Dashboard.stores()
        if not stores:
            return json_error('forbidden', "The user sees no store.",
                HTTPStatus.FORBIDDEN)
        store_id = request.args.get('store', type=int)
        # Only who sees the whole company sees its total
        if store_id is None and (
                len(stores) == 1 or not Dashboard.sees_all_stores()):
            store_id = stores[0].id
        store = None
        if store_id is not None:
            store = {s.id: s for s in stores}.get(store_id)
            if store is None:
                return json_error('forbidden',
                    "The user does not see the store.", HTTPStatus.FORBIDDEN)
        return json_response(
            Dashboard.figures(user.company, stores, store))
