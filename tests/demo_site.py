# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The demo that `make run` builds, served by trytond, and the clients the
browser tests use on it: sao's JSON-RPC and headless Chromium."""
import base64
import contextlib
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

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tools'))

from wechat_dev_server import DevWeChat, identity  # noqa: E402

BIN = pathlib.Path(sys.executable).parent
WEB_ROOT = ROOT / 'var' / 'www'
ARTIFACTS = ROOT / 'var' / 'test-artifacts'
PICKUP_CODE = re.compile(
    r"Pickup code of 李娜's order (\S+) at 西湖店: (\d{10}) ")


class DemoServer:
    """The URL and database of the served demo; unpacks as (url, name);
    wechat is the fake WeChat server that the demo server calls, log the
    path of the server's log"""

    def __init__(self, url, name, banner, wechat, log=None, serve=None,
            make_run=None):
        self.url, self.name, self.banner = url, name, banner
        self.wechat = wechat
        self.log = log
        self._serve = serve
        self._make_run = make_run

    def another(self):
        """Return a context manager that serves the same database from a
        second trytond process, as a DemoServer with its own log"""
        return self._serve()

    def make_run(self):
        """Return a context manager that runs `make run`'s command on the
        database and yields its URL, its output's path and the seconds it
        took to answer"""
        return self._make_run()

    def __iter__(self):
        return iter((self.url, self.name))

    @property
    def pickup(self):
        "Return the number and code of the pickup order the banner shows"
        return PICKUP_CODE.search(self.banner).groups()


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


def write_config(tmp, label, port, wechat_url):
    """Write the trytond configuration that serves the databases in tmp
    and calls the WeChat at wechat_url"""
    config = tmp / f'{label}.conf'
    config.write_text(
        f"[database]\npath = {tmp}\n"
        f"[web]\nlisten = 127.0.0.1:{port}\nroot = {WEB_ROOT}\n"
        f"[omni]\nwechat_api_url = {wechat_url}\n"
        f"wechatpay_api_url = {wechat_url}\n"
        # seconds a customer has to confirm a payment code at the till
        "micropay_wait = 3\n")
    return config


def wait_for_health(url, name, process, timeout=120):
    "Wait until the server answers its health route"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(
                    f'{url}/{name}/omni/ops/v1/health', timeout=5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer")


@contextlib.contextmanager
def trytond(tmp, name, env, label, port=None, wechat_url=None):
    "Serve the database name with trytond; yield its URL and log's path"
    port = port or free_port()
    config = write_config(tmp, label, port, wechat_url)
    log_path = tmp / f'{label}.log'
    with log_path.open('w') as log:
        process = subprocess.Popen([
                str(BIN / 'trytond'), '-c', str(config), '-d', name],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, process)
            yield f'http://127.0.0.1:{port}', log_path
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture(scope='module')
def server():
    assert (WEB_ROOT / 'index.html').exists(), "run `make deps` first"
    uri = os.environ.get('TRYTOND_DATABASE_URI', 'sqlite://')
    tmp = pathlib.Path(tempfile.mkdtemp(prefix='omni-smoke-'))
    port = free_port()
    name = f'smoke_{uuid.uuid4().hex[:8]}'
    # The WeChat that `make run` starts next to trytond, as it does: the
    # mall API logs in and pays through it
    wechat = DevWeChat(identity(tmp), pay_delay=0.5).start()
    config = write_config(tmp, 'trytond', port, wechat.url)
    env = {**os.environ, 'TRYTOND_DATABASE_URI': uri}
    env.pop('DB_NAME', None)
    env.pop('DB_CACHE', None)

    def prepare():
        return subprocess.run([
                str(BIN / 'python'), str(ROOT / 'tools' / 'omni_db.py'),
                '--config', str(config), '--database', name,
                '--state-dir', str(tmp)],
            env=env, check=True, timeout=900, capture_output=True,
            text=True).stdout
    prepared = prepare()
    # The banner gives the code of the demo's paid pickup order
    assert PICKUP_CODE.search(prepared), prepared
    others = iter(range(2, 100))

    @contextlib.contextmanager
    def serve():
        with trytond(tmp, name, env, f'trytond-{next(others)}',
                wechat_url=wechat.url) as (url, log):
            yield DemoServer(url, name, prepared, wechat, log)

    @contextlib.contextmanager
    def make_run():
        port = free_port()
        label = f'make-run-{next(others)}'
        config = write_config(tmp, label, port, wechat.url)
        output = tmp / f'{label}.log'
        start = time.monotonic()
        with output.open('w') as log:
            process = subprocess.Popen([
                    str(BIN / 'python'), str(ROOT / 'tools' / 'serve_demo.py'),
                    '-c', str(config), '-d', name, '--state', str(tmp),
                    '--wechat-port', str(free_port())],
                env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                url = f'http://127.0.0.1:{port}'
                wait_for_health(url, name, process)
                yield url, output, time.monotonic() - start
            finally:
                process.terminate()
                process.wait(timeout=30)

    try:
        with trytond(tmp, name, env, 'trytond', port, wechat.url) as (
                url, log):
            yield DemoServer(
                url, name, prepared, wechat, log, serve, make_run)
    finally:
        wechat.stop()
        if uri.startswith('postgresql'):
            subprocess.run(
                [str(BIN / 'python'), '-c',
                    'import sys; from trytond import backend; '
                    'db = backend.Database().connect(); '
                    'c = db.get_connection(autocommit=True); '
                    'db.drop(c, sys.argv[1]); db.put_connection(c)', name],
                env=env, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def mall_api(server, path, body=None, token=None, key=None):
    "Call the mall API as the mini-program does; return the JSON answer"
    request = urllib.request.Request(
        f'{server.url}/{server.name}/omni/mp/v1{path}',
        data=json.dumps(body).encode() if body is not None else None,
        headers={'Content-Type': 'application/json'})
    if token:
        request.add_header('Authorization', f'Bearer {token}')
    if key:
        request.add_header('Idempotency-Key', key)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


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


@contextlib.contextmanager
def chromium():
    "Headless Chromium driven through chromedriver, keeping its console"
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which('chromium')
    # Keep the console's messages for driver.get_log('browser')
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    profile = tempfile.mkdtemp(prefix='omni-chromium-')
    for argument in [
            '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
            '--disable-background-networking', '--disable-component-update',
            '--disable-sync', f'--user-data-dir={profile}',
            '--window-size=1280,900']:
        options.add_argument(argument)
    # The console, for the tests that check it for errors
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    driver = webdriver.Chrome(
        service=Service(shutil.which('chromedriver')), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser():
    "Headless Chromium driven through chromedriver, keeping its console"
    with chromium() as driver:
        yield driver
