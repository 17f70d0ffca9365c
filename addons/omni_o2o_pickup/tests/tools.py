# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Proteus helpers shared by the pickup scenarios."""
import datetime
from decimal import Decimal

from proteus import Model
from proteus import config as proteus_config
from trytond.pool import Pool
from trytond.transaction import Transaction

from trytond.modules.account.tests.tools import get_accounts


def create_tea(quantities, name="2019 Lao Ban Zhang", price='300',
        config=None):
    """Create a salable tea with quantities {storage location: quantity}
    on hand and return it"""
    Inventory = Model.get('stock.inventory', config=config)
    ProductCategory = Model.get('product.category', config=config)
    ProductTemplate = Model.get('product.template', config=config)
    ProductUom = Model.get('product.uom', config=config)
    accounts = get_accounts(config=config)
    category = ProductCategory(name="Tea", accounting=True)
    category.account_revenue = accounts['revenue']
    category.save()
    unit, = ProductUom.find([('name', '=', 'Unit')])
    template = ProductTemplate(
        name=name, default_uom=unit, type='goods', salable=True,
        account_category=category)
    template.list_price = Decimal(price)
    template.save()
    tea, = template.products
    for location, quantity in quantities.items():
        inventory = Inventory(location=location)
        inventory.lines.new(product=tea, quantity=quantity)
        inventory.click('confirm')
    return tea


def create_store(name, latitude, longitude, config=None):
    "Create a store: a warehouse with its own shelf"
    Location = Model.get('stock.location', config=config)
    locations = {
        kind: Location(name="%s %s" % (name, kind), type='storage')
        for kind in ['Input', 'Output', 'Shelf']}
    for location in locations.values():
        location.save()
    store = Location(name=name, type='warehouse')
    store.input_location = locations['Input']
    store.output_location = locations['Output']
    store.storage_location = locations['Shelf']
    store.lost_found_location, = Location.find(
        [('type', '=', 'lost_found')], limit=1)
    store.latitude = Decimal(latitude)
    store.longitude = Decimal(longitude)
    store.save()
    for location in locations.values():
        location.parent = store
        location.save()
    return store


def pay_pickups_with(name="WeChat Pay", config=None):
    "Pay the invoices of pickup orders with a new payment method"
    Configuration = Model.get('sale.configuration', config=config)
    Journal = Model.get('account.journal', config=config)
    PaymentMethod = Model.get(
        'account.invoice.payment.method', config=config)
    accounts = get_accounts(config=config)
    journal, = Journal.find([('type', '=', 'cash')], limit=1)
    method = PaymentMethod(name=name, journal=journal)
    method.credit_account = accounts['cash']
    method.debit_account = accounts['cash']
    method.save()
    configuration = Configuration(1)
    configuration.pickup_payment_method = method
    configuration.save()
    return method


def pickup_code(sale, config=None):
    """Return the code and QR payload that the mall shows the member,
    computed in the server as the mall API does"""
    config = config or proteus_config.get_config()
    with Transaction().start(config.database_name, 0):
        Sale = Pool().get('sale.sale')
        return Sale(sale.id).pickup_code()


def stock_figures(product, location, config=None):
    "Return (on hand, reserved, available) of the product at the location"
    Availability = Model.get('stock.availability', config=config)
    availabilities = Availability.find([
            ('product', '=', product.id), ('location', '=', location.id)])
    if not availabilities:
        return (0.0, 0.0, 0.0)
    availability, = availabilities
    return (
        availability.on_hand, availability.reserved, availability.available)


def pickup_order(member, store, products, ready=False, config=None):
    """Create a pickup order of [(product, quantity)] at the store for the
    member, quote it and pay it; make it ready when asked"""
    config = config or proteus_config.get_config()
    Sale = Model.get('sale.sale', config=config)
    sale = Sale(party=member)
    sale.pickup_store = store
    for product, quantity in products:
        line = sale.lines.new()
        line.product = product
        line.quantity = quantity
    sale.click('quote')
    sale.click('mark_pickup_paid')
    if ready:
        sale.reload()
        sale.click('pickup_ready')
    sale.reload()
    return sale


def move_deadline(sale, delta, config=None):
    "Make the ready order's deadline delta from now"
    config = config or proteus_config.get_config()
    with Transaction().start(config.database_name, 0) as transaction:
        Sale = Pool().get('sale.sale')
        Sale.write([Sale(sale.id)], {
                'pickup_deadline': datetime.datetime.now() + delta})
        transaction.commit()


def unlock_attempts(attempts, age, config=None):
    "Make the attempts age old"
    config = config or proteus_config.get_config()
    with Transaction().start(config.database_name, 0) as transaction:
        Attempt = Pool().get('sale.pickup.attempt')
        records = Attempt.browse([a.id for a in attempts])
        for record in records:
            record.attempted_at -= age
        Attempt.save(records)
        transaction.commit()
