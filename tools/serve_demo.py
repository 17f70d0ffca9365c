#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Serve the demo as `make run` does: the fake WeChat's dev server on
127.0.0.1, then trytond with the [omni] WeChat URLs pointing at it.

Only the configured endpoints differ from production: the modules call the
fake as they would call WeChat.

Usage: tools/serve_demo.py -c trytond.conf -d omni [--state var/state]
    [--wechat-port 8001]
"""
import argparse
import pathlib
import sys

import wechat_dev_server
from trytond import config

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('-c', '--config', default=str(ROOT / 'trytond.conf'))
    parser.add_argument('-d', '--database', default='omni')
    parser.add_argument('--state', default=str(ROOT / 'var' / 'state'))
    parser.add_argument('--wechat-port', type=int, default=8001)
    options = parser.parse_args()
    wechat = wechat_dev_server.start(options.state, options.wechat_port)
    if not config.has_section('omni'):
        config.add_section('omni')
    for name in ['wechat_api_url', 'wechatpay_api_url']:
        config.set('omni', name, wechat.url)
    print(f"Fake WeChat on {wechat.url}", flush=True)
    from trytond.cli import main as trytond
    sys.argv = ['trytond', '-c', options.config, '-d', options.database]
    return trytond()


if __name__ == '__main__':
    sys.exit(main())
