#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Print the access rights of the omni modules' models and fields per group,
as the Markdown table that README.md shows between its access markers.

usage: TRYTOND_DATABASE_URI=sqlite:// DB_CACHE=... tools/access_table.py
(with a database that has the modules activated, as the tests make)"""
from collections import defaultdict

MODULES = [
    'omni_inventory_bridge', 'omni_member_hub', 'omni_o2o_pickup',
    'omni_miniprogram', 'omni_insights']
BEGIN = '<!-- access rights: begin -->'
END = '<!-- access rights: end -->'
PERMS = [('perm_read', 'r'), ('perm_write', 'w'), ('perm_create', 'c'),
    ('perm_delete', 'd')]


def flags(access):
    return ''.join(
        letter if getattr(access, perm) else '-' for perm, letter in PERMS)


def group_name(access):
    return access.group.name if access.group else "everyone else"


def access_table():
    """Return the Markdown table of the models the omni modules define and
    the fields they restrict, and the models that have no access rights"""
    from trytond.model import ModelStorage
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Model = pool.get('ir.model')
    ModelAccess = pool.get('ir.model.access')
    FieldAccess = pool.get('ir.model.field.access')
    with Transaction().set_context(language='en'):
        models = Model.search(
            [('module', 'in', MODULES)], order=[('name', 'ASC')])
        names = [m.name for m in models]
        rights = defaultdict(list)
        for access in ModelAccess.search([('model', 'in', names)]):
            rights[access.model].append(
                f"{group_name(access)} `{flags(access)}`")
        for access in FieldAccess.search([('field.model', 'in', names)]):
            rights[access.field.model].append(
                f"{access.field.name}: {group_name(access)} "
                f"`{flags(access)}`")
        lines = ['| model | access (read, write, create, delete) |',
            '|---|---|']
        unguarded = []
        for model in models:
            if not issubclass(pool.get(model.name), ModelStorage):
                continue
            if not rights[model.name]:
                unguarded.append(model.name)
            lines.append(f"| `{model.name}` | "
                + '; '.join(sorted(rights[model.name])) + ' |')
    return '\n'.join(lines) + '\n', unguarded


def main():
    from trytond.tests.test_tryton import DB_NAME, activate_module
    from trytond.transaction import Transaction
    activate_module('omni_insights')
    with Transaction().start(DB_NAME, 0):
        table, unguarded = access_table()
    print(BEGIN)
    print(table, end='')
    print(END)
    if unguarded:
        print("Models without access rights:", ', '.join(unguarded))


if __name__ == '__main__':
    main()
