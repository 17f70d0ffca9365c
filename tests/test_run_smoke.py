# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Smoke test of `make run`: build the demo database the way it does, serve
it with trytond and use it as the web client and a clerk would."""
import base64
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent
WEB_ROOT = ROOT / 'var' / 'www'
OMNI_MODULES = [
    'omni_insights', 'omni_inventory_bridge', 'omni_member_hub',
    'omni_miniprogram', 'omni_o2o_pickup']
CLERK_A = ('clerk_a', 'clerk-a-2026')

# `make run` serves the embedded SQLite database; the demo itself is loaded
# on PostgreSQL too, by test_demo.py
pytestmark = pytest.mark.skipif(
    os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="make run builds its demo on SQLite")


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_for_port(port, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"trytond exited with {process.returncode}")
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"trytond did not listen on {port}")


@pytest.fixture(scope='module')
def server():
    assert (WEB_ROOT / 'index.html').exists(), "run `make deps` first"
    uri = os.environ.get('TRYTOND_DATABASE_URI', 'sqlite://')
    tmp = pathlib.Path(tempfile.mkdtemp(prefix='omni-smoke-'))
    port = free_port()
    name = f'smoke_{uuid.uuid4().hex[:8]}'
    config = tmp / 'trytond.conf'
    config.write_text(
        f"[database]\npath = {tmp}\n"
        f"[web]\nlisten = 127.0.0.1:{port}\nroot = {WEB_ROOT}\n")
    env = {**os.environ, 'TRYTOND_DATABASE_URI': uri}
    env.pop('DB_NAME', None)
    env.pop('DB_CACHE', None)
    prepared = subprocess.run([
            str(BIN / 'python'), str(ROOT / 'tools' / 'omni_db.py'),
            '--config', str(config), '--database', name,
            '--state-dir', str(tmp)],
        env=env, check=True, timeout=900, capture_output=True, text=True)
    # The banner gives the code of the demo's paid pickup order
    assert re.search(
        r"Pickup code of 李娜's order \S+ at 西湖店: \d{10} ",
        prepared.stdout), prepared.stdout
    log = (tmp / 'trytond.log').open('w')
    process = subprocess.Popen([
            str(BIN / 'trytond'), '-c', str(config), '-d', name],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process)
        yield f'http://127.0.0.1:{port}', name
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        if uri.startswith('postgresql'):
            subprocess.run(
                [str(BIN / 'python'), '-c',
                    'import sys; from trytond import backend; '
                    'db = backend.Database().connect(); '
                    'c = db.get_connection(autocommit=True); '
                    'db.drop(c, sys.argv[1]); db.put_connection(c)', name],
                env=env, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


class RPC:
    "A JSON-RPC client speaking to trytond as sao does"

    def __init__(self, url, database):
        self.url = f'{url}/{database}/rpc/'
        self.auth = None
        self.ids = iter(range(1, 1000))

    def __call__(self, method, *params):
        request = urllib.request.Request(
            self.url,
            data=json.dumps({
                    'id': next(self.ids), 'method': method,
                    'params': list(params)}).encode(),
            headers={'Content-Type': 'application/json'})
        if self.auth:
            request.add_header('Authorization', self.auth)
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        assert 'error' not in answer, answer.get('error')
        return answer['result']

    def login(self, login, password):
        user_id, session, _ = self(
            'common.db.login', login, {'password': password}, 'zh_CN')
        token = base64.b64encode(
            f'{login}:{user_id}:{session}'.encode()).decode()
        self.auth = f'Session {token}'
        return user_id


@pytest.fixture
def browser():
    "Headless Chromium driven through chromedriver"
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which('chromium')
    profile = tempfile.mkdtemp(prefix='omni-chromium-')
    for argument in [
            '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
            '--disable-background-networking', '--disable-component-update',
            '--disable-sync', f'--user-data-dir={profile}',
            '--window-size=1280,900']:
        options.add_argument(argument)
    driver = webdriver.Chrome(
        service=Service(shutil.which('chromedriver')), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_web_client_store_stock(server, browser):
    "The Store A clerk logs into sao and sees 3 boxes of 老班章 at the store"
    url, name = server
    with urllib.request.urlopen(url + '/', timeout=30) as response:
        assert b'tryton-sao' in response.read()
    wait = WebDriverWait(browser, 60)

    def visible(xpath):
        return wait.until(EC.visibility_of_element_located((By.XPATH, xpath)))

    # The server may list other databases: name ours as a bookmark does.
    browser.get(f'{url}/#{name}')
    visible("//input[@id='login']").send_keys(CLERK_A[0], Keys.ENTER)
    visible("//input[@type='password']").send_keys(CLERK_A[1], Keys.ENTER)
    visible("//*[@id='menu']//*[@title='库存 ＆ 盘点']").click()
    visible("//*[@id='menu']//*[@title='本店库存']").click()
    row = visible("//tr[.//*[normalize-space(text())='2019 老班章']]")
    assert row.text.split('\n')[:3] == ['LBZ2019', '2019 老班章', '3']


def test_clerk_sees_store_stock(server):
    "The Store A clerk logs in and reads 老班章 stock per store"
    rpc = RPC(*server)
    rpc.login(*CLERK_A)
    context = rpc('model.res.user.get_preferences', True, {})
    warehouses = rpc(
        'model.stock.location.search_read',
        [('type', '=', 'warehouse')], 0, None, [('code', 'ASC')],
        ['code'], context)
    by_code = {w['code']: w['id'] for w in warehouses}
    assert context['warehouse'] == by_code['SA']

    def quantity(location_ids):
        product, = rpc(
            'model.product.product.search_read',
            [('code', '=', 'LBZ2019')], 0, None, None, ['quantity'],
            {**context, 'locations': location_ids, 'with_childs': True})
        return product['quantity']

    assert quantity([by_code['SA']]) == 3
    assert quantity(list(by_code.values())) == 10


def test_omni_modules_activated(server):
    "The five omni modules are activated and the API answers"
    url, name = server
    rpc = RPC(url, name)
    rpc.login(*CLERK_A)
    modules = rpc(
        'model.ir.module.search_read',
        [('name', 'like', 'omni_%'), ('state', '=', 'activated')],
        0, None, [('name', 'ASC')], ['name'], {})
    assert [m['name'] for m in modules] == OMNI_MODULES
    with urllib.request.urlopen(
            f'{url}/{name}/omni/v1/health', timeout=30) as response:
        assert json.load(response) == {
            'status': 'ok', 'modules': OMNI_MODULES}
