#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Serve the demo as `make run` does, in one process: the fake WeChat's
dev server on 127.0.0.1, the demo database made or brought up to date
(tools/omni_db.py), the banner, then trytond with the [omni] WeChat URLs
pointing at the fake.

Only the configured endpoints differ from production: the modules call the
fake as they would call WeChat. The banner and the server share one pool,
so a demo already up to date serves in seconds.

Usage: tools/serve_demo.py [-c trytond.conf] [-d omni] [--state var/state]
    [--wechat-port 8001] [--reset]
"""
import argparse
import os
import pathlib
import sys

import omni_db
import wechat_dev_server
from trytond import config

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('-c', '--config', default=str(ROOT / 'trytond.conf'))
    parser.add_argument('-d', '--database', default='omni')
    parser.add_argument('--admin-password', default='admin-omni-2026')
    parser.add_argument('--state', default=str(ROOT / 'var' / 'state'))
    parser.add_argument('--wechat-port', type=int, default=8001)
    parser.add_argument(
        '--reset', action='store_true',
        help="drop the database first, to build the demo as it first was")
    options = parser.parse_args()
    os.environ['TRYTOND_CONFIG'] = options.config
    config.update_etc(options.config)
    wechat = wechat_dev_server.start(options.state, options.wechat_port)
    if not config.has_section('omni'):
        config.add_section('omni')
    for name in ['wechat_api_url', 'wechatpay_api_url']:
        config.set('omni', name, wechat.url)
    if options.reset:
        omni_db.drop_database(options.database, options.state)
    omni_db.prepare(options.database, options.config,
        options.admin_password, options.state)
    omni_db.print_banner(
        options.database, options.config, options.admin_password)
    print(f"Fake WeChat on {wechat.url}", flush=True)
    from trytond.cli import main as trytond
    # Without -d: the banner's pool serves the database, not a second one
    sys.argv = ['trytond', '-c', options.config]
    return trytond()


if __name__ == '__main__':
    sys.exit(main())
