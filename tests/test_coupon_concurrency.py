# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""A coupon redeemed at the same instant by a POS sale and a mall sale on
PostgreSQL is used once: one sale goes through, the other gets the user
error "already used", never a database error.  A member who claims a
coupon of one per member several times at once gets one number."""
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, drop_db

from trytond.modules.omni_inventory_bridge.tests.tools import (
    create_tea_chart,
    create_tea_company,
    run,
    run_retrying,
)
from trytond.modules.omni_member_hub.exceptions import CouponError

pytestmark = pytest.mark.skipif(
    not os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql'),
    reason="concurrent transactions need PostgreSQL (TRYTOND_DATABASE_URI)")

ROUNDS = 5
TAPS = 4


@pytest.fixture(scope='module')
def shop():
    "Return the context and the ids of the member, tea, coupon, POS, method"
    activate_module('omni_insights')
    context = create_tea_company()
    create_tea_chart(context)

    def create():
        pool = Pool()
        Account = pool.get('account.account')
        Category = pool.get('product.category')
        Company = pool.get('company.company')
        Configuration = pool.get('sale.configuration')
        Coupon = pool.get('sale.promotion.coupon')
        Journal = pool.get('account.journal')
        Location = pool.get('stock.location')
        ModelData = pool.get('ir.model.data')
        Party = pool.get('party.party')
        PaymentMethod = pool.get('sale.point.payment.method')
        POS = pool.get('sale.point')
        Promotion = pool.get('sale.promotion')
        SequenceStrict = pool.get('ir.sequence.strict')
        Template = pool.get('product.template')
        unit = ModelData.get_id('product', 'uom_unit')
        revenue, = Account.search([
                ('type.revenue', '=', True), ('closed', '=', False)], limit=1)
        category, = Category.create([{
                    'name': "Goods", 'accounting': True,
                    'account_revenue': revenue.id}])
        tea, discount = Template.create([{
                    'name': "Longjing", 'type': 'goods', 'salable': True,
                    'default_uom': unit, 'sale_uom': unit,
                    'list_price': Decimal(60), 'account_category': category.id,
                    'products': [('create', [{}])],
                    }, {
                    'name': "Coupon Discount", 'type': 'service',
                    'default_uom': unit, 'account_category': category.id,
                    'products': [('create', [{}])],
                    }])
        Configuration.write([Configuration(1)], {
                'coupon_discount_product': discount.products[0].id})
        store = Location(ModelData.get_id('stock', 'location_warehouse'))
        member = Party.register_member('13800138000', "张伟", 'pos', store)
        Party.write([member], {'addresses': [('create', [{}])]})
        promotion, = Promotion.create([{
                    'name': "满100减20", 'amount': Decimal(100),
                    'currency': Company(context['company']).currency.id,
                    'formula': 'unit_price',
                    }])
        coupon, = Coupon.create([{
                    'promotion': promotion.id, 'number_of_use': 1,
                    'discount_amount': Decimal(20), 'limit_per_member': 0,
                    }])
        journal, = Journal.search([('type', '=', 'revenue')], limit=1)
        sequence, = SequenceStrict.create([{
                    'name': "POS", 'company': context['company'],
                    'sequence_type': ModelData.get_id(
                        'sale_point', 'sequence_type_sale'),
                    }])
        pos, = POS.create([{
                    'name': "West Lake", 'journal': journal.id,
                    'sequence': sequence.id,
                    'storage_location': store.storage_location.id,
                    'customer_location': ModelData.get_id(
                        'stock', 'location_customer'),
                    }])
        cash, = Account.search([('code', '=', '1.1.1')], limit=1)
        method, = PaymentMethod.create([{
                    'name': "WeChat Pay", 'account': cash.id}])
        return (
            member.id, tea.products[0].id, coupon.id, pos.id, method.id)
    ids = run(context, create)
    yield context, ids
    drop_db()


def prepare(context, ids):
    """Push a new number to the member, put it on an open POS sale and on a
    draft mall order; return the ids of the number and both sales"""
    member, tea, coupon, pos, method = ids

    def create():
        pool = Pool()
        Coupon = pool.get('sale.promotion.coupon')
        Payment = pool.get('sale.point.payment')
        POSSale = pool.get('sale.point.sale')
        Sale = pool.get('sale.sale')
        number, = Coupon.push(coupon, [member])
        pos_sale, = POSSale.create([{
                    'point': pos, 'member': member,
                    'lines': [('create', [{
                                    'product': tea, 'quantity': 2,
                                    'unit_list_price': Decimal(60),
                                    'unit_gross_price': Decimal(60),
                                    }])],
                    }])
        pos_sale.set_coupon(number)
        Payment.create([{
                    'sale': pos_sale.id, 'method': method,
                    'amount': pos_sale.total}])
        mall_sale = Sale(party=member, coupons=[number])
        mall_sale.on_change_party()
        mall_sale.lines = [{'product': tea, 'quantity': 2}]
        line, = mall_sale.lines
        line.on_change_product()
        mall_sale.save()
        return number.id, pos_sale.id, mall_sale.id
    return run(context, create)


def use(context, model, method, sale_id):
    "Call the method that uses the coupon on the sale; return its state"
    def call():
        Sale = Pool().get(model)
        sale = Sale(sale_id)
        getattr(Sale, method)([sale])
        return sale.state
    return run(context, call)


@pytest.mark.parametrize('round_', range(ROUNDS))
def test_coupon_used_once_across_channels(shop, round_):
    context, ids = shop
    number_id, pos_sale_id, mall_sale_id = prepare(context, ids)
    start = threading.Barrier(2)
    constraint_refusals = []
    calls = {
        'pos': ('sale.point.sale', 'process', pos_sale_id),
        'mall': ('sale.sale', 'quote', mall_sale_id),
        }

    def attempt(channel):
        start.wait(timeout=60)
        try:
            return channel, use(context, *calls[channel])
        except CouponError as error:
            assert "already been used" in error.message
            # Refused by the live redemption it saw or by the constraint
            if error.__cause__:
                constraint_refusals.append(channel)
            return channel, 'refused'

    with ThreadPoolExecutor(2) as executor:
        results = dict(executor.map(attempt, ['pos', 'mall']))

    def redemptions():
        Redemption = Pool().get('sale.promotion.coupon.redemption')
        return [(r.channel, r.state) for r in Redemption.search([
                    ('number', '=', number_id)])]
    used = run(context, redemptions)
    print(f"round {round_}: {results}, "
        f"refused by the constraint: {constraint_refusals}")
    assert sorted(results.values()) in (
        ['done', 'refused'], ['quotation', 'refused'])
    winner = 'pos' if results['pos'] == 'done' else 'mall'
    assert used == [(winner, 'done')]


def test_claim_once_per_member(shop):
    """Four taps on claim at once issue one number, the others are refused

    Creating a number locks the numbers table (the unique validation of
    sale_promotion_coupon), which Tryton takes at the start of the retried
    transaction, so each claim checks the limit after the one before."""
    context, (member, _, coupon, _, _) = shop

    def create():
        Coupon = Pool().get('sale.promotion.coupon')
        limited, = Coupon.create([{
                    'promotion': Coupon(coupon).promotion.id,
                    'number_of_use': 1, 'discount_amount': Decimal(20),
                    'limit_per_member': 1,
                    }])
        return limited.id
    limited = run(context, create)
    start = threading.Barrier(TAPS)

    def tap(_):
        def claim():
            Coupon = Pool().get('sale.promotion.coupon')
            return Coupon.claim(member, limited).id
        start.wait(timeout=60)
        try:
            run_retrying(claim, context=context)
        except CouponError as error:
            assert "the limit per member" in error.message
            return 'refused'
        return 'claimed'

    with ThreadPoolExecutor(TAPS) as executor:
        results = sorted(executor.map(tap, range(TAPS)))

    def held():
        Number = Pool().get('sale.promotion.coupon.number')
        return Number.search_count([
                ('coupon', '=', limited), ('party', '=', member)])
    assert results == ['claimed'] + ['refused'] * (TAPS - 1)
    assert run(context, held) == 1
