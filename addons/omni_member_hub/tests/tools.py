# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Proteus helpers shared by the scenarios."""
import time

from proteus import Model
from proteus import config as proteus_config
from trytond.pool import Pool
from trytond.transaction import Transaction

from trytond.modules.account.tests.tools import get_accounts
from trytond.modules.omni_member_hub.member_code import STEP, STEPS_VALID


def create_pos(name="West Lake", storage=None, config=None):
    """Create a point of sale on the storage location (the default one
    when None), with a cash payment method; return both"""
    Journal = Model.get('account.journal', config=config)
    Location = Model.get('stock.location', config=config)
    PaymentMethod = Model.get('sale.point.payment.method', config=config)
    POS = Model.get('sale.point', config=config)
    SequenceStrict = Model.get('ir.sequence.strict', config=config)
    SequenceType = Model.get('ir.sequence.type', config=config)

    if storage is None:
        storage, = Location.find([('code', '=', 'STO')])
    customer, = Location.find([('code', '=', 'CUS')])
    journal, = Journal.find([('type', '=', 'revenue')], limit=1)
    pos = POS(name=name, journal=journal)
    pos.sequence = SequenceStrict(name=name, company=pos.company)
    pos.sequence.sequence_type, = SequenceType.find(
        [('name', '=', "POS")], limit=1)
    pos.sequence.save()
    pos.storage_location = storage
    pos.customer_location = customer
    pos.return_location = storage
    pos.save()
    methods = PaymentMethod.find([('cash', '=', True)], limit=1)
    if methods:
        cash, = methods
    else:
        accounts = get_accounts(company=pos.company, config=config)
        cash = PaymentMethod(name="Cash", account=accounts['cash'], cash=True)
        cash.save()
    return pos, cash


def pay(sale, method, amount=None):
    "Pay the POS sale with the method, in full when amount is None"
    payment = sale.click('pay')
    payment.form.method = method
    if amount is not None:
        payment.form.amount = amount
    payment.execute('pay')


def member_code(member, config=None):
    """Return the code the mini-program shows the member now, computed in
    the server as the mall API does; a code is used once, so wait for the
    next one when the valid ones are used"""
    config = config or proteus_config.get_config()
    while True:
        with Transaction().start(config.database_name, 0):
            pool = Pool()
            Party = pool.get('party.party')
            Use = pool.get('member.code_use')
            used = {u.step for u in Use.search([('party', '=', member.id)])}
            now = int(time.time() // STEP)
            for step in range(now, now - STEPS_VALID, -1):
                if step not in used:
                    code, _ = Party(member.id).member_code(step * STEP)
                    return code
        time.sleep(STEP - time.time() % STEP)


def run_as_system(func, config=None):
    """Return func(pool) run in the server as the crons and the mall API
    run, for the steps a clerk cannot do"""
    config = config or proteus_config.get_config()
    with Transaction().start(
            config.database_name, 0, context=config.context):
        return func(Pool())


def identified_sale(point, member, config=None):
    """Return a new sale of the point whose member the clerk identified by
    scanning the member's code"""
    config = config or proteus_config.get_config()
    POSSale = Model.get('sale.point.sale', config=config)
    sale = POSSale(point=point)
    sale.save()
    identify = sale.click('identify_member')
    identify.form.code = member_code(member, config)
    identify.execute('identify')
    sale.reload()
    return sale
