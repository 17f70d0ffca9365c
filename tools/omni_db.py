#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Make sure a database holds the activated omni modules and the demo.

A new database is created, activated with every omni module and loaded
with the tea-house demo. An existing one is only updated when the module
sources changed since it was last prepared, so a second run takes seconds,
whatever the demo's stories changed in it; --reset drops it first.
"""
import argparse
import contextlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / 'tools'), str(ROOT)]

from source_hash import source_hash  # noqa: E402
from wechat_dev_server import shop_settings  # noqa: E402

from demo.tea_house import SHOP, USERS  # noqa: E402

# The modules that nothing else depends on
TOP_MODULES = ['omni_insights', 'omni_till']
ADMIN_EMAIL = 'admin@example.com'


@contextlib.contextmanager
def server_connection():
    "Yield the database server and an autocommit connection to it"
    from trytond import backend
    database = backend.Database().connect()
    connection = database.get_connection(autocommit=True)
    try:
        yield database, connection
    finally:
        database.put_connection(connection)


def sqlite_path(name):
    from trytond import config
    return pathlib.Path(config.get('database', 'path')) / f'{name}.sqlite'


def database_exists(name):
    from trytond import backend
    if backend.name == 'sqlite':
        return sqlite_path(name).exists()
    with server_connection() as (database, _):
        return name in database.list()


def create_database(name):
    from trytond import backend
    if backend.name == 'sqlite':
        sqlite_path(name).parent.mkdir(parents=True, exist_ok=True)
        sqlite_path(name).touch()
        return
    with server_connection() as (database, connection):
        database.create(connection, name)


def marker_path(state_dir, name):
    from trytond import backend
    return pathlib.Path(state_dir) / f'{backend.name}-{name}.source-hash'


def run(*args, **env):
    print('+', ' '.join(args), flush=True)
    subprocess.run(args, check=True, env={**os.environ, **env})


def prepare(name, config_file, admin_password, state_dir):
    bin_dir = pathlib.Path(sys.executable).parent
    marker = marker_path(state_dir, name)
    current = source_hash()
    if not database_exists(name):
        create_database(name)
        marker.unlink(missing_ok=True)
    elif marker.exists() and marker.read_text() == current:
        print(f'Database "{name}" is up to date.')
        return
    with tempfile.NamedTemporaryFile('w', suffix='.pass') as passfile:
        passfile.write(admin_password + '\n')
        passfile.flush()
        run(str(bin_dir / 'trytond-admin'), '-c', config_file, '-d', name,
            '--all', '-u', *TOP_MODULES, '--activate-dependencies',
            '-l', 'zh_CN', '--email', ADMIN_EMAIL,
            TRYTONPASSFILE=passfile.name)
    with tempfile.NamedTemporaryFile('w', suffix='.json') as wechat:
        json.dump(dict(shop_settings(state_dir),
                notify_url=server_url()), wechat)
        wechat.flush()
        run(sys.executable, str(ROOT / 'demo' / 'tea_house.py'),
            '--config', config_file, '--database', name,
            '--admin-password', admin_password, '--wechat', wechat.name)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(current)


def server_url():
    from trytond import config
    return 'http://%s' % config.get('web', 'listen')


def print_banner(name, config_file, admin_password):
    url = server_url()
    print(f"\nOmni Retail serves {url}/ (database \"{name}\", "
        f"API {url}/{name}/omni/v1/)")
    print_mall(name, config_file, url)
    print(f"Till: {url}/{name}/omni/till/ (log in as a clerk)")
    print("Demo logins:")
    print(f"  {'admin':8} {admin_password:16} administrator")
    for login, description, password, *_ in USERS:
        print(f"  {login:8} {password:16} {description}")
    print_pickup_code(name, config_file)
    print(flush=True)


def print_mall(name, config_file, url):
    "Print where the mini-program's develop build finds the demo's mall"
    from proteus import Model
    from proteus import config as pconfig
    Shop = Model.get('web.shop', config=pconfig.set_trytond(
            database=name, config_file=config_file))
    shop, = Shop.find([('name', '=', SHOP)])
    print(f"Mall API: {url}/{name}/omni/mp/v1/ (shop {shop.id}); the "
        "mini-program's develop build: miniprogram/config.js "
        f"baseUrl '{url}', database '{name}', shop {shop.id}. WeChat is "
        "the fake one on 127.0.0.1 (tools/wechat_dev_server.py).")


def print_pickup_code(name, config_file):
    "Print the code of the demo's pickup order, which only the server knows"
    from proteus import config as pconfig

    from demo.tea_house import PICKUP_MEMBER, pickup_code
    sale, code = pickup_code(
        pconfig.set_trytond(database=name, config_file=config_file))
    if sale is None:
        print(f"{PICKUP_MEMBER}'s pickup order has been handed over; "
            "`make demo-reset` builds the demo again as it first was.")
        return
    print(f"Pickup code of {PICKUP_MEMBER}'s order {sale.number} at "
        f"{sale.pickup_store.name}: {code} "
        "(clerk_a: 销售 › 取货核销 / Sales › Pickup Handover)")


def drop_database(name, state_dir):
    "Drop the database and forget the sources it was prepared with"
    from trytond import backend
    marker_path(state_dir, name).unlink(missing_ok=True)
    if backend.name == 'sqlite':
        sqlite_path(name).unlink(missing_ok=True)
    elif database_exists(name):
        with server_connection() as (database, connection):
            database.drop(connection, name)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config', default=str(ROOT / 'trytond.conf'))
    parser.add_argument('--database', default='omni')
    parser.add_argument('--admin-password', default='admin-omni-2026')
    parser.add_argument(
        '--state-dir', default=str(ROOT / 'var' / 'state'),
        help="where to remember the sources a database was prepared with")
    parser.add_argument(
        '--reset', action='store_true',
        help="drop the database first, to build the demo as it first was")
    options = parser.parse_args()
    os.environ['TRYTOND_CONFIG'] = options.config
    from trytond import config
    config.update_etc(options.config)
    if options.reset:
        drop_database(options.database, options.state_dir)
    prepare(
        options.database, options.config, options.admin_password,
        options.state_dir)
    print_banner(options.database, options.config, options.admin_password)


if __name__ == '__main__':
    main()
