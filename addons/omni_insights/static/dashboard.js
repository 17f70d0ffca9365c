// This file is part of Omni Retail.  The COPYRIGHT file at the top level of
// this repository contains the full copyright notices and license terms.
// The owner's dashboard: logs in with Tryton's JSON-RPC, keeps the session
// for the tab and draws the figures of the data route.
'use strict';

(function () {
    const database = decodeURIComponent(window.location.pathname.split('/')[1]);
    const SESSION_KEY = 'omni-dashboard-session:' + database;
    const COLORS = ['#b91c1c', '#d97706', '#059669', '#2563eb', '#7c3aed', '#db2777'];
    const STORE_COUNTERS = {
        members_acquired: '新增会员',
        members_bound: '绑定小程序',
        online_orders: '线上订单',
        pickups: '自提核销',
        endless_aisle_orders: '无界货架订单',
        coupons_redeemed: '核销优惠券',
    };
    const charts = {};
    let currency = 'CNY';

    const $ = (id) => document.getElementById(id);

    function show(id, visible) {
        $(id).hidden = !visible;
    }

    function money(value) {
        return value.toLocaleString('zh-CN', {
            style: 'currency', currency: currency});
    }

    function percent(value) {
        return value === null ? '—' : (value * 100).toFixed(1) + '%';
    }

    function utf8Base64(text) {
        return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
    }

    async function login(event) {
        event.preventDefault();
        const name = $('login-name').value;
        const response = await fetch('/' + encodeURIComponent(database) + '/rpc/', {
            method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({
                id: 1, method: 'common.db.login',
                params: [name, {password: $('login-password').value}, 'zh_CN']}),
        });
        const answer = response.ok ? await response.json() : {error: response.status};
        if (answer.error || !answer.result) {
            $('login-error').textContent = '用户名或密码错误';
            show('login-error', true);
            return;
        }
        const [userId, session] = answer.result;
        sessionStorage.setItem(SESSION_KEY,
            'Session ' + utf8Base64(name + ':' + userId + ':' + session));
        $('login-password').value = '';
        show('login-error', false);
        load();
    }

    // Ends the session on the server too, as sao does, so that a copy of
    // it is worth nothing.
    async function logout() {
        const authorization = sessionStorage.getItem(SESSION_KEY);
        sessionStorage.removeItem(SESSION_KEY);
        showLogin();
        if (!authorization) return;
        document.body.dataset.state = 'logging-out';
        try {
            await fetch('/' + encodeURIComponent(database) + '/rpc/', {
                method: 'POST',
                headers: {
                    'Content-Type': 'application/json',
                    Authorization: authorization,
                },
                body: JSON.stringify({id: 2, method: 'common.db.logout', params: []}),
            });
        } finally {
            document.body.dataset.state = 'login';
        }
    }

    // A session the server no longer knows: back to the login form
    function sessionExpired() {
        sessionStorage.removeItem(SESSION_KEY);
        showLogin();
    }

    function showLogin() {
        document.body.dataset.state = 'login';
        show('dashboard', false);
        show('logout', false);
        show('login', true);
    }

    async function load() {
        const authorization = sessionStorage.getItem(SESSION_KEY);
        if (!authorization) {
            showLogin();
            return;
        }
        document.body.dataset.state = 'loading';
        const store = $('store').value;
        const response = await fetch('data' + (store ? '?store=' + store : ''), {
            headers: {Authorization: authorization}});
        show('login', false);
        show('dashboard', true);
        show('logout', true);
        if (response.status === 401) {
            sessionExpired();
            return;
        }
        if (response.status === 403) {
            show('forbidden', true);
            document.body.dataset.state = 'forbidden';
            return;
        }
        show('forbidden', false);
        render(await response.json());
        document.body.dataset.state = 'ready';
    }

    function setKpi(key, value, format) {
        for (const element of document.querySelectorAll(`[data-kpi="${key}"]`)) {
            element.dataset.value = value === null ? '' : value;
            element.textContent = format ? format(value) : value;
        }
    }

    function render(data) {
        currency = data.currency;
        renderStores(data);
        $('period').textContent = `今日 ${data.today}，本周自 ${data.week_start}，截至 ${data.as_of}`;
        setKpi('sales.today.total', data.sales.today.total, money);
        setKpi('sales.week.total', data.sales.week.total, money);
        $('sales-channels').replaceChildren(...Object.entries(data.channels)
            .filter(([code]) => code in data.sales.week.channels)
            .map(([code, label]) => {
                const row = document.createElement('tr');
                row.dataset.channel = code;
                for (const value of [label,
                        money(data.sales.today.channels[code] || 0),
                        money(data.sales.week.channels[code])]) {
                    const cell = document.createElement('td');
                    cell.textContent = value;
                    row.append(cell);
                }
                return row;
            }));
        for (const key of ['open', 'today', 'week']) {
            setKpi('reservations.' + key, data.reservations[key]);
        }
        setKpi('low_stock.count', data.low_stock.count);
        $('low-stock-items').replaceChildren(...data.low_stock.items.slice(0, 5)
            .map((item) => {
                const entry = document.createElement('li');
                entry.textContent = `${item.product}（${item.store}）可用 ${item.available}`;
                return entry;
            }));
        for (const key of ['total', 'paid', 'ready']) {
            setKpi('pickups.' + key, data.pickups[key]);
        }
        setKpi('coupons.rate', data.coupons.rate, percent);
        for (const key of ['redeemed', 'issued', 'today', 'week']) {
            setKpi('coupons.' + key, data.coupons[key]);
        }
        renderCharts(data);
    }

    function renderStores(data) {
        const select = $('store');
        const options = data.stores.map((store) => new Option(store.name, store.id));
        if (data.all_stores && data.stores.length > 1) {
            options.unshift(new Option('全部门店', ''));
        }
        select.replaceChildren(...options);
        select.value = data.store === null ? '' : String(data.store);
        select.disabled = data.stores.length < 2;
    }

    function draw(name, config) {
        if (charts[name]) {
            charts[name].destroy();
        }
        config.options = Object.assign({
            animation: false,
            responsive: true,
            plugins: {legend: {position: 'bottom'}},
        }, config.options);
        charts[name] = new Chart($('chart-' + name), config);
    }

    function datasets(series, labels) {
        return Object.entries(series).map(([key, values], index) => ({
            label: labels[key] || key,
            data: values,
            backgroundColor: COLORS[index % COLORS.length],
        }));
    }

    // The total of what a top-8 chart leaves out, under the chart
    function othersNote(name, text) {
        $('others-' + name).textContent = text;
    }

    function renderCharts(data) {
        $('charts-as-of').textContent =
            `数据截至 ${data.charts.as_of}，每 ${data.charts.refresh_minutes} 分钟更新`;
        const stacked = {
            indexAxis: 'y',
            scales: {x: {stacked: true}, y: {stacked: true}},
        };
        for (const name of ['product_channel', 'category_channel']) {
            const chart = data.charts[name];
            draw(name, {
                type: 'bar',
                data: {labels: chart.labels, datasets: datasets(chart.series, data.channels)},
                options: stacked,
            });
            const others = chart.others;
            othersNote(name, others.count
                ? `其余 ${others.count} 项合计 ${money(others.revenue)}` : '');
        }
        const store = data.charts.store;
        draw('store', {
            type: 'bar',
            data: {labels: store.labels, datasets: datasets(store.series, STORE_COUNTERS)},
        });
        const segments = data.charts.member_segment;
        draw('member_segment', {
            type: 'doughnut',
            data: {
                labels: segments.labels,
                datasets: [{data: segments.members, backgroundColor: COLORS}],
            },
        });
        const inventory = data.charts.inventory;
        draw('inventory', {
            type: 'bar',
            data: {
                labels: inventory.labels,
                datasets: datasets({
                    stock_value: inventory.stock_value,
                    cost_of_sales: inventory.cost_of_sales,
                }, {stock_value: '库存价值', cost_of_sales: '销售成本'}),
            },
            options: {indexAxis: 'y'},
        });
        const others = inventory.others;
        othersNote('inventory', others.count
            ? `其余 ${others.count} 个商品：库存价值 ${money(others.stock_value)}，销售成本 ${money(others.cost_of_sales)}`
            : '');
    }

    $('login').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('store').addEventListener('change', load);
    load();
}());
