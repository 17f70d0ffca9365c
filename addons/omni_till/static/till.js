// The till: logs in with Tryton's JSON-RPC and calls the models as the
// clerk, as the web client does. It keeps no rule of its own: every price,
// stock figure, refusal and total comes from the server. The sale in
// progress and the request under way are kept in localStorage, so that a
// reload or a lost connection retries the request with the same key, which
// the server records once.
(function () {
    'use strict';
    const database = decodeURIComponent(location.pathname.split('/')[1]);
    const STORE_KEY = 'omni-till:' + database;
    const $ = (id) => document.getElementById(id);
    let auth = null;       // the Authorization header of the session
    let context = {};      // the user's preferences, sent with each call
    let till = null;       // the till's info from the server
    let sale = null;       // the sale's state from the server
    let busy = false;
    let lastPayment = null; // the last payment, for the change on the receipt
    const LOST = ['NetworkError', 'ServerError'];
    const PICKUP_PREFIX = 'OMNIPICKUP:';
    // The receipt's QR code: OMNIRECEIPT:<number>, alone or in a link, or
    // the link of the mini-program's receipt page: <prefix>?n=<number>
    const RECEIPT = new RegExp(
        'OMNIRECEIPT(?::|%3A)([^&#?\\s]+)' +
        '|^https?://[^\\s?#]*\\?(?:[^#\\s]*&)?n=([^&#\\s]+)', 'i');

    // Storage ------------------------------------------------------------
    function stored() {
        try {
            return JSON.parse(localStorage.getItem(STORE_KEY)) || {};
        } catch (error) {
            return {};
        }
    }
    function store(values) {
        localStorage.setItem(STORE_KEY, JSON.stringify(
            Object.assign(stored(), values)));
    }
    function newKey() {
        if (window.crypto && crypto.randomUUID) {
            return crypto.randomUUID();
        }
        return Date.now().toString(36) + Math.random().toString(36).slice(2);
    }

    // JSON-RPC -----------------------------------------------------------
    class RPCError extends Error {
        constructor(error) {
            const [kind, args] = Array.isArray(error) ? error : [error, []];
            const [message, description] = Array.isArray(args) ? args : [args, ''];
            super(String(message || kind));
            this.kind = kind;
            this.description = description || '';
        }
    }

    async function call(authorization, method, ...params) {
        const headers = {'Content-Type': 'application/json'};
        if (authorization) {
            headers.Authorization = authorization;
        }
        let response, answer;
        try {
            response = await fetch('/' + encodeURIComponent(database) + '/rpc/', {
                method: 'POST', headers,
                body: JSON.stringify({id: 1, method, params})});
        } catch (error) {
            throw new RPCError(['NetworkError', ['网络中断，请检查网络后重试']]);
        }
        if (response.status === 401 || response.status === 403) {
            throw new RPCError(['SessionError', ['登录已过期，请重新登录']]);
        }
        try {
            answer = await response.json();
        } catch (error) {
            throw new RPCError(['ServerError', ['服务器出错，请重试']]);
        }
        if (answer.error) {
            throw new RPCError(answer.error);
        }
        return answer.result;
    }

    function rpc(method, ...params) {
        return call(auth, method, ...params, context);
    }

    function decimal(value) {
        return {__class__: 'Decimal', decimal: String(value)};
    }

    // Run a wizard of the back office on a record, as the web client does
    async function wizard(authorization, ctx, name, model, id, state, data) {
        ctx = Object.assign({}, ctx, {
            active_model: model, active_id: id, active_ids: [id]});
        const [session] = await call(
            authorization, 'wizard.' + name + '.create', ctx);
        try {
            return await call(authorization, 'wizard.' + name + '.execute',
                session, data, state, ctx);
        } finally {
            await call(authorization, 'wizard.' + name + '.delete', session, ctx)
                .catch(() => null);
        }
    }

    async function login(name, password) {
        const [userId, session] = await call(null, 'common.db.login',
            name, {password}, 'zh_CN');
        const authorization = 'Session ' + btoa(String.fromCharCode(
            ...new TextEncoder().encode(name + ':' + userId + ':' + session)));
        const preferences = await call(
            authorization, 'model.res.user.get_preferences', true, {});
        return [authorization, preferences];
    }

    // Messages -----------------------------------------------------------
    function say(text, info) {
        const alert = $('alert');
        alert.textContent = text;
        alert.className = info ? 'info' : '';
        alert.hidden = !text;
    }
    function fail(error) {
        if (error.kind === 'SessionError') {
            logout(false);
        }
        say([error.message, error.description].filter(Boolean).join('\n'));
    }

    async function task(func) {
        if (busy) {
            return;
        }
        busy = true;
        document.body.setAttribute('aria-busy', 'true');
        try {
            say('');
            await func();
        } catch (error) {
            fail(error);
        } finally {
            busy = false;
            document.body.removeAttribute('aria-busy');
        }
    }

    function show(state) {
        document.body.dataset.state = state;
        $('login').hidden = state !== 'login';
        $('points').hidden = state !== 'points';
        $('till').hidden = state !== 'till';
    }

    // Login and till -------------------------------------------------------
    async function start() {
        const saved = stored();
        if (!saved.auth) {
            show('login');
            $('login-name').focus();
            return;
        }
        auth = saved.auth;
        context = saved.context || {};
        try {
            const points = await rpc('model.sale.point.search', [], 0, null,
                [['name', 'ASC']]);
            if (saved.point && points.includes(saved.point)) {
                await openTill(saved.point);
            } else if (points.length === 1) {
                await openTill(points[0]);
            } else {
                await choosePoint(points);
            }
        } catch (error) {
            fail(error);
            if (error.kind === 'SessionError') {
                show('login');
            }
        }
    }

    async function choosePoint(ids) {
        const points = await rpc('model.sale.point.read', ids, ['rec_name']);
        const list = $('point-list');
        list.replaceChildren(...points.map((point) => {
            const button = document.createElement('button');
            button.type = 'button';
            button.textContent = point.rec_name;
            button.addEventListener('click', () => task(
                () => openTill(point.id)));
            return button;
        }));
        show('points');
        if (list.firstChild) {
            list.firstChild.focus();
        }
    }

    async function openTill(point) {
        till = await rpc('model.sale.point.till_info', [point]);
        store({point});
        $('till-name').textContent = till.store + ' · ' + till.name;
        $('till-clerk').textContent = '收银员：' + till.clerk;
        renderSession();
        $('methods').replaceChildren(...till.methods.map((method, index) => {
            const button = document.createElement('button');
            button.type = 'button';
            button.dataset.method = method.id;
            button.textContent = method.name + ' (F' + (8 + index) + ')';
            button.addEventListener('click', () => task(() => pay(method)));
            return button;
        }));
        show('till');
        const saved = stored();
        if (saved.sale) {
            await loadSale(saved.sale);
        } else {
            render(null);
        }
        await retryPending();
        if (saved.receipt) {
            $('reprint').disabled = false;
        }
        focusScan();
    }

    function renderSession() {
        const session = till.session;
        $('till-session').textContent = session
            ? '钱箱已开班 · 应有现金 ' + till.currency + session.expected
            : '钱箱未开班';
        $('session-open').hidden = Boolean(session);
        $('session-close').hidden = !session;
    }

    async function refreshSession() {
        till = await rpc('model.sale.point.till_info', [till.id]);
        renderSession();
    }

    async function logout(endSession = true) {
        const authorization = auth;
        auth = null;
        localStorage.removeItem(STORE_KEY);
        show('login');
        if (endSession && authorization) {
            await call(authorization, 'common.db.logout', context)
                .catch(() => null);
        }
    }

    // The sale ------------------------------------------------------------
    async function loadSale(id) {
        try {
            render(await rpc('model.sale.point.sale.till_state', [id]));
        } catch (error) {
            // Deleted or not ours any more: start again
            store({sale: null, pending: null});
            render(null);
            throw error;
        }
    }

    // The open sale of this till, made once for its key
    async function ensureSale() {
        if (sale && sale.state === 'open') {
            return sale.id;
        }
        let saved = stored();
        if (!saved.saleKey || (sale && sale.state !== 'open')) {
            store({saleKey: newKey(), sale: null});
            saved = stored();
        }
        let ids = await rpc('model.sale.point.sale.search',
            [['till_key', '=', saved.saleKey]], 0, 1, null);
        if (!ids.length) {
            ids = await rpc('model.sale.point.sale.create',
                [{point: till.id, till_key: saved.saleKey}]);
        }
        store({sale: ids[0]});
        return ids[0];
    }

    // A request that changes the sale: kept until answered, so that a
    // reload sends it again with the same key
    async function pending(request) {
        const previous = stored().pending;
        if (previous && previous.key !== request.key) {
            await perform(previous);
        }
        store({pending: request});
        try {
            await perform(request);
        } catch (error) {
            // Without an answer the request may have been recorded: it is
            // sent again, with its key, at the next start
            if (!LOST.includes(error.kind)) {
                store({pending: null});
            }
            throw error;
        }
        store({pending: null});
    }

    async function retryPending() {
        const request = stored().pending;
        if (request) {
            say('正在重试上次未完成的操作…', true);
            await pending(request);
            say('');
        }
    }

    async function perform(request) {
        if (request.kind === 'add') {
            render(await rpc('model.sale.point.sale.till_add', [request.sale],
                request.product, request.quantity, request.key));
        } else if (request.kind === 'pay') {
            const state = await rpc(
                'model.sale.point.sale.till_state', [request.sale]);
            if (!state.payments.some((p) => p.key === request.key)) {
                await wizard(request.auth || auth, request.context || context,
                    'sale.point.sale.pay', 'sale.point.sale', request.sale,
                    'pay', {payment: {
                        method: request.method,
                        amount: decimal(request.amount),
                        till_key: request.key}});
            }
            await loadSale(request.sale);
        } else if (request.kind === 'return') {
            const state = await rpc('model.sale.point.sale.till_return',
                [request.sale], request.quantities, request.key);
            store({sale: state.id});
            render(state);
        } else if (request.kind === 'micropay') {
            render(await rpc('model.sale.point.sale.till_micropay',
                [request.sale], request.method, request.code, request.amount,
                request.key));
        }
    }

    async function scan(text) {
        text = text.trim();
        if (!text) {
            return;
        }
        if (text.toUpperCase().startsWith(PICKUP_PREFIX)) {
            await verifyPickup(text);
            return;
        }
        if (RECEIPT.test(text)) {
            $('scan').value = '';
            await findReceipt(text);
            return;
        }
        if (/[^\x21-\x7e]/.test(text)) {
            await searchProducts(text);
            return;
        }
        try {
            await addProduct(text);
        } catch (error) {
            if (error.kind !== 'UserError') {
                throw error;
            }
            // Not a code: a name
            await searchProducts(text, error);
        }
    }

    async function addProduct(product) {
        const id = await ensureSale();
        await pending({kind: 'add', sale: id, product, quantity: 1,
            key: newKey()});
        $('search-results').hidden = true;
        $('scan').value = '';
        // An empty shelf: where else the product is
        const short = shortLine();
        if (short && (short.product === product || short.code === product)) {
            await showAisle(short);
        }
    }

    async function searchProducts(text, error) {
        const products = await rpc('model.product.product.search_read',
            [['salable', '=', true], ['rec_name', 'ilike', '%' + text + '%']],
            0, 9, null, ['rec_name']);
        const results = $('search-results');
        if (!products.length) {
            results.hidden = true;
            if (error) {
                throw error;
            }
            say('没有找到商品：' + text);
            return;
        }
        results.replaceChildren(...products.map((product, index) => {
            const button = document.createElement('button');
            button.type = 'button';
            button.textContent = (index + 1) + '. ' + product.rec_name;
            button.addEventListener('click', () => task(
                () => addProduct(product.id)));
            return button;
        }));
        results.hidden = false;
        results.firstChild.focus();
    }

    async function setQuantity(line, quantity) {
        if (!(quantity > 0)) {
            await removeLine(line);
            return;
        }
        await rpc('model.sale.point.sale.line.write', [line.id], {quantity});
        await loadSale(sale.id);
    }

    async function removeLine(line) {
        await rpc('model.sale.point.sale.line.delete', [line.id]);
        await loadSale(sale.id);
    }

    async function identify(code) {
        const id = await ensureSale();
        await wizard(auth, context, 'sale.point.sale.identify_member',
            'sale.point.sale', id, 'identify',
            {start: {code: code.trim(), reason: null}});
        $('member-code').value = '';
        await loadSale(id);
    }

    async function applyCoupon(coupon) {
        await wizard(auth, context, 'sale.point.sale.apply_coupon',
            'sale.point.sale', sale.id, 'apply',
            {start: {code: null, number: coupon.id, member_coupons: []}});
        await loadSale(sale.id);
    }

    function toPay() {
        return sale ? Number(sale.amount_to_pay) : 0;
    }

    // Cash takes what is tendered and gives the change back; any other
    // method takes the amount typed, at most what is left to pay
    async function pay(method) {
        if (!sale || sale.state !== 'open' || !sale.lines.length) {
            return;
        }
        if (method.wechat_micropay) {
            $('micropay').dataset.method = method.id;
            $('micropay').hidden = false;
            $('micropay-code').value = '';
            $('micropay-code').focus();
            return;
        }
        const due = toPay();
        const typed = $('pay-amount').value.trim();
        const tendered = typed ? Number(typed) : due;
        if (due > 0 && !(tendered > 0)) {
            say('请输入收款金额');
            return;
        }
        // A return pays back what is due (the back office takes it in
        // cash only)
        const amount = due < 0 ? due.toFixed(2)
            : Math.min(tendered, due).toFixed(2);
        const change = method.cash && due > 0 ? tendered - Number(amount) : 0;
        try {
            await pending({kind: 'pay', sale: sale.id, method: method.id,
                amount, key: newKey()});
        } catch (error) {
            await loadSale(sale.id).catch(() => null);
            offerOverride(error, method);
            throw error;
        }
        $('pay-amount').value = '';
        if (method.cash && change > 0) {
            $('change').textContent = '找零 ' + till.currency + change.toFixed(2);
            $('change').hidden = false;
        }
        lastPayment = {method, amount: Number(amount)};
        if (sale.receipt) {
            renderReceipt(sale);
        }
        await refreshSession();
    }

    // The customer's WeChat payment code, charged by the server, which
    // waits while the customer confirms in WeChat
    async function micropay(code) {
        const method = till.methods.find(
            (m) => m.id === Number($('micropay').dataset.method));
        const typed = $('pay-amount').value.trim();
        const amount = Math.min(typed ? Number(typed) : toPay(), toPay());
        $('micropay-waiting').hidden = false;
        try {
            await pending({kind: 'micropay', sale: sale.id, method: method.id,
                code, amount: amount.toFixed(2), key: newKey()});
        } finally {
            $('micropay-waiting').hidden = true;
            $('micropay').hidden = true;
            $('pay-amount').value = '';
        }
        lastPayment = {method, amount};
    }

    // A pickup order handed over against its code, through the back
    // office's Pickup Handover wizard, which checks the code again when it
    // hands over
    let handover = null;

    function pickupContext() {
        return Object.assign({}, context, {
            active_model: 'sale.point', active_id: till.id,
            active_ids: [till.id]});
    }

    async function endHandover() {
        if (handover) {
            const session = handover.session;
            handover = null;
            await rpc('wizard.sale.point.pickup_handover.delete', session)
                .catch(() => null);
        }
        $('pickup').hidden = true;
    }

    async function verifyPickup(code) {
        await endHandover();
        const ctx = pickupContext();
        const [session] = await call(
            auth, 'wizard.sale.point.pickup_handover.create', ctx);
        handover = {session, start: {point: till.id, code}};
        const answer = await call(auth,
            'wizard.sale.point.pickup_handover.execute', session,
            {start: handover.start}, 'verify', ctx);
        const view = answer.view || {};
        if (view.state !== 'order') {
            await endHandover();
            say((view.defaults && view.defaults.message) || '自提码无效');
            return;
        }
        const order = view.defaults;
        // The view's values, without the names of its records
        handover.order = Object.fromEntries(Object.entries(order).filter(
            ([name]) => !name.endsWith('.')));
        const [sale] = await rpc('model.sale.sale.read', [order.sale],
            ['number', 'party.rec_name']);
        const lines = await rpc('model.sale.line.read', order.lines,
            ['product.rec_name', 'quantity', 'amount']);
        $('pickup-number').textContent = sale.number;
        $('pickup-member').textContent = '会员：' + sale['party.'].rec_name;
        $('pickup-total').textContent = money(order.total_amount.decimal
            || order.total_amount);
        $('pickup-lines').replaceChildren(...lines.map((line) => {
            const label = document.createElement('label');
            const box = document.createElement('input');
            box.type = 'checkbox';
            box.value = line.id;
            label.append(box, ' ' + line['product.'].rec_name + ' × '
                + line.quantity);
            return label;
        }));
        $('scan').value = '';
        $('pickup').hidden = false;
        $('pickup').querySelector('button[type=submit]').focus();
    }

    async function handOver() {
        const refused = [...$('pickup-lines').querySelectorAll('input:checked')]
            .map((box) => Number(box.value));
        const order = Object.assign({}, handover.order, {
            refused_lines: refused});
        await call(auth, 'wizard.sale.point.pickup_handover.execute',
            handover.session, {start: handover.start, order}, 'handover',
            pickupContext());
        const number = $('pickup-number').textContent;
        await endHandover();
        say('自提订单 ' + number + ' 已交付', true);
    }

    // A return: the done sale found by its receipt's QR code or number,
    // the quantities typed, and the back office's Return makes the open
    // sale that takes them back, which the till then pays out
    let returning = null;

    function showReturn() {
        returning = null;
        $('return-number').value = '';
        $('return-sale').hidden = true;
        $('return').hidden = false;
        $('return-number').focus();
    }

    function endReturn() {
        returning = null;
        $('return').hidden = true;
    }

    async function findReceipt(text) {
        const match = RECEIPT.exec(text);
        const number = (match ? decodeURIComponent(match[1] || match[2])
            : text).trim();
        if ($('return').hidden) {
            showReturn();
        }
        $('return-number').value = number;
        $('return-sale').hidden = true;
        const ids = await rpc('model.sale.point.sale.search',
            [['number', '=', number]], 0, 1, null);
        if (!ids.length) {
            say('找不到小票：' + number);
            return;
        }
        const state = await rpc('model.sale.point.sale.till_state', ids);
        if (!state.returnable) {
            say('小票 ' + number + ' 不能退货');
            return;
        }
        returning = state;
        $('return-original').textContent = state.number;
        $('return-member').textContent = state.member
            ? '会员：' + state.member.name : '';
        $('return-lines').querySelector('tbody').replaceChildren(
            ...state.lines.filter((line) => line.id in state.returnable).map(
                (line) => {
                    const row = document.createElement('tr');
                    row.dataset.code = line.code || '';
                    const input = document.createElement('input');
                    input.inputMode = 'decimal';
                    input.value = '0';
                    input.dataset.line = line.id;
                    input.setAttribute('aria-label', '退货数量 ' + line.name);
                    const quantity = document.createElement('td');
                    quantity.append(input);
                    row.append(cell(line.name),
                        cell(money(line.unit_price), 'number'),
                        cell(String(state.returnable[line.id]), 'number'),
                        quantity);
                    return row;
                }));
        $('return-sale').hidden = false;
        const first = $('return-lines').querySelector('input');
        if (first) {
            first.focus();
            first.select();
        }
    }

    async function makeReturn() {
        const quantities = {};
        for (const input of $('return-lines').querySelectorAll('input')) {
            const quantity = Number(input.value);
            if (quantity) {
                quantities[input.dataset.line] = quantity;
            }
        }
        $('change').hidden = true;
        await pending({kind: 'return', sale: returning.id, quantities,
            key: newKey()});
        endReturn();
        say('退货单已生成，请退款给顾客', true);
    }

    // Endless aisle: what this store's shelf does not have is ordered from
    // another store or the central warehouse, for the sale's member,
    // through the back office's Endless Aisle Order wizard
    let aisle = null;

    function shortLine() {
        const lines = sale ? sale.lines.filter((line) => !line.coupon
            && line.available !== null && line.quantity > line.available) : [];
        return lines[lines.length - 1];
    }

    async function endAisle() {
        if (aisle) {
            const session = aisle.session;
            aisle = null;
            await rpc('wizard.sale.point.endless_aisle.delete', session)
                .catch(() => null);
        }
        $('aisle').hidden = true;
    }

    async function showAisle(line) {
        await endAisle();
        if (!line || !sale || sale.state !== 'open') {
            return;
        }
        $('aisle-product').textContent = line.name;
        $('aisle-order').hidden = true;
        $('aisle-need-member').hidden = Boolean(sale.member);
        $('aisle').hidden = false;
        if (!sale.member) {
            return;
        }
        const ctx = Object.assign({}, context, {active_model: 'sale.point.sale',
            active_id: sale.id, active_ids: [sale.id]});
        const [session] = await call(
            auth, 'wizard.sale.point.endless_aisle.create', ctx);
        aisle = {session, ctx, line};
        const answer = await call(auth,
            'wizard.sale.point.endless_aisle.execute', session, {}, 'start',
            ctx);
        aisle.start = Object.fromEntries(Object.entries(
            answer.view.defaults).filter(([name]) => !name.endsWith('.')));
        aisle.start.product = line.product;
        $('aisle-quantity').value = line.quantity;
        await aisleAvailability();
        $('aisle-order').hidden = false;
        $('aisle-source').focus();
    }

    // What each location has for the quantity, as the wizard's form shows
    async function aisleAvailability() {
        aisle.start.quantity = Number($('aisle-quantity').value) || 1;
        const answer = await rpc(
            'model.sale.point.endless_aisle.start.on_change', aisle.start,
            ['product']);
        const changes = Array.isArray(answer) ? answer[0] : answer;
        const added = (value) => (value && value.add ? value.add : []).map(
            ([, values]) => values);
        const rows = added(changes.availability);
        aisle.sources = added(changes.sources).map((values) => values.id);
        const names = {};
        rows.forEach((row) => {
            names[row.warehouse] = row['warehouse.'].rec_name;
        });
        $('aisle-stock').querySelector('tbody').replaceChildren(
            ...rows.map((row) => {
                const tr = document.createElement('tr');
                tr.append(cell(names[row.warehouse]),
                    cell(String(row.available), 'number'),
                    cell(row.distance === null ? '' : String(row.distance),
                        'number'));
                return tr;
            }));
        $('aisle-source').replaceChildren(...aisle.sources.map((id) => {
            const option = document.createElement('option');
            option.value = id;
            option.textContent = names[id];
            option.selected = id === changes.source;
            return option;
        }));
    }

    async function orderAisle() {
        const payment = $('aisle-payment').value;
        const start = Object.assign({}, aisle.start, {
            quantity: Number($('aisle-quantity').value),
            source: Number($('aisle-source').value) || null,
            sources: aisle.sources,
            kind: $('aisle-kind').value,
            payment,
        });
        const answer = await call(auth,
            'wizard.sale.point.endless_aisle.execute', aisle.session,
            {start}, 'order', aisle.ctx);
        const [order] = await rpc('model.sale.sale.read',
            [answer.view.defaults.sale], ['number']);
        const line = aisle.line;
        await endAisle();
        // Not sold here: the line goes
        await removeLine(line);
        say('云货架订单 ' + order.number + ' 已下单，' + (payment === 'later'
            ? '请会员在小程序付款' : '已在收银台付款'), true);
    }

    // The lines the book does not have: the store's policy may let a store
    // manager (or the clerk) sell them with a reason
    function offerOverride(error, method) {
        const short = sale && sale.lines.some(
            (line) => line.available !== null && line.quantity > line.available);
        if (!short || error.kind !== 'UserError') {
            return;
        }
        $('override-message').textContent = error.message;
        $('override').dataset.method = method.id;
        $('override').hidden = false;
        $('override-reason').focus();
    }

    async function override() {
        const reason = $('override-reason').value.trim();
        const name = $('override-login').value.trim();
        let authorization = auth;
        let ctx = context;
        if (name) {
            [authorization, ctx] = await login(name, $('override-password').value);
        }
        $('override-password').value = '';
        try {
            await call(authorization, 'model.sale.point.sale.write',
                [sale.id], {stock_override_reason: reason}, ctx);
            const method = till.methods.find(
                (m) => m.id === Number($('override').dataset.method));
            // Not kept for a retry: the manager's session ends here
            await perform({kind: 'pay', sale: sale.id, method: method.id,
                amount: toPay().toFixed(2), key: newKey(),
                auth: authorization, context: ctx});
        } finally {
            if (authorization !== auth) {
                await call(authorization, 'common.db.logout', ctx)
                    .catch(() => null);
            }
        }
        $('override').hidden = true;
        $('override-reason').value = '';
        $('override-login').value = '';
    }

    function newSale() {
        store({sale: null, saleKey: null, pending: null});
        $('change').hidden = true;
        endReturn();
        endAisle().catch(() => null);
        $('override').hidden = true;
        render(null);
        focusScan();
    }

    // Rendering -------------------------------------------------------------
    function money(value) {
        return Number(value).toFixed(2);
    }

    function render(state) {
        sale = state;
        const lines = state ? state.lines : [];
        $('empty-sale').hidden = lines.length > 0;
        $('lines').querySelector('tbody').replaceChildren(
            ...lines.map(renderLine));
        $('total').textContent = money(state ? state.total : 0);
        $('paid').textContent = money(state ? state.amount_paid : 0);
        $('to-pay').textContent = money(state ? state.amount_to_pay : 0);
        $('payments').replaceChildren(...(state ? state.payments : []).map(
            (payment) => {
                const item = document.createElement('li');
                item.textContent = payment.method + ' ' + money(payment.amount);
                return item;
            }));
        const member = state && state.member;
        $('member').hidden = !member;
        if (member) {
            $('member-name').textContent = member.name;
            $('member-tier').textContent = member.tier || '—';
            $('member-points').textContent = member.points;
        }
        const coupons = state && state.state === 'open'
            && !state.returned_sale ? state.member_coupons : [];
        $('coupons').replaceChildren(...coupons.map((coupon, index) => {
            const button = document.createElement('button');
            button.type = 'button';
            button.dataset.coupon = coupon.number;
            button.textContent = '用券 ' + coupon.name + (
                index === 0 ? ' (F4)' : '');
            button.addEventListener('click', () => task(
                () => applyCoupon(coupon)));
            return button;
        }));
        $('sale-return').hidden = !(state && state.returned_sale);
        $('sale-return').textContent = state && state.returned_sale
            ? '退货单 · 原单 ' + state.returned_sale
                + (Number(state.amount_to_pay) < 0 ? ' · 应退顾客 '
                    + money(-state.amount_to_pay) : '')
            : '';
        $('coupon-applied').hidden = !(state && state.coupon);
        $('coupon-applied').textContent = state && state.coupon
            ? '已用优惠券 ' + state.coupon : '';
        if (state && state.receipt) {
            renderReceipt(state);
            store({receipt: state.id});
            $('reprint').disabled = false;
        } else {
            $('receipt').hidden = true;
        }
    }

    function cell(text, className) {
        const td = document.createElement('td');
        td.textContent = text;
        if (className) {
            td.className = className;
        }
        return td;
    }

    function renderLine(line) {
        const row = document.createElement('tr');
        row.dataset.line = line.id;
        row.dataset.code = line.code || '';
        const open = sale.state === 'open';
        // A return's lines are what its sale had: they change by a new one
        const editable = open && !line.coupon && !sale.returned_sale;
        if (open && line.available !== null && line.quantity > line.available) {
            row.className = 'short';
        }
        row.append(cell(line.name),
            cell(line.available === null ? '' : String(line.available),
                'available number'));
        const quantity = document.createElement('td');
        if (editable) {
            const input = document.createElement('input');
            input.className = 'quantity';
            input.inputMode = 'decimal';
            input.value = line.quantity;
            input.setAttribute('aria-label', '数量 ' + line.name);
            input.addEventListener('keydown', (event) => {
                if (event.key === 'Enter') {
                    event.preventDefault();
                    task(() => setQuantity(line, Number(input.value)))
                        .then(focusScan);
                }
            });
            input.addEventListener('change', () => task(
                () => setQuantity(line, Number(input.value))));
            quantity.append(input);
        } else {
            quantity.textContent = line.quantity;
            quantity.className = 'number';
        }
        row.append(quantity, cell(money(line.unit_price), 'number'),
            cell(money(line.amount), 'number'));
        const actions = document.createElement('td');
        // The coupon's line goes with the coupon, not by hand
        if (editable) {
            const remove = document.createElement('button');
            remove.type = 'button';
            remove.className = 'remove';
            remove.textContent = '删除';
            remove.setAttribute('aria-label', '删除 ' + line.name);
            remove.addEventListener('click', () => task(
                () => removeLine(line)).then(focusScan));
            actions.append(remove);
        }
        row.append(actions);
        return row;
    }

    function renderReceipt(state) {
        const receipt = state.receipt;
        const root = $('receipt');
        const rows = state.lines.map((line) => '<tr><td>' + escape(line.name)
            + '<br>' + line.quantity + ' × ' + money(line.unit_price)
            + '</td><td class="number">' + money(line.amount) + '</td></tr>');
        const payments = state.payments.map((payment) => '<tr><td>'
            + escape(payment.method) + '</td><td class="number">'
            + money(payment.amount) + '</td></tr>');
        const member = state.member;
        root.innerHTML = '<h2>' + escape(receipt.store || '') + '</h2>'
            + '<div>收银台：' + escape(receipt.point) + '</div>'
            + '<div>收银员：' + escape(receipt.clerk || '') + '</div>'
            + '<div>单号：' + escape(state.number) + '</div>'
            + (state.returned_sale ? '<div>退货 · 原单：'
                + escape(state.returned_sale) + '</div>' : '')
            + '<div>日期：' + escape(state.date) + '</div><hr>'
            + '<table>' + rows.join('') + '</table><hr>'
            + (state.coupon ? '<div>优惠券：' + escape(state.coupon) + '</div>' : '')
            + '<table><tr><td>合计</td><td class="number">' + money(state.total)
            + '</td></tr>' + payments.join('') + '</table>'
            + (lastPayment && lastPayment.method.cash && !$('change').hidden
                ? '<div>' + escape($('change').textContent) + '</div>' : '')
            + (member ? '<hr><div>会员：' + escape(member.name) + '</div>'
                + '<div>本单积分：' + receipt.points_earned + '</div>'
                + '<div>积分余额：' + member.points + '</div>' : '')
            + '<hr><div class="qr">' + receipt.qr + '<div>凭小票二维码退换货</div></div>';
        root.hidden = false;
    }

    function escape(text) {
        const div = document.createElement('div');
        div.textContent = text === null || text === undefined ? '' : String(text);
        return div.innerHTML;
    }

    function focusScan() {
        if (!$('till').hidden && $('override').hidden && $('pickup').hidden
                && $('close-session').hidden && $('micropay').hidden
                && $('return').hidden && !aisle) {
            $('scan').focus();
        }
    }

    // Cash session ----------------------------------------------------------
    async function openSession() {
        till.session = await rpc('model.sale.point.till_open_session', [till.id]);
        renderSession();
    }

    async function showClose() {
        await refreshSession();
        if (!till.session) {
            return;
        }
        $('close-start').textContent = till.currency + till.session.start_amount;
        $('close-expected').textContent = till.currency + till.session.expected;
        $('close-difference').textContent = '';
        $('close-counted').value = '';
        $('close-type').replaceChildren(...till.transfer_types.map((type) => {
            const option = document.createElement('option');
            option.value = type.id;
            option.textContent = type.name;
            return option;
        }));
        $('close-session').hidden = false;
        $('close-counted').focus();
    }

    function showDifference() {
        const counted = Number($('close-counted').value);
        const difference = counted - Number(till.session.expected);
        $('close-difference').textContent = isNaN(difference)
            ? '' : till.currency + difference.toFixed(2);
    }

    // The back office's Close, once the difference is recorded as a cash
    // transfer of the type chosen, in one request
    async function closeSession() {
        const counted = Number($('close-counted').value);
        if (isNaN(counted)) {
            say('请输入清点现金');
            return;
        }
        till.session = await rpc('model.sale.point.till_close_session',
            [till.id], till.session.id, counted.toFixed(2),
            Number($('close-type').value) || null);
        $('close-session').hidden = true;
        renderSession();
        say('已交班', true);
    }

    // Keys -------------------------------------------------------------------
    document.addEventListener('keydown', (event) => {
        if ($('till').hidden) {
            return;
        }
        const keys = {
            F2: () => $('member-code').focus(),
            F3: () => showReturn(),
            F5: () => task(() => showAisle(shortLine())),
            F4: () => {
                const first = $('coupons').querySelector('button');
                if (first) {
                    first.click();
                }
            },
            F6: () => $('session-open').hidden || $('session-open').click(),
            F7: () => $('session-close').hidden || $('session-close').click(),
            F12: () => newSale(),
            Escape: () => {
                if (!$('pickup').hidden) {
                    task(endHandover);
                }
                $('close-session').hidden = true;
                $('micropay').hidden = true;
                endReturn();
                endAisle().catch(() => null);
                $('search-results').hidden = true;
                focusScan();
            },
        };
        if (event.ctrlKey && event.key === 'p') {
            // The receipt is what prints: again, from the server
            event.preventDefault();
            if (!$('reprint').disabled) {
                $('reprint').click();
            }
            return;
        }
        const method = /^F(\d+)$/.exec(event.key);
        if (method && till && Number(method[1]) >= 8) {
            const button = $('methods').children[Number(method[1]) - 8];
            if (button) {
                event.preventDefault();
                button.click();
                return;
            }
        }
        if (keys[event.key]) {
            event.preventDefault();
            keys[event.key]();
        } else if (!$('search-results').hidden && /^[1-9]$/.test(event.key)
                && document.activeElement.closest('#search-results')) {
            const button = $('search-results').children[Number(event.key) - 1];
            if (button) {
                event.preventDefault();
                button.click();
            }
        }
    });

    $('login').addEventListener('submit', (event) => {
        event.preventDefault();
        task(async () => {
            [auth, context] = await login(
                $('login-name').value.trim(), $('login-password').value);
            $('login-password').value = '';
            store({auth, context});
            await start();
        });
    });
    $('scan-form').addEventListener('submit', (event) => {
        event.preventDefault();
        const text = $('scan').value;
        task(() => scan(text)).then(() => {
            if ($('search-results').hidden) {
                focusScan();
            }
        });
    });
    $('member-form').addEventListener('submit', (event) => {
        event.preventDefault();
        task(() => identify($('member-code').value)).then(focusScan);
    });
    $('pay-form').addEventListener('submit', (event) => {
        event.preventDefault();
        const cash = till.methods.find((m) => m.cash);
        if (cash) {
            task(() => pay(cash));
        }
    });
    $('pickup').addEventListener('submit', (event) => {
        event.preventDefault();
        task(handOver).then(focusScan);
    });
    $('pickup-cancel').addEventListener('click', () => {
        task(endHandover).then(focusScan);
    });
    $('return-number').addEventListener('keydown', (event) => {
        if (event.key === 'Enter') {
            event.preventDefault();
            const text = $('return-number').value;
            if (text.trim()) {
                task(() => findReceipt(text));
            }
        }
    });
    $('return').addEventListener('submit', (event) => {
        event.preventDefault();
        if (returning) {
            task(makeReturn).then(focusScan);
        }
    });
    $('return-cancel').addEventListener('click', () => {
        endReturn();
        focusScan();
    });
    $('return-open').addEventListener('click', showReturn);
    $('aisle-open').addEventListener('click',
        () => task(() => showAisle(shortLine())));
    $('aisle-quantity').addEventListener('change',
        () => task(aisleAvailability));
    // Enter on a choice orders too
    $('aisle').addEventListener('keydown', (event) => {
        if (event.key === 'Enter' && event.target.tagName === 'SELECT') {
            event.preventDefault();
            $('aisle').requestSubmit();
        }
    });
    $('aisle').addEventListener('submit', (event) => {
        event.preventDefault();
        if (aisle) {
            task(orderAisle).then(focusScan);
        }
    });
    $('aisle-cancel').addEventListener('click', () => {
        task(endAisle).then(focusScan);
    });
    $('micropay').addEventListener('submit', (event) => {
        event.preventDefault();
        const code = $('micropay-code').value.trim();
        if (code) {
            task(() => micropay(code)).then(focusScan);
        }
    });
    $('micropay-cancel').addEventListener('click', () => {
        $('micropay').hidden = true;
        focusScan();
    });
    $('pay-amount').addEventListener('input', () => {
        $('change').hidden = true;
    });
    $('override').addEventListener('submit', (event) => {
        event.preventDefault();
        task(override).then(focusScan);
    });
    $('override-cancel').addEventListener('click', () => {
        $('override').hidden = true;
        focusScan();
    });
    $('session-open').addEventListener('click', () => task(openSession));
    $('session-close').addEventListener('click', () => task(showClose));
    $('close-counted').addEventListener('input', showDifference);
    $('close-session').addEventListener('submit', (event) => {
        event.preventDefault();
        task(closeSession).then(focusScan);
    });
    $('close-cancel').addEventListener('click', () => {
        $('close-session').hidden = true;
        focusScan();
    });
    $('new-sale').addEventListener('click', newSale);
    $('reprint').addEventListener('click', () => task(async () => {
        const id = stored().receipt;
        if (id) {
            const state = await rpc('model.sale.point.sale.till_state', [id]);
            renderReceipt(state);
            window.print();
        }
    }));
    $('logout').addEventListener('click', () => task(() => logout(true)));

    start();
}());
