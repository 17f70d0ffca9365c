# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The staff's stories clicked in the web client (sao) on the demo that
`make run` serves: menus, fields and buttons as a clerk, a store manager
and the owner use them, in zh_CN, asserting what the screen shows. JSON-RPC
only sets up what is not part of a story and reads the database back.

tests/test_run_smoke.py imports the tests to share its demo server; they
run after its own tests, which expect the demo as `make run` leaves it.
Screenshots are kept in var/test-artifacts/stories/."""
import contextlib
import importlib.util
import re
import secrets
import time
from decimal import Decimal

from demo_site import ARTIFACTS, ROOT, RPC, WEB_ROOT, mall_api
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

_spec = importlib.util.spec_from_file_location(
    'tea_house', ROOT / 'demo' / 'tea_house.py')
tea_house = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tea_house)

SHOTS = ARTIFACTS / 'stories'
ADMIN = ('admin', 'admin-omni-2026')
CLERK_A = ('clerk_a', 'clerk-a-2026')
OWNER = ('owner', 'owner-2026')
TILL = "西湖店收银台"
STORE = "[SA] 西湖店"
LIMITED = "[LBZ2019] 2019 老班章"
TIMEOUT = 30
# sao asks for a translation in the browser's language before the login;
# it has none for English
HARMLESS_CONSOLE = re.compile(r'/locale/en(_US)?\.json - Failed to load')
DIALOGS = '.error-dialog, .warning-dialog, .user-warning-dialog'
SERVER_DATE = re.compile(r'\d{4}-\d{2}-\d{2}')


class ScreenError(AssertionError):
    "sao showed an error dialog or logged an error in the console"


class Client:
    "The web client in headless Chromium, driven as a user does"

    def __init__(self, driver, server, story):
        self.driver = driver
        self.url, self.database = server
        self.story = story
        self.shots = 0
        self.expected_errors = 0

    # Waiting -------------------------------------------------------
    def wait(self, condition, timeout=TIMEOUT, message=None):
        """Wait until condition(driver) is truthy and return it; fail at
        once on an error dialog"""
        def check(driver):
            try:
                if not self.expected_errors:
                    self.check_dialogs()
                return condition(driver)
            except (StaleElementReferenceException, LookupError):
                return False
        try:
            return WebDriverWait(self.driver, timeout, 0.1).until(check)
        except TimeoutException:
            self.screenshot('timeout')
            raise TimeoutException(message or str(condition)) from None

    def settle(self):
        "Wait until sao has no request to the server under way"
        stable = []

        def idle(driver):
            if driver.execute_script(
                    "return window.jQuery ? jQuery.active : 1"):
                stable.clear()
                return False
            stable.append(True)
            return len(stable) >= 3
        self.wait(idle, message="sao stays busy")

    def check_dialogs(self):
        for dialog in self.driver.find_elements(By.CSS_SELECTOR, DIALOGS):
            if dialog.is_displayed():
                text = dialog.text
                self.screenshot('error')
                raise ScreenError(f"sao shows an error: {text}")

    def check_console(self):
        errors = [
            entry['message'] for entry in self.driver.get_log('browser')
            if entry['level'] == 'SEVERE'
            and not HARMLESS_CONSOLE.search(entry['message'])]
        if errors:
            raise ScreenError("browser console: " + "\n".join(errors))

    @contextlib.contextmanager
    def expect_error(self):
        """Expect sao to show one error dialog; yield a list that receives
        its text, and close it"""
        texts = []
        self.expected_errors += 1
        try:
            yield texts
            dialog = self.wait(lambda d: self.visible(DIALOGS, root=d))
            texts.append(dialog.text)
            self.screenshot('expected-error')
            self.click(lambda: self.button("确定", root=dialog))
            self.wait(lambda d: not self.visible(DIALOGS, root=d))
        finally:
            self.expected_errors -= 1

    # Finding -------------------------------------------------------
    def visible(self, css=None, xpath=None, root=None):
        "Return the first displayed element matching or None"
        root = root or self.driver
        if xpath:
            elements = root.find_elements(By.XPATH, xpath)
        else:
            elements = root.find_elements(By.CSS_SELECTOR, css)
        for element in elements:
            if element.is_displayed():
                return element

    def find(self, css=None, xpath=None, root=None):
        "Wait for a displayed element and return it"
        return self.wait(
            lambda d: self.visible(css, xpath, root),
            message=f"no {css or xpath}")

    @property
    def tab(self):
        "The tab that sao shows"
        return self.find('#tabcontent > .tab-pane.active')

    @property
    def dialog(self):
        "The dialog on top"
        def top(driver):
            dialogs = [
                d for d in driver.find_elements(
                    By.CSS_SELECTOR, '.modal.in .modal-dialog')
                if d.is_displayed()]
            return dialogs[-1] if dialogs else None
        return self.wait(top, message="no dialog")

    def no_dialog(self):
        self.wait(lambda d: not self.visible('.modal.in .modal-dialog'),
            message="a dialog stays open")
        self.settle()

    def field(self, name, root):
        return self.find(f'[name="{name}"]', root=root)

    def value(self, name, root):
        "Return the text a field shows"
        element = self.field(name, root)
        if element.tag_name == 'select':
            return Select(element).first_selected_option.text
        return element.get_attribute('value')

    def button(self, text, root):
        "Return the displayed button of that text (as shown) or name"
        for button in root.find_elements(By.CSS_SELECTOR, 'button'):
            if button.is_displayed() and (
                    button.text.strip().lower() == text.lower()
                    or button.get_attribute('name') == text):
                return button
        raise LookupError(f"no button {text}")

    def list(self, title, root):
        "Return the one2many or many2many of that title"
        return self.find(xpath=(
                ".//div[contains(@class, 'form-one2many')"
                " or contains(@class, 'form-many2many')]"
                "[.//label[normalize-space(text())='%s']]" % title),
            root=root)

    def rows(self, root):
        "Return the cell texts of the rows of the list in root"
        return [
            [' '.join(cell.text.split()) for cell in row.find_elements(
                        By.CSS_SELECTOR, 'td')
                if cell.text.strip()]
            for row in root.find_elements(By.CSS_SELECTOR, 'table tbody tr')
            if row.is_displayed() and row.text.strip()]

    # Acting --------------------------------------------------------
    def click(self, get):
        "Click what get() returns once it takes the click"
        def clicked(driver):
            try:
                get().click()
            except (ElementClickInterceptedException,
                    ElementNotInteractableException):
                return False
            return True
        self.wait(clicked, message="cannot click")

    def login(self, login, password):
        self.driver.get(f'{self.url}/#{self.database}')
        self.find('input#login').send_keys(login, Keys.ENTER)
        self.find('input[type=password]').send_keys(password, Keys.ENTER)
        self.find('#menu')
        self.settle()

    def menu(self, *path):
        "Open the menu entries of path, as shown"
        for title in path:
            self.click(lambda t=title: self.find(
                    xpath=f"//*[@id='menu']//*[@title='{t}']"))
            self.settle()

    def tool(self, button_id):
        "Click a button of the tab's toolbar"
        self.click(lambda: self.visible(f'button#{button_id}', root=self.tab))
        self.settle()

    def notebook(self, page, root):
        self.click(lambda: self.find(
                xpath=f".//a[@role='tab'][normalize-space(text())='{page}']",
                root=root))
        self.settle()

    def type(self, name, text, root):
        """Type text into the field: sao swaps a number's display for an
        input when it gets the focus"""
        self.click(lambda: self.field(name, root))
        active = self.driver.switch_to.active_element
        active.send_keys(Keys.CONTROL, 'a')
        active.send_keys(text)

    def choose(self, name, text, choice, root):
        "Type text into a many2one and pick choice among the completions"
        xpath = (
            "//ul[contains(@class, 'dropdown-menu')]"
            "/li[contains(@class, 'completion')]"
            f"//*[normalize-space(text())='{choice}']")
        entry = self.field(name, root)
        for _ in range(3):
            self.click(lambda: entry)
            try:
                entry.send_keys(Keys.CONTROL, 'a')
                entry.send_keys(text)
                completion = self.wait(
                    lambda d: self.visible(xpath=xpath), timeout=10)
            except (TimeoutException, ElementNotInteractableException):
                continue
            self.click(lambda c=completion: c)
            break
        self.wait(lambda d: entry.get_attribute('value') == choice,
            message=f"{name} is not {choice}")
        self.settle()

    def select(self, name, text, root):
        Select(self.field(name, root)).select_by_visible_text(text)
        self.settle()

    def press(self, text, root):
        "Press a button (its text as shown, or its name) and let sao work"
        self.click(lambda: self.button(text, root))
        self.settle()

    def double_click(self, element):
        ActionChains(self.driver).double_click(element).perform()
        self.settle()

    def screenshot(self, name):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        self.driver.save_screenshot(
            str(SHOTS / f'{self.story}-{self.shots:02d}-{name}.png'))


@contextlib.contextmanager
def story(browser, server, name):
    "Drive the web client for a story; check the console and time it"
    assert (WEB_ROOT / 'custom.js').exists(), "run `make deps` first"
    for shot in SHOTS.glob(f'{name}-*.png'):
        shot.unlink()
    browser.set_window_size(1400, 1000)
    client = Client(browser, server, name)
    start = time.monotonic()
    yield client
    client.check_dialogs()
    client.check_console()
    print(f"{name}: {time.monotonic() - start:.1f} s")


# Set-up and reading back, through JSON-RPC ---------------------------

def admin(server):
    "Return the admin's RPC and context"
    rpc = RPC(*server)
    rpc.login(*ADMIN)
    return rpc, rpc('model.res.user.get_preferences', True, {})


def make_manager(rpc, context, login, manager):
    "Add the user to Omni Store Manager or take him out"
    group, = rpc('model.res.group.search',
        [('name', '=', "Omni Store Manager")], 0, None, None,
        {'language': 'en'})
    user, = rpc('model.res.user.search', [('login', '=', login)],
        0, None, None, context)
    rpc('model.res.user.write', [user], {'groups': [
                ('add' if manager else 'remove', [group])]}, context)


def one(rpc, model, domain, fields, context):
    record, = rpc(f'model.{model}.search_read', domain, 0, None, None,
        fields, context)
    return record


def decimal(value):
    return Decimal(value['decimal']) if isinstance(value, dict) else value


# The member codes the tests were given
ISSUED_CODES = set()


def member_code(server, rpc, context, openid=tea_house.LOYAL_OPENID):
    """Return the rotating member code of the member of the openid (张伟's
    by default) as the mini-program shows it: logged in through WeChat,
    from GET /me/code"""
    wechat = server.wechat
    # What the owner sets on the shop's WeChat page
    wechat.appid = tea_house.DEMO_APPID
    shop = one(rpc, 'web.shop', [('name', '=', tea_house.SHOP)], ['id'],
        context)['id']
    rpc('model.web.shop.write', [shop], {
            'type': 'mini_program',
            'wechat_appid': wechat.appid,
            'wechat_app_secret': wechat.secret,
            }, context)
    code = secrets.token_hex(8)
    wechat.add_login(code, openid)

    session = mall_api(server, '/login', {'shop': shop, 'code': code})
    assert session['member'], f"the WeChat of {openid} is not bound"
    # A code is used once: a test that follows another within the same
    # 30 s step waits for the next code
    deadline = time.monotonic() + 60
    while True:
        code = mall_api(server, '/me/code', token=session['token'])['code']
        if code not in ISSUED_CODES or time.monotonic() > deadline:
            ISSUED_CODES.add(code)
            return code
        time.sleep(1)


def new_pos_sale(client):
    "Open POS Sales, start a new sale at 西湖店's till; return the tab"
    client.menu("销售", "收银销售")
    client.tool('new_')
    tab = client.tab
    client.choose('point', "西湖店", TILL, tab)
    return tab


def add_line(client, tab, code, choice, quantity):
    "Add a line for the product of code; return what the dialog showed"
    client.click(lambda: client.visible(
            '.form-one2many-toolbar button[title="新建"]', root=tab))
    dialog = client.dialog
    client.choose('product', code, choice, dialog)
    client.type('quantity', str(quantity) + Keys.TAB, dialog)
    client.settle()
    shown = client.wait(lambda d: {
            name: client.value(name, dialog)
            for name in ['stock_available', 'unit_price', 'amount']}
        if client.value('stock_available', dialog) else None)
    client.press("添加", dialog)
    client.no_dialog()
    return shown


def identify(client, tab, code):
    client.press('identify_member', tab)
    dialog = client.dialog
    client.type('code', code, dialog)
    client.press("识别", dialog)
    client.no_dialog()


def pay(client, method, amount=None):
    """Pay in the Pay dialog with method, the amount it proposes or
    amount; return the amount it proposed"""
    dialog = client.dialog
    proposed = client.value('amount', dialog)
    client.select('method', method, dialog)
    if amount is not None:
        client.type('amount', amount, dialog)
    client.press("OK", dialog)
    return proposed


# The stories ----------------------------------------------------------

def test_story_1_pos_sale(server, browser):
    """clerk_a sells a 2019 老班章 to 张伟 at 西湖店's till: she adds it by
    its code, identifies him by the code of his mini-program, applies his
    满100减20 coupon, he pays ¥50 with points and the rest in cash"""
    rpc, context = admin(server)
    make_manager(rpc, context, 'clerk_a', False)
    member = one(rpc, 'party.party',
        [('name', '=', tea_house.LOYAL_MEMBER)], ['points_balance'],
        context)
    coupon = one(rpc, 'sale.promotion.coupon.number',
        [('party', '=', member['id'])], ['number'], context)['number']

    with story(browser, server, 'story-1-pos-sale') as client:
        client.login(*CLERK_A)
        tab = new_pos_sale(client)
        # 3 on the shelf, 1 held for 李娜's pickup
        shown = add_line(client, tab, 'LBZ2019', LIMITED, 1)
        assert shown == {
            'stock_available': '2', 'unit_price': '3,800.0000',
            'amount': '3,800.00'}
        assert client.value('total', tab) == '3,800.00'
        client.screenshot('line')

        identify(client, tab, member_code(server, rpc, context))
        client.wait(lambda d: client.value('member', tab) == "张伟")
        # 金卡: 5 % off
        client.wait(lambda d: client.value('total', tab) == '3,610.00')
        assert client.rows(client.list("会员的优惠券", tab)) == [
            [tea_house.CAMPAIGN, coupon, tea_house.LOYAL_MEMBER]]
        client.screenshot('member')

        client.press('apply_coupon', tab)
        dialog = client.dialog
        client.select('number', coupon, dialog)
        client.press("使用", dialog)
        client.no_dialog()
        client.wait(lambda d: client.value('total', tab) == '3,590.00')
        assert client.value('coupon', tab) == coupon
        assert client.rows(client.list("明细", tab)) == [
            [LIMITED, '3,610.0000', '2', '1 u', '¥ 3,610.00'],
            [tea_house.COUPON_PRODUCT, '20.0000', '-1 u', '¥ -20.00'],
            ]
        client.screenshot('coupon')

        client.press('pay', tab)
        assert pay(client, tea_house.POINTS_METHOD, '50') == '3,590.00'
        # The dialog asks for the rest
        assert pay(client, tea_house.CASH) == '3,540.00'
        client.no_dialog()
        client.wait(lambda d: client.value('state', tab) == '已完成')
        assert client.value('total', tab) == '3,590.00'
        assert client.value('amount_to_pay', tab) == '0.00'
        number = client.value('number', tab)
        client.notebook('付款', tab)
        assert client.rows(client.list("付款", tab)) == [
            [tea_house.POINTS_METHOD, '¥ 50.00'],
            [tea_house.CASH, '¥ 3,540.00'],
            ]
        client.screenshot('paid')

    sale = one(rpc, 'sale.point.sale', [('number', '=', number)],
        ['state', 'total', 'member', 'coupon'], context)
    assert sale['state'] == 'done'
    assert decimal(sale['total']) == Decimal('3590')
    assert sale['member'] == member['id']
    redemption = one(rpc, 'sale.promotion.coupon.redemption',
        [('number.number', '=', coupon)],
        ['state', 'channel', 'store.code', 'origin'], context)
    assert redemption['state'] == 'done'
    assert redemption['channel'] == 'pos'
    assert redemption['store.']['code'] == 'SA'
    assert redemption['origin'] == f'sale.point.sale,{sale["id"]}'
    payments = rpc('model.sale.point.payment.search_read',
        [('sale', '=', sale['id'])], 0, None, [('id', 'ASC')],
        ['method.name', 'amount'], context)
    assert [(p['method.']['name'], decimal(p['amount'])) for p in payments
        ] == [(tea_house.POINTS_METHOD, 50), (tea_house.CASH, 3540)]
    entries = {e['origin']: e for e in rpc(
            'model.member.points.entry.search_read',
            [('member', '=', member['id']),
                ('origin', 'in', [f'sale.point.payment,{payments[0]["id"]}',
                        f'sale.point.sale,{sale["id"]}'])],
            0, None, None, ['type', 'points', 'origin'], context)}
    # ¥1 is 100 points; 金卡 earns 1.5 points per ¥1 paid in money
    spent = entries[f'sale.point.payment,{payments[0]["id"]}']
    earned = entries[f'sale.point.sale,{sale["id"]}']
    assert (spent['type'], spent['points']) == ('redeem', -5000)
    assert (earned['type'], earned['points']) == ('earn', 5310)
    balance = one(rpc, 'party.party', [('id', '=', member['id'])],
        ['points_balance'], context)['points_balance']
    assert balance == member['points_balance'] - 5000 + 5310


def test_story_2_pickup_handover(server, browser):
    """clerk_a hands 李娜's paid order over at 西湖店's till against the
    pickup code that `make run` printed"""
    rpc, context = admin(server)
    make_manager(rpc, context, 'clerk_a', False)
    number, code = server.pickup

    with story(browser, server, 'story-2-pickup') as client:
        client.login(*CLERK_A)
        client.menu("销售", "取货核销")
        dialog = client.dialog
        client.choose('point', "西湖店", TILL, dialog)
        client.type('code', code, dialog)
        client.screenshot('code')
        client.press("核销", dialog)
        dialog = client.wait(
            lambda d: client.visible('[name="sale"]', root=client.dialog)
            and client.dialog)
        assert client.value('sale', dialog) == number
        assert client.value('member', dialog) == tea_house.PICKUP_MEMBER
        assert client.value('pickup_state', dialog) == "待取货"
        assert client.value('total_amount', dialog) == '3,800.00'
        assert client.rows(client.list("明细行", dialog))[0][:3] == [
            number, tea_house.PICKUP_MEMBER, LIMITED]
        client.screenshot('order')
        client.press("交付", dialog)
        client.no_dialog()

        client.menu("自提订单")
        client.click(lambda: client.find(
                xpath=".//a[@role='tab'][normalize-space(text())='全部']",
                root=client.tab))
        client.settle()
        row, = [r for r in client.rows(client.tab) if r[0] == number]
        assert row[1:3] == [tea_house.PICKUP_MEMBER, STORE]
        assert row[-1] == "已取货"
        client.screenshot('picked-up')

    sale = one(rpc, 'sale.sale', [('number', '=', number)],
        ['pickup_state', 'shipment_state', 'state', 'pickup_point.name'],
        context)
    assert sale['pickup_state'] == 'picked_up'
    assert sale['shipment_state'] == 'sent'
    assert sale['state'] in {'processing', 'done'}
    assert sale['pickup_point.']['name'] == TILL


def test_story_3_endless_aisle(server, browser):
    """王芳 wants 2 boxes of 老班章: clerk_a identifies her by the code of
    her mini-program at 西湖店's till and orders them from the central
    warehouse, shipped home and paid at the till"""
    rpc, context = admin(server)
    make_manager(rpc, context, 'clerk_a', False)
    member = one(rpc, 'party.party',
        [('name', '=', tea_house.ENDLESS_AISLE_MEMBER)], ['name'],
        context)
    # 王芳 uses the mini-program too
    openid = 'o-demo-wangfang'
    if not rpc('model.party.wechat_identity.search',
            [('openid', '=', openid)], 0, None, None, context):
        rpc('model.party.wechat_identity.create', [{
                    'party': member['id'], 'appid': tea_house.DEMO_APPID,
                    'openid': openid}], context)
    code = member_code(server, rpc, context, openid)
    before = rpc('model.sale.sale.search', [('party', '=', member['id'])],
        0, None, None, context)

    with story(browser, server, 'story-3-endless-aisle') as client:
        client.login(*CLERK_A)
        tab = new_pos_sale(client)
        identify(client, tab, code)
        client.wait(lambda d: client.value('member', tab)
            == tea_house.ENDLESS_AISLE_MEMBER)
        client.tool('action')
        client.click(lambda: client.find(xpath=(
                    "//ul[contains(@class, 'dropdown-menu')]/li"
                    "//*[normalize-space(text())='云货架下单']")))
        client.settle()
        dialog = client.dialog
        assert client.value('member', dialog) == (
            tea_house.ENDLESS_AISLE_MEMBER)
        assert client.value('store', dialog) == STORE
        client.choose('product', 'LBZ2019', LIMITED, dialog)
        client.type('quantity', '2', dialog)
        client.click(lambda: client.field('source', dialog))
        client.settle()
        availability = {row[0]: row[1:] for row in client.rows(
                client.list("各地库存", dialog))}
        # Nearest first; 1 of the 4 boxes at 中央仓 is held for a mall order
        assert list(availability)[0] == STORE
        assert availability["[CW] 中央仓"] == ['3', '6.5']
        client.choose('source', "中央仓", "[CW] 中央仓", dialog)
        assert client.value('kind', dialog) == "送货上门"
        assert client.value('payment', dialog) == "收银台付款"
        client.screenshot('order')
        client.press("订单", dialog)
        dialog = client.wait(
            lambda d: client.visible('[name="state"]', root=client.dialog)
            and client.dialog)
        order = client.value('sale', dialog)
        assert client.value('total_amount', dialog) == '7,600.00'
        assert client.value('state', dialog) == '处理中'
        client.screenshot('ordered')
        # The order, open from the dialog, is credited to the store
        client.click(lambda: client.field('sale', dialog).find_element(
                By.XPATH, "..//button[@title='打开记录']"))
        form = client.wait(
            lambda d: client.visible('[name="party"]', root=client.dialog)
            and client.dialog)
        assert client.value('party', form) == tea_house.ENDLESS_AISLE_MEMBER
        assert client.value('warehouse', form) == "[CW] 中央仓"
        client.notebook("自提", form)
        assert client.value('credited_store', form) == STORE
        assert client.value('credited_clerk', form) == "西湖店店员"
        client.screenshot('credited')

    sale, = rpc('model.sale.sale.search_read',
        [('party', '=', member['id']), ('id', 'not in', before)],
        0, None, None,
        ['number', 'credited_store.code', 'credited_clerk.login',
            'warehouse.code', 'state', 'invoice_state', 'total_amount'],
        context)
    assert sale['number'] == order
    assert sale['credited_store.']['code'] == 'SA'
    assert sale['credited_clerk.']['login'] == 'clerk_a'
    assert sale['warehouse.']['code'] == 'CW'
    assert sale['state'] == 'processing'
    assert sale['invoice_state'] == 'paid'
    assert decimal(sale['total_amount']) == Decimal('7600')


def test_story_4_stock_override(server, browser):
    """clerk_a, a store manager, sells 3 boxes of 冰岛古树 that 西湖店's
    shelf holds for 张伟's sale: refused without a reason, sold with one,
    which POS Stock Overrides lists"""
    rpc, context = admin(server)
    make_manager(rpc, context, 'clerk_a', True)
    product = "[PE001] 2018 冰岛古树生茶 357g"
    reason = "老客户预订，中央仓明早补货"

    with story(browser, server, 'story-4-override') as client:
        client.login(*CLERK_A)
        tab = new_pos_sale(client)
        shown = add_line(client, tab, 'PE001', product, 3)
        assert shown['stock_available'] == '0'
        assert client.value('total', tab) == '5,040.00'
        client.press('pay', tab)
        with client.expect_error() as error:
            pay(client, tea_house.CASH)
        assert product in error[0]
        # Nothing was paid
        client.press("取消", client.dialog)
        client.no_dialog()
        assert client.value('state', tab) == '进行中'
        assert client.value('amount_to_pay', tab) == '5,040.00'

        client.notebook('其他信息', tab)
        client.type('stock_override_reason', reason, tab)
        client.press('pay', tab)
        pay(client, tea_house.CASH)
        client.no_dialog()
        # The sale lists its override
        assert client.rows(client.list("库存超卖记录", tab))[0][2:] == [
            "西湖店店员", "西湖店货架", product, '3', '2', '2', '3',
            "店长填写原因", reason]
        client.screenshot('sold')
        client.notebook('销售', tab)
        client.wait(lambda d: client.value('state', tab) == '已完成')
        number = client.value('number', tab)

        client.menu("收银超卖记录")
        row = client.wait(lambda d: [
                r for r in client.rows(client.tab) if reason in r])[0]
        # date, time, user, sale, location, product, quantity, on hand,
        # reserved, beyond the book, policy, reason
        assert SERVER_DATE.fullmatch(row[0])
        assert row[2:] == [
            "西湖店店员", number, "西湖店货架", product, '3', '2', '2', '3',
            "店长填写原因", reason]
        client.screenshot('overrides')

    sale = one(rpc, 'sale.point.sale', [('number', '=', number)],
        ['state', 'stock_override_reason'], context)
    assert sale['state'] == 'done'
    override = one(rpc, 'sale.point.sale.stock_override',
        [('sale', '=', sale['id'])],
        ['quantity', 'reason', 'create_uid.login'], context)
    assert override['quantity'] == 3
    assert override['reason'] == reason
    assert override['create_uid.']['login'] == 'clerk_a'


REPORTS = [
    "商品渠道贡献", "分类渠道贡献", "门店数字化能力", "会员终身价值",
    "库存周转", "品类库存周转", "优惠券活动", "各门店优惠券活动"]
MEMBERS_REPORTS = {"门店数字化能力", "会员终身价值"}


def test_story_5_insights(server, browser):
    """The owner opens each report of 经营分析, filters it on 西湖店 and
    opens the documents behind a row: the sale lines or, for the
    inventory, the stock moves, all of 西湖店"""
    with story(browser, server, 'story-5-insights') as client:
        client.login(*OWNER)
        client.menu("经营分析")
        for index, report in enumerate(REPORTS):
            client.menu(report)
            tab = client.tab
            client.choose('store', "西湖店", STORE, tab)
            client.click(lambda t=tab: client.visible(
                    'button[title="查找"]', root=t))
            client.settle()
            client.wait(lambda d, t=tab: client.rows(t))
            client.screenshot(f'report-{index}')
            row = [r for r in tab.find_elements(
                    By.CSS_SELECTOR, 'table tbody tr')
                if r.is_displayed() and r.text.strip()][0]
            if index == 0:
                # Opening a row shows its documents; its product is a link
                # to the product
                quantity, = [
                    cell for cell in row.find_elements(By.TAG_NAME, 'td')
                    if cell.text.strip().isdigit()]
                client.double_click(quantity)
            else:
                client.click(lambda r=row: r.find_element(
                        By.CSS_SELECTOR, 'input[type=checkbox]'))
                client.tool('relate')
                client.click(lambda: client.find(xpath=(
                            "//ul[contains(@class, 'dropdown-menu')]/li"
                            "//*[normalize-space(text())='单据']")))
                client.settle()
            documents = client.tab
            assert documents != tab, f"{report}: no documents"
            lines = client.wait(lambda d, t=documents: client.rows(t))
            client.screenshot(f'report-{index}-documents')
            # The lines are 西湖店's (their store or the shelf they left);
            # its members' mall orders count for the store and the members
            # who joined there
            of_store = [STORE in line or "西湖店货架" in line
                for line in lines]
            if report in MEMBERS_REPORTS:
                assert any(of_store), (report, lines)
            else:
                assert all(of_store), (report, lines)
