# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The till (omni_till) driven in headless Chromium on the demo that
`make run` serves: the clerk types into it as a barcode scanner does (the
code, then Enter) and uses its keys; JSON-RPC sets up what is not part of
the story and reads the database back.

tests/test_run_smoke.py imports the tests to share its demo server; they
run after the staff's stories. They sell at 武林店 and 滨江店, so that
the walk-through that follows still finds 西湖店's last 2019 老班章.
Screenshots are kept in var/test-artifacts/till/."""
import contextlib
import secrets
import time
from decimal import Decimal

from demo_site import ARTIFACTS, RPC, mall_api
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait
from web_stories import (
    HARMLESS_CONSOLE,
    admin,
    decimal,
    make_manager,
    member_code,
    one,
    tea_house,
)

from trytond.modules.omni_till.sale_point import receipt_text

SHOTS = ARTIFACTS / 'till'
CLERK_B = ('clerk_b', 'clerk-b-2026')
CLERK_C = ('clerk_c', 'clerk-c-2026')
MANAGER_C = ('manager_c', 'manager-c-2026')
# WeChat payment codes the fake WeChat answers USERPAYING to
NEVER_CONFIRMED = '134000000000000001'
CONFIRMED = '134000000000000002'
TIMEOUT = 30


class Till:
    "The till page in headless Chromium, driven as a clerk does"

    def __init__(self, driver, server, name):
        self.driver = driver
        self.url, self.database = server
        self.name = name
        self.shots = 0

    def wait(self, condition, message=None, timeout=TIMEOUT):
        return WebDriverWait(self.driver, timeout, 0.02,
            ignored_exceptions=[StaleElementReferenceException]).until(
            lambda d: condition(), message=message)

    def element(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def text(self, css):
        return self.element(css).text

    def shown(self, css):
        elements = self.driver.find_elements(By.CSS_SELECTOR, css)
        return bool(elements) and elements[0].is_displayed()

    def idle(self):
        self.wait(lambda: self.driver.execute_script(
                "return !document.body.hasAttribute('aria-busy')"),
            "the till stays busy")

    def alert(self):
        return self.text('#alert') if self.shown('#alert') else ''

    def open(self):
        self.driver.get(f'{self.url}/{self.database}/omni/till/')

    def login(self, login, password):
        self.open()
        self.wait(lambda: self.shown('#login-name'))
        self.keys(login, Keys.TAB, password, Keys.ENTER)
        self.wait(lambda: self.shown('#scan'), "no till")
        self.idle()

    def keys(self, *keys):
        "Type into what has the focus, as a keyboard or a scanner does"
        self.driver.switch_to.active_element.send_keys(*keys)

    def press(self, key):
        self.keys(key)
        self.idle()

    def scan(self, code):
        "Scan code into the till's focused input; return the ms it took"
        assert self.driver.switch_to.active_element.get_attribute(
            'id') == 'scan', "the scan input has no focus"
        start = time.perf_counter()
        self.keys(code, Keys.ENTER)
        self.wait(lambda: code in self.line_codes()
            and not self.driver.execute_script(
                "return document.body.hasAttribute('aria-busy')"),
            f"{code} is not shown")
        return (time.perf_counter() - start) * 1000

    def lines(self):
        "Return each line's product, available, quantity, price and amount"
        return self.wait(self._lines, "no lines")

    def _lines(self):
        rows = []
        for row in self.driver.find_elements(
                By.CSS_SELECTOR, '#lines tbody tr'):
            cells = row.find_elements(By.CSS_SELECTOR, 'td')
            inputs = cells[2].find_elements(By.CSS_SELECTOR, 'input')
            quantity = (inputs[0].get_attribute('value') if inputs
                else cells[2].text)
            rows.append([cells[0].text, cells[1].text, quantity,
                    cells[3].text, cells[4].text])
        return rows or None

    def line_codes(self):
        return [row.get_attribute('data-code')
            for row in self.driver.find_elements(
                By.CSS_SELECTOR, '#lines tbody tr')]

    def line(self, code, css):
        return self.element(f'#lines tr[data-code="{code}"] {css}')

    def to_pay(self):
        return self.text('#to-pay')

    def screenshot(self, name):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        self.driver.save_screenshot(
            str(SHOTS / f'{self.name}-{self.shots:02d}-{name}.png'))

    def check_console(self):
        errors = [
            entry['message'] for entry in self.driver.get_log('browser')
            if entry['level'] == 'SEVERE'
            and not HARMLESS_CONSOLE.search(entry['message'])]
        assert not errors, errors


@contextlib.contextmanager
def till(browser, server, name):
    "Drive the till for a story; check the console and time it"
    for shot in SHOTS.glob(f'{name}-*.png'):
        shot.unlink()
    browser.set_window_size(1280, 900)
    client = Till(browser, server, name)
    start = time.monotonic()
    try:
        yield client
    except Exception:
        client.screenshot('failed')
        raise
    client.check_console()
    print(f"{name}: {time.monotonic() - start:.1f} s")


def clerk(server, login):
    rpc = RPC(*server)
    rpc.login(*login)
    return rpc, rpc('model.res.user.get_preferences', True, {})


def shelf(rpc, context, point, codes):
    "Return the available quantity of the products at the till's shelf"
    location = one(rpc, 'sale.point', [('name', '=', point)],
        ['storage_location'], context)['storage_location']
    rows = rpc('model.stock.availability.search_read', [
            ('product.code', 'in', codes),
            ('location', '=', location),
            ], 0, None, None, ['product.code', 'available'], context)
    return {r['product.']['code']: '%g' % r['available'] for r in rows}


def test_till_cash_sale(server, browser):
    """clerk_b opens 武林店's cash session, scans three products, scans one
    again, types a quantity, removes a line, takes ¥1000 in cash and gives
    the change, prints the receipt and closes the session with the cash
    counted"""
    rpc, context = clerk(server, CLERK_B)
    with till(browser, server, 'till-cash') as client:
        client.login(*CLERK_B)
        assert client.text('#till-name') == "[SB] 武林店 · 武林店收银台"
        if client.shown('#session-open'):
            client.press(Keys.F6)
        client.wait(lambda: "钱箱已开班" in client.text('#till-session'))
        start = Decimal(client.text('#till-session').split('¥')[1])

        timings = [client.scan(code) for code in [
                'PE003', 'CJ003', 'HC004', 'PE003']]
        client.wait(lambda: client.lines()[0][2] == '2')
        available = shelf(
            rpc, context, "武林店收银台", ['PE003', 'CJ003', 'HC004'])
        assert client.lines() == [
            ["大益 7572 熟茶饼", available['PE003'], '2', '198.00', '396.00'],
            ["玻璃公道杯", available['CJ003'], '1', '58.00', '58.00'],
            ["滇红金芽", available['HC004'], '1', '220.00', '220.00'],
            ]
        client.screenshot('scanned')
        # The quantity of a line, typed, then back to the scanner
        client.line('CJ003', 'input.quantity').click()
        client.keys(Keys.CONTROL, 'a')
        client.keys('3', Keys.ENTER)
        client.wait(lambda: client.lines()[1][2:] == ['3', '58.00', '174.00'])
        client.idle()
        client.line('HC004', 'button.remove').click()
        client.wait(lambda: 'HC004' not in client.line_codes())
        client.idle()
        assert client.to_pay() == '570.00'

        client.element('#pay-amount').click()
        client.keys('1000', Keys.ENTER)
        client.wait(lambda: client.shown('#receipt'), "no receipt")
        client.idle()
        assert client.text('#change') == "找零 ¥430.00"
        receipt = client.text('#receipt')
        for text in ["[SB] 武林店", "收银员：武林店店员", "大益 7572 熟茶饼",
                "3 × 58.00", "现金", "570.00", "找零 ¥430.00"]:
            assert text in receipt, (text, receipt)
        assert client.element('#receipt .qr svg')
        client.screenshot('receipt')
        number = receipt.split('单号：')[1].split('\n')[0]

        # The receipt prints again (the print dialog is the browser's)
        client.driver.execute_script(
            "window.printed = 0; window.print = () => window.printed++;")
        client.keys(Keys.CONTROL, 'p')
        client.wait(lambda: client.driver.execute_script(
                "return window.printed") == 1, "not printed")

        client.press(Keys.F7)
        assert client.text('#close-expected') == f'¥{start + 570:.2f}'
        client.keys('%.2f' % (start + 560))
        client.wait(lambda: client.text('#close-difference') == '¥-10.00')
        assert client.text('#close-type') == tea_house.CASH_DIFFERENCE
        client.screenshot('close-short')
        # The ¥10 short is recorded as a cash transfer, and the session
        # closes with the cash counted
        client.press(Keys.ENTER)
        client.wait(lambda: "钱箱未开班" in client.text('#till-session'))
        client.screenshot('closed')
    print("scan to line shown (ms):", ', '.join(f'{t:.0f}' for t in timings))

    sale = one(rpc, 'sale.point.sale', [('number', '=', number),
            ('point.name', '=', "武林店收银台")],
        ['state', 'total', 'till_key'], context)
    assert sale['state'] == 'done'
    assert decimal(sale['total']) == 570
    assert sale['till_key']
    lines = rpc('model.sale.point.sale.line.search_read',
        [('sale', '=', sale['id'])], 0, None, [('id', 'ASC')],
        ['product.code', 'quantity'], context)
    assert [(line['product.']['code'], line['quantity']) for line in lines
        ] == [('PE003', 2), ('CJ003', 3)]
    payments = rpc('model.sale.point.payment.search_read',
        [('sale', '=', sale['id'])], 0, None, None,
        ['method.name', 'amount', 'session', 'session.state',
            'session.end_amount'],
        context)
    payment, = payments
    assert payment['method.']['name'] == tea_house.CASH
    assert decimal(payment['amount']) == 570
    assert payment['session.']['state'] == 'closed'
    assert decimal(payment['session.']['end_amount']) == start + 560
    transfer = one(rpc, 'sale.point.cash.transfer',
        [('session', '=', payment['session'])],
        ['amount', 'type.name', 'state'], context)
    assert (decimal(transfer['amount']), transfer['type.']['name'],
        transfer['state']) == (-10, tea_house.CASH_DIFFERENCE, 'draft')
    rpc_admin, admin_context = admin(server)
    reservations = rpc_admin('model.stock.reservation.search_read', [
            ('origin', 'in', [f'sale.point.sale.line,{line["id"]}'
                    for line in lines])],
        0, None, None, ['state', 'quantity'], admin_context)
    assert sorted((r['state'], r['quantity']) for r in reservations) == [
        ('confirmed', 2), ('confirmed', 3)]


def method_key(client, name):
    "Return the key of the till's button of the payment method"
    buttons = client.driver.find_elements(By.CSS_SELECTOR, '#methods button')
    index, = [i for i, b in enumerate(buttons) if b.text.startswith(name)]
    return getattr(Keys, 'F%d' % (8 + index))


def loyal_member_with_coupon(server):
    """Give 张伟 another coupon of the campaign, the first used in story 1;
    return the admin's RPC and context, 张伟 with his points and the member
    code his mini-program shows"""
    admin_rpc, admin_context = admin(server)
    member = one(admin_rpc, 'party.party',
        [('name', '=', tea_house.LOYAL_MEMBER)], ['points_balance'],
        admin_context)
    coupon = one(admin_rpc, 'sale.promotion.coupon',
        [('promotion.name', '=', tea_house.CAMPAIGN)], ['limit_per_member'],
        admin_context)
    # The campaign's limit as it was for the tests after this one
    admin_rpc('model.sale.promotion.coupon.write', [coupon['id']],
        {'limit_per_member': 0}, admin_context)
    admin_rpc('model.sale.promotion.coupon.push', coupon['id'],
        [member['id']], admin_context)
    admin_rpc('model.sale.promotion.coupon.write', [coupon['id']],
        {'limit_per_member': coupon['limit_per_member']}, admin_context)
    return (admin_rpc, admin_context, member,
        member_code(server, admin_rpc, admin_context))


def test_till_member_sale(server, browser):
    """clerk_b scans 张伟's member code from his mini-program: his name,
    金卡 and points show, the lines take the tier's price, his 满100减20
    coupon applies with F4, he pays ¥50 in points and the rest with his
    WeChat payment code (付款码), which he confirms in time only the second
    time; the receipt shows the coupon and the points"""
    admin_rpc, admin_context, member, code = loyal_member_with_coupon(
        server)
    rpc, context = clerk(server, CLERK_B)

    with till(browser, server, 'till-member') as client:
        client.login(*CLERK_B)
        client.press(Keys.F12)
        for code_ in ['PE002', 'PE002', 'CJ002']:
            client.scan(code_)
        client.wait(lambda: client.to_pay() == '704.00')
        client.press(Keys.F2)
        client.keys(code, Keys.ENTER)
        client.wait(lambda: client.shown('#member'), "no member")
        client.idle()
        assert client.text('#member-name') == tea_house.LOYAL_MEMBER
        assert client.text('#member-tier') == "金卡"
        assert client.text('#member-points') == str(member['points_balance'])
        # 金卡: 5 % off
        assert [line[2:] for line in client.lines()] == [
            ['2', '254.60', '509.20'], ['1', '159.60', '159.60']]
        assert client.to_pay() == '668.80'
        client.screenshot('member')

        client.press(Keys.F4)
        client.wait(lambda: client.to_pay() == '648.80')
        assert "已用优惠券" in client.text('#coupon-applied')
        client.screenshot('coupon')

        client.element('#pay-amount').click()
        client.keys('50')
        client.press(method_key(client, tea_house.POINTS_METHOD))
        client.wait(lambda: client.to_pay() == '598.80')
        # His WeChat payment code: he does not confirm in time, and the
        # charge is reversed
        server.wechat.payment_code(NEVER_CONFIRMED, 'USERPAYING')
        client.press(method_key(client, tea_house.WECHAT_CODE))
        client.keys(NEVER_CONFIRMED, Keys.ENTER)
        client.idle()
        assert "已撤销" in client.alert()
        assert client.to_pay() == '598.80'
        client.screenshot('reversed')
        # then he confirms after the till asked twice
        server.wechat.payment_code(CONFIRMED, 'USERPAYING', queries=2)
        client.press(method_key(client, tea_house.WECHAT_CODE))
        client.keys(CONFIRMED, Keys.ENTER)
        client.wait(lambda: client.shown('#receipt'), "no receipt")
        client.idle()
        receipt = client.text('#receipt')
        client.screenshot('receipt')
    sale_number = receipt.split('单号：')[1].split('\n')[0]

    sale = one(rpc, 'sale.point.sale', [('number', '=', sale_number),
            ('point.name', '=', "武林店收银台")],
        ['state', 'total', 'member', 'coupon'], context)
    assert sale['state'] == 'done'
    assert decimal(sale['total']) == Decimal('648.80')
    assert sale['member'] == member['id']
    redemption = one(admin_rpc, 'sale.promotion.coupon.redemption',
        [('number', '=', sale['coupon'])],
        ['state', 'channel', 'store.code', 'origin'], admin_context)
    assert (redemption['state'], redemption['channel'],
        redemption['store.']['code'], redemption['origin']) == (
        'done', 'pos', 'SB', f'sale.point.sale,{sale["id"]}')
    payments = rpc('model.sale.point.payment.search_read',
        [('sale', '=', sale['id'])], 0, None, [('id', 'ASC')],
        ['method.name', 'amount', 'wechat_transaction'], context)
    assert [(p['method.']['name'], decimal(p['amount'])) for p in payments
        ] == [(tea_house.POINTS_METHOD, 50), (tea_house.WECHAT_CODE,
            Decimal('598.80'))]
    orders = {o['auth_code']: o for o in server.wechat.micropays.values()}
    assert orders[NEVER_CONFIRMED]['state'] == 'REVOKED'
    confirmed = orders[CONFIRMED]
    assert (confirmed['state'], confirmed['total_fee']) == ('SUCCESS', '59880')
    assert payments[1]['wechat_transaction'] == confirmed['transaction_id']
    entries = admin_rpc('model.member.points.entry.search_read', [
            ('origin', 'in', [f'sale.point.payment,{payments[0]["id"]}',
                    f'sale.point.sale,{sale["id"]}'])],
        0, None, [('points', 'ASC')], ['type', 'points'], admin_context)
    spent, earned = entries
    assert (spent['type'], spent['points']) == ('redeem', -5000)
    assert earned['type'] == 'earn' and earned['points'] > 0
    balance = one(admin_rpc, 'party.party', [('id', '=', member['id'])],
        ['points_balance'], admin_context)['points_balance']
    assert balance == member['points_balance'] - 5000 + earned['points']
    for text in [f"本单积分：{earned['points']}", f"积分余额：{balance}",
            "优惠券", tea_house.COUPON_PRODUCT, "-20.00",
            tea_house.POINTS_METHOD, tea_house.WECHAT_CODE]:
        assert text in receipt, (text, receipt)


def test_till_manager_override(server, browser):
    """clerk_c rings up a 2019 老班章 that 滨江店's book does not have:
    the payment is refused with the reason, and the store manager
    authorises the sale at the till with his login and a reason"""
    admin_rpc, admin_context = admin(server)
    if not admin_rpc('model.res.user.search',
            [('login', '=', MANAGER_C[0])], 0, None, None, admin_context):
        store, = admin_rpc('model.stock.location.search',
            [('code', '=', 'SC')], 0, None, None, admin_context)
        groups = [admin_rpc('model.ir.model.data.get_id',
                *xml_id.split('.'), admin_context)
            for xml_id in tea_house.CLERK_GROUPS]
        admin_rpc('model.res.user.create', [{
                    'login': MANAGER_C[0], 'name': "滨江店店长",
                    'password': MANAGER_C[1],
                    'company': admin_context['company'],
                    'companies': [('add', [admin_context['company']])],
                    'stores': [('add', [store])],
                    'groups': [('add', groups)],
                    }], admin_context)
        make_manager(admin_rpc, admin_context, MANAGER_C[0], True)
    reason = "顾客预订，中央仓明早补货"

    with till(browser, server, 'till-override') as client:
        client.login(*CLERK_C)
        client.press(Keys.F12)
        client.scan(tea_house.LIMITED)
        assert client.lines()[0][1:] == ['0', '1', '3800.00', '3800.00']
        client.element('#pay-amount').click()
        client.keys(Keys.ENTER)
        client.idle()
        assert "2019 老班章" in client.alert()
        assert client.shown('#override')
        assert client.to_pay() == '3800.00'
        client.screenshot('refused')
        client.keys(reason, Keys.TAB, MANAGER_C[0], Keys.TAB, MANAGER_C[1],
            Keys.ENTER)
        client.wait(lambda: client.shown('#receipt'), "no receipt")
        client.idle()
        assert not client.shown('#override')
        client.screenshot('sold')
        receipt = client.text('#receipt')
    sale_number = receipt.split('单号：')[1].split('\n')[0]

    sale = one(admin_rpc, 'sale.point.sale', [('number', '=', sale_number),
            ('point.name', '=', "滨江店收银台")],
        ['state', 'stock_override_reason'], admin_context)
    assert sale['state'] == 'done'
    override = one(admin_rpc, 'sale.point.sale.stock_override',
        [('sale', '=', sale['id'])],
        ['quantity', 'reason', 'create_uid.login', 'beyond_book'],
        admin_context)
    assert (override['quantity'], override['reason'],
        override['create_uid.']['login'], override['beyond_book']) == (
        1, reason, MANAGER_C[0], 1)


DROP_ANSWERS = """
const [method, times] = arguments;
window.dropped = 0;
const fetch = window.fetch;
window.fetch = async function (url, options) {
    const response = await fetch(url, options);
    const body = JSON.parse(options.body);
    if (body.method.endsWith(method) && window.dropped < times) {
        window.dropped++;
        throw new TypeError('connection lost');
    }
    return response;
};
"""


def test_till_reload(server, browser):
    """The answers to a scan and to a payment are lost, as on a network
    blip: the page is reloaded in the middle of the sale, which it shows
    again, and sends each request again with its key; the server records
    each once"""
    rpc, context = clerk(server, CLERK_B)
    with till(browser, server, 'till-reload') as client:
        client.login(*CLERK_B)
        client.press(Keys.F12)
        client.scan('PE005')
        client.driver.execute_script(DROP_ANSWERS, 'till_add', 1)
        client.keys('CJ003', Keys.ENTER)
        client.idle()
        assert "网络中断" in client.alert()
        client.screenshot('lost')
        client.driver.refresh()
        client.wait(lambda: client.line_codes() == ['PE005', 'CJ003'])
        client.idle()
        client.wait(lambda: [line[2] for line in client.lines()] == [
                '1', '1'])
        client.screenshot('reloaded')

        client.driver.execute_script(DROP_ANSWERS, 'pay.execute', 1)
        client.element('#pay-amount').click()
        client.keys(Keys.ENTER)
        client.idle()
        assert "网络中断" in client.alert()
        client.driver.refresh()
        client.wait(lambda: client.shown('#receipt'), "no receipt")
        client.idle()
        receipt = client.text('#receipt')
        client.screenshot('paid')
    sale_number = receipt.split('单号：')[1].split('\n')[0]

    sale = one(rpc, 'sale.point.sale', [('number', '=', sale_number),
            ('point.name', '=', "武林店收银台")],
        ['state', 'total', 'lines', 'payments'], context)
    assert sale['state'] == 'done'
    assert decimal(sale['total']) == 128 + 58
    assert len(sale['lines']) == 2
    assert len(sale['payments']) == 1


def refused(rpc, method, *params):
    "Call method over JSON-RPC; return the error the server answers"
    try:
        rpc(method, *params)
    except AssertionError as error:
        return error.args[0]
    raise AssertionError(f"{method} was not refused")


def test_till_attacks(server):
    """What the till's methods refuse over raw JSON-RPC, whatever the page
    sends: clerk_b reads and changes only the sales and tills of 武林店,
    charges payment codes only with a payment-code method, and nobody but
    an administrator reads the merchant's v2 key"""
    admin_rpc, admin_context = admin(server)
    rpc, context = clerk(server, CLERK_B)
    theirs = one(admin_rpc, 'sale.point', [('name', '=', "西湖店收银台")],
        ['id'], admin_context)['id']
    ours = one(rpc, 'sale.point', [], ['id'], context)['id']
    assert rpc('model.sale.point.search', [], 0, None, None, context) == [
        ours]
    assert refused(rpc, 'model.sale.point.till_info', [theirs], context)
    assert refused(
        rpc, 'model.sale.point.till_open_session', [theirs], context)
    # His current warehouse, a preference, names the other store
    store, = admin_rpc('model.stock.location.search',
        [('code', '=', 'SA')], 0, None, None, admin_context)
    with contextlib.suppress(AssertionError):
        rpc('model.res.user.set_preferences', {'warehouse': store}, context)
    assert refused(rpc, 'model.sale.point.till_info', [theirs], context)

    sale, = admin_rpc('model.sale.point.sale.create',
        [{'point': theirs}], admin_context)
    for method, params in [
            ('till_state', []),
            ('till_add', ['PE002', 1, 'attack-1']),
            ('till_micropay', [1, '134567890123456789', '1', 'attack-2']),
            ]:
        assert refused(rpc, f'model.sale.point.sale.{method}', [sale],
            *params, context)
    assert refused(rpc, 'model.sale.point.sale.create',
        [{'point': theirs, 'till_key': 'attack-3'}], context)
    assert not admin_rpc('model.sale.point.sale.line.search',
        [('sale', '=', sale)], 0, None, None, admin_context)
    admin_rpc('model.sale.point.sale.delete', [sale], admin_context)

    # A payment code charged with the cash method
    own, = rpc('model.sale.point.sale.create', [{'point': ours}], context)
    rpc('model.sale.point.sale.till_add', [own], 'PE002', 1, 'attack-4',
        context)
    cash = one(rpc, 'sale.point.payment.method',
        [('name', '=', tea_house.CASH)], ['id'], context)['id']
    assert refused(rpc, 'model.sale.point.sale.till_micropay', [own], cash,
        '134567890123456789', '1', 'attack-5', context)
    assert not rpc('model.sale.point.payment.search',
        [('sale', '=', own)], 0, None, None, context)
    rpc('model.sale.point.sale.delete', [own], context)

    shop = one(admin_rpc, 'web.shop', [('name', '=', tea_house.SHOP)],
        ['wechatpay_v2_key'], admin_context)
    assert shop['wechatpay_v2_key'] == '********'
    assert refused(rpc, 'model.web.shop.read', [shop['id']],
        ['wechatpay_v2_key'], context)
    assert refused(rpc, 'model.web.shop.write', [shop['id']],
        {'wechatpay_v2_key': 'attacker'}, context)


def paid_pickup_order(server, store_code, product_code):
    """Return a new member's pickup order at the store, paid through the
    demo's fake WeChat, as the mall API answers it"""
    rpc, context = admin(server)
    shop = one(rpc, 'web.shop', [('name', '=', tea_house.SHOP)], ['id'],
        context)['id']
    store, = rpc('model.stock.location.search', [('code', '=', store_code)],
        0, None, None, context)
    product, = rpc('model.product.product.search',
        [('code', '=', product_code)], 0, None, None, context)
    session = mall_api(server, '/login',
        {'shop': shop, 'code': 'till-' + secrets.token_hex(6)})
    token = session['token']
    phone = '139%08d' % secrets.randbelow(10 ** 8)
    mall_api(server, '/me/phone', {'code': f'phone-{phone}'}, token)
    order = mall_api(server, '/orders', {
            'items': [{'product': product, 'quantity': 1}],
            'fulfilment': 'pickup', 'store': store,
            }, token, key=secrets.token_hex(8))['order']
    deadline = time.monotonic() + 30
    while order['status'] != 'paid' and time.monotonic() < deadline:
        time.sleep(0.2)
        order = mall_api(server, f"/orders/{order['id']}", token=token)
    assert order['status'] == 'paid', order
    return order


def test_till_pickup(server, browser):
    """A member's mall order for pickup at 武林店, paid: clerk_b scans its
    QR code into the till's scan field, sees the order and hands it over
    with Enter, through the back office's Pickup Handover"""
    order = paid_pickup_order(server, 'SB', 'WL001')
    rpc, context = clerk(server, CLERK_B)
    with till(browser, server, 'till-pickup') as client:
        client.login(*CLERK_B)
        client.press(Keys.F12)
        client.keys(order['pickup']['qr'], Keys.ENTER)
        client.wait(lambda: client.shown('#pickup'), "no pickup order")
        client.idle()
        assert client.text('#pickup-number') == order['number']
        assert "安溪铁观音 × 1" in client.text('#pickup-lines')
        client.screenshot('order')
        client.press(Keys.ENTER)
        client.wait(lambda: not client.shown('#pickup'))
        assert "已交付" in client.alert()
        client.screenshot('handed-over')
    admin_rpc, admin_context = admin(server)
    sale = one(admin_rpc, 'sale.sale', [('number', '=', order['number'])],
        ['pickup_state', 'shipment_state', 'pickup_point.name'],
        admin_context)
    assert sale['pickup_state'] == 'picked_up'
    assert sale['shipment_state'] == 'sent'
    assert sale['pickup_point.']['name'] == "武林店收银台"


def session_expected(rpc, context):
    "Return the cash that 武林店's open session should hold"
    point = one(rpc, 'sale.point', [('name', '=', "武林店收银台")], ['id'],
        context)['id']
    return Decimal(rpc('model.sale.point.till_info', [point], context)[
            'session']['expected'])


def test_till_return(server, browser):
    """张伟 buys two 普洱 and a cup with his 满100减20 coupon and brings
    them back in two goes: clerk_b scans the receipt's QR code, types what
    comes back, and pays it out in cash, through the back office's Return.
    The goods go back on the shelf, the points they earned are taken back,
    each return refunds its share of the coupon, and the coupon is usable
    again when all has come back"""
    admin_rpc, admin_context, member, code = loyal_member_with_coupon(
        server)
    rpc, context = clerk(server, CLERK_B)
    with till(browser, server, 'till-return') as client:
        client.login(*CLERK_B)
        if client.shown('#session-open'):
            client.press(Keys.F6)
        client.press(Keys.F12)
        for code_ in ['PE002', 'PE002', 'CJ002']:
            client.scan(code_)
        client.press(Keys.F2)
        client.keys(code, Keys.ENTER)
        client.wait(lambda: client.shown('#member'), "no member")
        client.idle()
        client.press(Keys.F4)
        client.wait(lambda: client.to_pay() == '648.80')
        client.element('#pay-amount').click()
        client.keys(Keys.ENTER)
        client.wait(lambda: client.shown('#receipt'), "no receipt")
        client.idle()
        number = client.text('#receipt').split('单号：')[1].split('\n')[0]
        shelf_sold = shelf(rpc, context, "武林店收银台", ['PE002', 'CJ002'])
        points_sold = one(admin_rpc, 'party.party',
            [('id', '=', member['id'])], ['points_balance'],
            admin_context)['points_balance']
        cash_sold = session_expected(rpc, context)

        # One tea back: its price less its share of the coupon, by the
        # receipt's QR code, the link of the demo's mini-program
        client.press(Keys.F12)
        client.keys(
            receipt_text(number, tea_house.RECEIPT_URL), Keys.ENTER)
        client.wait(lambda: client.shown('#return-sale'), "no sale found")
        client.idle()
        assert client.text('#return-original') == number
        assert client.driver.switch_to.active_element.get_attribute(
            'aria-label') == "退货数量 " + client.text(
            '#return-lines tbody tr td')
        client.keys(Keys.CONTROL, 'a')
        client.keys('1', Keys.ENTER)
        client.wait(lambda: client.shown('#sale-return'), "no return")
        client.idle()
        # 20 × 254.60 / 668.80 = 7.61 of the coupon stays with the shop
        assert client.to_pay() == '-246.99'
        assert "应退顾客 246.99" in client.text('#sale-return')
        client.screenshot('return-1')
        client.element('#pay-amount').click()
        client.keys(Keys.ENTER)
        client.wait(lambda: client.shown('#receipt'), "no receipt")
        client.idle()
        assert f"退货 · 原单：{number}" in client.text('#receipt')
        client.screenshot('refunded-1')

        # The rest back, by the receipt's number typed after F3
        client.press(Keys.F12)
        client.press(Keys.F3)
        client.keys(number, Keys.ENTER)
        client.wait(lambda: client.shown('#return-sale'), "no sale found")
        client.idle()
        rows = client.driver.find_elements(
            By.CSS_SELECTOR, '#return-lines tbody tr')
        assert [r.find_elements(By.CSS_SELECTOR, 'td')[2].text
            for r in rows] == ['1', '1']
        for row in rows:
            quantity = row.find_element(By.CSS_SELECTOR, 'input')
            quantity.clear()
            quantity.send_keys('1')
        client.keys(Keys.ENTER)
        client.wait(lambda: client.shown('#sale-return'), "no return")
        client.idle()
        # 254.60 + 159.60 less the 12.39 left of the coupon
        assert client.to_pay() == '-401.81'
        client.element('#pay-amount').click()
        client.keys(Keys.ENTER)
        client.wait(lambda: client.shown('#receipt'), "no receipt")
        client.idle()
        client.screenshot('refunded-2')
        # Nothing is left to return (the QR code of a shop without link)
        client.press(Keys.F12)
        client.keys(receipt_text(number), Keys.ENTER)
        client.idle()
        assert "不能退货" in client.alert()

    sale = one(rpc, 'sale.point.sale', [('number', '=', number)],
        ['lines'], context)
    returns = rpc('model.sale.point.sale.search_read',
        [('returned_sale', '=', sale['id'])], 0, None, [('id', 'ASC')],
        ['state', 'total', 'member', 'till_key'], context)
    assert [(r['state'], decimal(r['total'])) for r in returns] == [
        ('done', Decimal('-246.99')), ('done', Decimal('-401.81'))]
    assert all(r['member'] == member['id'] and r['till_key']
        for r in returns)
    lines = rpc('model.sale.point.sale.line.search_read',
        [('sale', 'in', [r['id'] for r in returns])], 0, None,
        [('id', 'ASC')], ['product.code', 'quantity', 'returned_line',
            'moves'], context)
    goods = [line for line in lines if line['returned_line']]
    assert [(line['product.']['code'], line['quantity']) for line in goods
        ] == [('PE002', -1), ('PE002', -1), ('CJ002', -1)]
    assert {line['returned_line'] for line in goods} <= set(sale['lines'])
    # The goods come back on the shelf when the back office posts the
    # returns, as it posts the sales
    admin_rpc('model.sale.point.sale.post', [r['id'] for r in returns],
        admin_context)
    lines = rpc('model.sale.point.sale.line.read',
        [line['id'] for line in goods], ['moves'], context)
    moves = rpc('model.stock.move.search_read',
        [('id', 'in', [m for line in lines for m in line['moves']])],
        0, None, None, ['state', 'from_location.type', 'quantity'], context)
    assert sorted((m['state'], m['from_location.']['type'], m['quantity'])
        for m in moves) == [('done', 'customer', 1)] * 3
    shelf_now = shelf(rpc, context, "武林店收银台", ['PE002', 'CJ002'])
    assert Decimal(shelf_now['PE002']) == Decimal(shelf_sold['PE002']) + 2
    assert Decimal(shelf_now['CJ002']) == Decimal(shelf_sold['CJ002']) + 1
    # The points the goods earned come back; the coupon is usable again
    entries = admin_rpc('model.member.points.entry.search_read',
        [('origin', 'in', [f'sale.point.sale,{r["id"]}' for r in returns])],
        0, None, None, ['type', 'points'], admin_context)
    assert len(entries) == 2
    assert all(e['type'] == 'adjust' and e['points'] < 0 for e in entries)
    balance = one(admin_rpc, 'party.party', [('id', '=', member['id'])],
        ['points_balance'], admin_context)['points_balance']
    assert balance == points_sold + sum(e['points'] for e in entries)
    redemption = one(admin_rpc, 'sale.promotion.coupon.redemption',
        [('origin', '=', f'sale.point.sale,{sale["id"]}')], ['state'],
        admin_context)
    assert redemption['state'] == 'reversed'
    # The cash paid back is out of the till's session
    payments = rpc('model.sale.point.payment.search_read',
        [('sale', 'in', [r['id'] for r in returns])], 0, None, None,
        ['amount', 'method.name', 'session.state'], context)
    assert sorted(decimal(p['amount']) for p in payments) == [
        Decimal('-401.81'), Decimal('-246.99')]
    assert all(p['method.']['name'] == tea_house.CASH
        and p['session.']['state'] == 'open' for p in payments)
    assert session_expected(rpc, context) == cash_sold - Decimal('648.80')

    # Nothing more comes back, and another store's clerk returns nothing
    assert refused(rpc, 'model.sale.point.sale.till_return', [sale['id']],
        {str(goods[0]['returned_line']): 1}, 'return-again', context)
    other, other_context = clerk(server, CLERK_C)
    assert refused(other, 'model.sale.point.sale.till_return',
        [sale['id']], {}, 'return-other', other_context)
    assert not rpc('model.sale.point.sale.search',
        [('till_key', 'in', ['return-again', 'return-other'])], 0, None,
        None, context)


def test_till_no_stock_endless_aisle(server, browser):
    """滨江店's shelf has no 2019 老班章: when clerk_c scans it for 张伟,
    the till shows where it is, nearest first, and orders it from 武林店
    for pickup here, paid by 张伟 in the mini-program, through the back
    office's Endless Aisle Order; the line leaves the sale"""
    admin_rpc, admin_context = admin(server)
    member = one(admin_rpc, 'party.party',
        [('name', '=', tea_house.LOYAL_MEMBER)], ['id'], admin_context)
    code = member_code(server, admin_rpc, admin_context)
    before = admin_rpc('model.sale.sale.search',
        [('party', '=', member['id'])], 0, None, None, admin_context)
    with till(browser, server, 'till-aisle') as client:
        client.login(*CLERK_C)
        client.press(Keys.F12)
        client.press(Keys.F2)
        client.keys(code, Keys.ENTER)
        client.wait(lambda: client.shown('#member'), "no member")
        client.idle()
        client.element('#scan').click()
        client.scan(tea_house.LIMITED)
        client.wait(lambda: client.shown('#aisle-order'), "no availability")
        rows = [row.text for row in client.driver.find_elements(
                By.CSS_SELECTOR, '#aisle-stock tbody tr')]
        assert rows[0].startswith("[SC] 滨江店"), rows
        assert any(row.startswith("[CW] 中央仓") for row in rows), rows
        assert client.driver.switch_to.active_element.get_attribute(
            'id') == 'aisle-source'
        client.screenshot('availability')
        Select(client.element('#aisle-source')).select_by_visible_text(
            "[SB] 武林店")
        Select(client.element('#aisle-kind')).select_by_value('pickup')
        Select(client.element('#aisle-payment')).select_by_value('later')
        client.element('#aisle-payment').send_keys(Keys.ENTER)
        client.wait(lambda: "云货架订单" in client.alert(), "no order")
        client.idle()
        assert "请会员在小程序付款" in client.alert()
        client.wait(lambda: tea_house.LIMITED not in client.line_codes())
        client.screenshot('ordered')
        number = client.alert().split('云货架订单 ')[1].split(' ')[0]

    order, = admin_rpc('model.sale.sale.search_read',
        [('party', '=', member['id']), ('id', 'not in', before)],
        0, None, None, ['number', 'state', 'credited_store.code',
            'credited_clerk.login', 'pickup_store.code', 'pickup_source.code',
            'lines'], admin_context)
    assert order['number'] == number
    assert order['state'] == 'quotation'
    assert (order['credited_store.']['code'],
        order['credited_clerk.']['login'], order['pickup_store.']['code'],
        order['pickup_source.']['code']) == (
        'SC', CLERK_C[0], 'SC', 'SB')
    line, = admin_rpc('model.sale.line.read', order['lines'],
        ['product.code', 'quantity'], admin_context)
    assert (line['product.']['code'], line['quantity']) == (
        tea_house.LIMITED, 1)
