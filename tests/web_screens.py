# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Every screen of every role in the web client.

Each role logs into sao and opens, through sao's own API as a click does,
the action of every menu entry it can see: the list (or the board, the
wizard's first dialog), the first record's form as a double click on its
row opens it, and every page of that form, so that each embedded list is
drawn.  It fails on a SEVERE message in the browser's console, a dialog
sao shows to report an error, a traceback or ERROR line in the server's
log and, for the staff, on an English word left on screen.  A table of
what each role opened goes to var/test-artifacts/screens-<role>.txt, a
screenshot of each staff screen and of each failing one to
var/test-artifacts/screens/<role>/.

The roles run in two browsers at once, each on its own trytond serving the
demo's database.  The test and its fixture are imported into
tests/test_run_smoke.py, so that they share its demo server."""
import base64
import json
import pathlib
import re
import threading
import time
import traceback

import pytest
from demo_site import ARTIFACTS, RPC, chromium
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

HARNESS = pathlib.Path(__file__).with_name('web_screens.js').read_text()
SCREENSHOTS = ARTIFACTS / 'screens'

# role: login, password
ROLES = {
    'clerk': ('clerk_b', 'clerk-b-2026'),
    'manager': ('manager_a', 'manager-a-2026'),
    'owner': ('owner', 'owner-2026'),
    'admin': ('admin', 'admin-omni-2026'),
    }
# The roles whose screens must be all Chinese
STAFF = {'clerk', 'manager', 'owner'}

# Latin words a Chinese screen may show: codes, units, currencies and
# proper names
ALLOWED_WORDS = {
    'POS',  # the till, as Chinese shops call it (POS 机)
    'u',  # the symbol of the unit of measure Unit
    'AppID', 'OpenID',  # WeChat's names of its identifiers
    }


def ensure_manager(url, name):
    """Add a store manager of 西湖店, a clerk who is also in Omni Store
    Manager, unless the demo has him already"""
    admin = RPC(url, name)
    admin.login(*ROLES['admin'])
    context = admin('model.res.user.get_preferences', True, {})
    login, password = ROLES['manager']
    if admin('model.res.user.search', [('login', '=', login)],
            0, None, None, context):
        return
    # The groups of a demo clerk and Omni Store Manager
    clerk, = admin('model.res.user.search_read', [
            ('login', '=', ROLES['clerk'][0])],
        0, None, None, ['groups'], context)
    manager, = admin('model.res.group.search', [
            ('name', '=', "Omni Store Manager")],
        0, None, None, {**context, 'language': 'en'})
    groups = clerk['groups'] + [manager]
    warehouse, = admin('model.stock.location.search', [
            ('code', '=', 'SA'), ('type', '=', 'warehouse')],
        0, None, None, context)
    language, = admin('model.ir.lang.search', [('code', '=', 'zh_CN')],
        0, None, None, context)
    admin('model.res.user.create', [{
                'login': login, 'password': password, 'name': "西湖店店长",
                'language': language, 'warehouse': warehouse,
                'companies': [('add', [context['company']])],
                'company': context['company'],
                'groups': [('add', groups)],
                }], context)


def menu_entries(url, name, login, password):
    """Return the actions of the menu entries the user sees, each once, as
    (menu id, complete name, action), and the names of all the entries"""
    rpc = RPC(url, name)
    rpc.login(login, password)
    context = rpc('model.res.user.get_preferences', True, {})
    menus = rpc('model.ir.ui.menu.search_read', [], 0, None,
        [('id', 'ASC')], ['complete_name', 'action'], context)
    entries, actions = [], set()
    for menu in menus:
        if not menu['action']:
            continue
        for action in rpc('model.ir.action.keyword.get_keyword',
                'tree_open', ['ir.ui.menu', menu['id']], context):
            if action['id'] not in actions:
                actions.add(action['id'])
                entries.append((menu['id'], menu['complete_name'], action))
    return entries, [m['complete_name'] for m in menus]


def english(words):
    "Return the words of {word: where} that are not allowed"
    return {w: where for w, where in words.items()
        if w not in ALLOWED_WORDS}


def sao_login(driver, url, name, login, password):
    wait = WebDriverWait(driver, 60)

    def visible(xpath):
        return wait.until(EC.visibility_of_element_located((By.XPATH, xpath)))

    driver.get(f'{url}/#{name}')
    visible("//input[@id='login']").send_keys(login, Keys.ENTER)
    visible("//input[@type='password']").send_keys(password, Keys.ENTER)
    # A new database greets the administrator with the configuration
    # wizard of its modules: cancel it as he would.  Ready when the menu
    # is drawn and no tab opens for a second.
    ready = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if driver.execute_script(
                "Sao.Tab.tabs.filter(t => t.wizard && t.wizard.screen"
                "    && !t.wizard.__processing"
                "    && !t.wizard.omni_ended).forEach(t => {"
                "  t.wizard.omni_ended = true; t.wizard.end(); });"
                "return Boolean(Sao.main_menu_screen"
                " && Sao.main_menu_screen.group.length"
                " && !Sao.Tab.tabs.length)"):
            ready = ready or time.monotonic()
            if time.monotonic() - ready >= 1:
                break
        else:
            ready = None
        time.sleep(0.1)
    else:
        raise TimeoutError(f"sao did not show the menu to {login}: "
            + driver.execute_script(
                "return JSON.stringify(["
                "Sao.Tab.tabs.map(t => t.name_long),"
                " Boolean(Sao.main_menu_screen)])"))
    driver.execute_script(HARNESS)


def call(driver, function, *args):
    "Return the result of the async function of the harness"
    result = json.loads(driver.execute_async_script(
            "omni.call(arguments[0], arguments[1], arguments[2])",
            function, list(args)))
    if isinstance(result, dict) and 'exception' in result:
        raise AssertionError(f"{function}{args}: {result['exception']}")
    return result


def screenshot(driver, path):
    "Save what the browser shows as a JPEG"
    image = driver.execute_cdp_cmd('Page.captureScreenshot', {
            'format': 'jpeg', 'quality': 60, 'clip': {
                'x': 0, 'y': 0, 'width': 1280, 'height': 900, 'scale': 0.75}})
    path.write_bytes(base64.b64decode(image['data']))


class ServerLog:
    "The lines the server logs from now on that report an error"

    ERROR = re.compile(r'Traceback|\] (ERROR|CRITICAL) ')

    def __init__(self, path):
        self.path = path
        self.offset = path.stat().st_size if path else 0

    def errors(self):
        if not self.path:
            return []
        with self.path.open('rb') as log:
            log.seek(self.offset)
            text = log.read().decode('utf-8', 'replace')
        self.offset += len(text.encode('utf-8', 'replace'))
        lines = text.splitlines()
        return [line for i, line in enumerate(lines)
            if self.ERROR.search(line)
            or (i and 'Traceback' in lines[i - 1])]


def reported(driver, log):
    """Return the problems reported since the last call: the dialogs sao
    opened, the SEVERE messages of the console and the server's errors"""
    dialogs = driver.execute_script(
        "const d = omni.dialogs; omni.dialogs = []; return d")
    return ([f"dialog {d['kind']}: {d['text']}" for d in dialogs]
        + [f"console: {e['message']}" for e in driver.get_log('browser')
            if e['level'] == 'SEVERE']
        + [f"server: {line}" for line in log.errors()])


def open_screens(driver, url, name, role, log_path=None):
    """Open every screen of the role in the logged-out browser and return
    the rows of its table and its failures"""
    login, password = ROLES[role]
    entries, menu_names = menu_entries(url, name, login, password)
    driver.set_script_timeout(120)
    sao_login(driver, url, name, login, password)
    driver.get_log('browser')  # the login's messages are not ours
    folder = SCREENSHOTS / role
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob('*.jpg'):
        old.unlink()
    log = ServerLog(log_path)
    failures, rows = [], []
    if role in STAFF:
        for menu in menu_names:
            for word in english(dict.fromkeys(re.findall(
                            r"[A-Za-z][A-Za-z'’]*", menu), '')):
                failures.append(f"menu {menu}: English {word!r}")
    for i, (menu_id, menu, action) in enumerate(entries, 1):
        start = time.monotonic()
        steps = call(driver, 'visit', menu_id, action)
        action = f"{action['type']},{action['id']}"
        problems = reported(driver, log)
        for step in steps:
            if step['state'] != 'idle':
                problems.append(f"{step['step']}: {step['state']}")
            if role in STAFF:
                problems.extend(f"English {w!r} in {where!r}"
                    for w, where in english(step['words']).items())
        # A screenshot of each staff screen, of the others when they fail
        image = folder / f'{i:03d}.jpg'
        if problems or role in STAFF:
            screenshot(driver, image)
        call(driver, 'close')
        closed = reported(driver, log)
        if closed and not image.exists():
            screenshot(driver, image)
        problems += closed
        failures.extend(f"{menu} [{action}]: {p}" for p in problems)
        opened, form = steps[0], steps[1] if len(steps) > 1 else None
        rows.append({
                'n': i, 'menu': menu, 'action': action,
                'kind': opened['kind'], 'model': opened.get('model') or '',
                'view': opened.get('view') or '',
                'records': opened.get('records', ''),
                'form': (form['step'] + ('' if form['step'] == 'pages'
                        else f" {form.get('view')}")) if form else '',
                'pages': form.get('pages', 0) if form else 0,
                'seconds': time.monotonic() - start,
                'result': 'FAIL' if problems else 'ok',
                'screenshot': image.name if image.exists() else '',
                })
    return rows, failures


def table(role, rows, seconds):
    "Return the table of what the role opened as text"
    lines = [f"{role}: {len(rows)} screens in {seconds:.0f} s", '']
    header = ('#', 'menu', 'action', 'opened', 'model', 'records',
        'form', 'pages', 's', 'result', 'screenshot')
    lines.append(' | '.join(header))
    for row in rows:
        lines.append(' | '.join(str(v) for v in [
                    row['n'], row['menu'], row['action'],
                    f"{row['kind']} {row['view']}", row['model'],
                    row['records'], row['form'], row['pages'],
                    f"{row['seconds']:.1f}", row['result'],
                    row['screenshot']]))
    return '\n'.join(lines) + '\n'


def open_roles(site, roles, results):
    """Open the screens of each role, each in a new browser, and store its
    rows, failures and seconds in results"""
    for role in roles:
        start = time.monotonic()
        try:
            with chromium() as driver:
                rows, failures = open_screens(
                    driver, site.url, site.name, role, site.log)
        except Exception:
            rows, failures = [], [traceback.format_exc()]
        seconds = time.monotonic() - start
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f'screens-{role}.txt').write_text(
            table(role, rows, seconds) + ''.join(
                f"\n{f}" for f in failures) + '\n')
        results[role] = rows, failures, seconds


@pytest.fixture(scope='module')
def screens(server):
    """Open the screens of every role in two browsers at once, each on its
    own trytond serving the database (the browser is most of the work):
    the administrator's and the clerk's, and the store manager's and the
    owner's; return {role: (rows, failures, seconds)}"""
    ensure_manager(*server)
    results = {}
    with server.another() as second:
        lanes = [
            threading.Thread(target=open_roles, args=(
                    second, ['admin', 'clerk'], results)),
            threading.Thread(target=open_roles, args=(
                    server, ['manager', 'owner'], results)),
            ]
        for lane in lanes:
            lane.start()
        for lane in lanes:
            lane.join()
    return results


# The four roles' screens open in the first test's set-up: about 10
# minutes on an idle machine, more when the other tests share its 2 cores
@pytest.mark.timeout(1800)
@pytest.mark.parametrize('role', list(ROLES))
def test_every_screen(screens, role):
    """The role opens every screen it has a menu entry for, the first
    record's form and every page of it without an error, and sees no
    English on a staff screen"""
    rows, failures, seconds = screens[role]
    print(table(role, rows, seconds))
    assert rows, failures
    assert not failures, '\n'.join(failures)
