#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Load the demo of 王老板茶庄, Wang's tea house in Hangzhou.

The database must have the omni modules activated. Running the script
again changes nothing: records are looked up by name or code before they
are created and each location's stock is counted in by one inventory.
"""
import argparse
import datetime
import json
import os
from decimal import Decimal

from proteus import Model, Wizard
from proteus import config as pconfig

try:
    from demo.pictures import pictures
except ImportError:
    # Run as a script
    from pictures import pictures

COMPANY = "王老板茶庄"
TIMEZONE = 'Asia/Shanghai'
CITY = "杭州"
POSTAL_CODE = '310000'
VAT = "增值税 13%"
ACCOUNT_CATEGORY = "应税商品 13%"
CASH = "现金"
CASH_DIFFERENCE = "现金长短款"
WECHAT_PAY = "微信支付"
# The till charges the code the customer shows in WeChat (omni_till)
WECHAT_CODE = "微信付款码"
SHOP = "小程序商城"
PICKUP_DISCOUNT = Decimal('0.05')
NEARBY_RADIUS = 5.0
PAYMENT_TIME = datetime.timedelta(minutes=15)
RECEIPT_URL = 'https://shop.example.com/mp/receipt'
# The shop's subscribe message templates: their IDs in the WeChat admin
TEMPLATES = {
    'wechat_template_pickup_ready': 'demo-pickup-ready',
    'wechat_template_pickup_reminder': 'demo-pickup-reminder',
    'wechat_template_pickup_expiry': 'demo-pickup-expiry',
    'wechat_template_campaign': 'demo-campaign',
    }
GUEST = "小程序游客"
LANGUAGE = 'zh_CN'

# code, name, latitude, longitude, street; the company's first address is
# the central warehouse's.
WAREHOUSES = [
    ('CW', "中央仓", '30.300000', '120.100000', "西湖区三墩镇振华路 200 号"),
    ('SA', "西湖店", '30.259200', '120.148700', "西湖区北山街 32 号"),
    ('SB', "武林店", '30.274100', '120.162000', "拱墅区武林广场 1 号"),
    ('SC', "滨江店", '30.210000', '120.195000', "滨江区江南大道 588 号"),
    ]
STORES = ['SA', 'SB', 'SC']

# code, name, category, gross price in CNY, stock in CW, SA, SB, SC
PRODUCTS = [
    ('LBZ2019', "2019 老班章", "普洱茶", '3800', (4, 3, 3, 0)),
    ('PE001', "2018 冰岛古树生茶 357g", "普洱茶", '1680', (6, 2, 2, 1)),
    ('PE002', "大益 7542 生茶饼", "普洱茶", '268', (40, 12, 10, 8)),
    ('PE003', "大益 7572 熟茶饼", "普洱茶", '198', (45, 15, 12, 10)),
    ('PE004', "易武正山古树茶", "普洱茶", '880', (10, 4, 3, 2)),
    ('PE005', "新会小青柑", "普洱茶", '128', (60, 20, 18, 25)),
    ('LC001', "明前西湖龙井 250g", "绿茶", '1280', (20, 10, 6, 4)),
    ('LC002', "雨前龙井 250g", "绿茶", '580', (30, 12, 10, 8)),
    ('LC003', "安吉白茶", "绿茶", '460', (25, 8, 9, 6)),
    ('LC004', "洞庭碧螺春", "绿茶", '380', (20, 6, 7, 5)),
    ('LC005', "黄山毛峰", "绿茶", '260', (30, 9, 8, 10)),
    ('LC006', "径山茶", "绿茶", '320', (18, 7, 5, 6)),
    ('WL001', "安溪铁观音", "乌龙茶", '298', (35, 10, 12, 9)),
    ('WL002', "武夷大红袍", "乌龙茶", '680', (15, 5, 6, 4)),
    ('WL003', "凤凰单丛", "乌龙茶", '420', (12, 4, 5, 3)),
    ('WL004', "冻顶乌龙", "乌龙茶", '360', (14, 5, 4, 4)),
    ('WL005', "白毫乌龙", "乌龙茶", '520', (10, 3, 3, 2)),
    ('HC001', "正山小种", "红茶", '320', (24, 8, 7, 6)),
    ('HC002', "金骏眉", "红茶", '980', (12, 4, 4, 3)),
    ('HC003', "祁门红茶", "红茶", '260', (28, 9, 8, 7)),
    ('HC004', "滇红金芽", "红茶", '220', (26, 8, 9, 8)),
    ('HC005', "九曲红梅", "红茶", '240', (20, 7, 6, 5)),
    ('CJ001', "宜兴紫砂壶", "茶具", '1200', (8, 2, 3, 2)),
    ('CJ002', "青花瓷盖碗", "茶具", '168', (30, 10, 8, 9)),
    ('CJ003', "玻璃公道杯", "茶具", '58', (50, 15, 14, 16)),
    ('CJ004', "竹制茶盘", "茶具", '388', (10, 3, 2, 3)),
    ('CJ005', "汝窑品茗杯 6 只装", "茶具", '198', (20, 6, 6, 5)),
    ('MY001', "婴儿配方奶粉 1段 800g", "母婴", '358', (30, 6, 4, 12)),
    ('MY002', "婴儿配方奶粉 2段 800g", "母婴", '338', (30, 5, 4, 10)),
    ('MY003', "纸尿裤 M码", "母婴", '139', (60, 12, 10, 20)),
    ('MY004', "纸尿裤 L码", "母婴", '149', (60, 10, 10, 18)),
    ]
LIMITED = 'LBZ2019'
PICKUP_MEMBER = "李娜"
ENDLESS_AISLE_MEMBER = "王芳"
ENDLESS_AISLE_ORDER = ('CJ001', 1)

# The spring Longjing sells fast at 西湖店: (days ago, boxes) of its sales,
# 3 boxes over the weeks before and 5 over the last week. Its tea garden
# delivers in 5 days, so the replenishment cron suggests buying more.
FAST_SELLER = ('LC001', 'SA')
FAST_SALES = [(23, 1), (16, 1), (9, 1), (5, 1), (4, 1), (2, 1), (1, 1), (0, 1)]
SUPPLIER = ("西湖龙井茶园", "西湖区龙井路 1 号")
SUPPLIER_LEAD_TIME = datetime.timedelta(days=5)
# Its last delivery: (days ago received, boxes, days ago paid by bank
# transfer)
SUPPLY = (20, 6, 5)
BANK_TRANSFER = "银行转账"
# How far back the demo's documents go
HISTORY = datetime.timedelta(days=30)

# name, mobile, street
MEMBERS = [
    ("张伟", '+86 138 0013 8000', "西湖区文三路 90 号"),
    ("李娜", '+86 139 5712 3456', "滨江区长河路 351 号"),
    ("王芳", '+86 136 5812 7788', "拱墅区莫干山路 100 号"),
    ("刘洋", '+86 137 7715 2233', "上城区解放路 18 号"),
    ("陈静", '+86 150 6801 4567', "滨江区滨盛路 1509 号"),
    ("赵磊", '+86 188 5710 9988', "西湖区天目山路 398 号"),
    ]

# The loyalty programme: tiers (name, 12-month spend, discount %, points
# multiplier), 1 point per ¥1 paid, a 满100减20 campaign and a points
# payment at the tills.
TIERS = [
    ("普通会员", 0, 0, '1'),
    ("银卡", 1000, 3, '1.2'),
    ("金卡", 5000, 5, '1.5'),
    ("钻石", 20000, 8, '2'),
    ]
POINTS_PRODUCT = "积分抵扣"
COUPON_PRODUCT = "优惠券抵扣"
POINTS_METHOD = "积分"
CAMPAIGN = "满100减20"
# 张伟 joined at 西湖店, logged into the mini-program with WeChat, bought
# at the till (product code, quantity) and in the mall.
LOYAL_MEMBER = "张伟"
DEMO_APPID = 'wxd3m0a0000000omni'
LOYAL_OPENID = 'o-demo-zhangwei'
LOYAL_STORE_SALE = [('PE001', 2), ('HC002', 2)]
LOYAL_MALL_SALE = [('PE002', 1)]

CLERK_GROUPS = [
    'sale_point.group_sale_point',
    'stock.group_stock',
    'omni_inventory_bridge.group_store_clerk',
    ]
OWNER_GROUPS = [
    'sale.group_sale_admin',
    'stock.group_stock_admin',
    'account.group_account',
    'purchase.group_purchase',
    'purchase_request.group_purchase_request',
    'product.group_product_admin',
    'party.group_party_admin',
    'sale_point.group_sale_point',
    'omni_insights.group_owner',
    ]
# login, name, password, warehouse code, groups
USERS = [
    ('clerk_a', "西湖店店员", 'clerk-a-2026', 'SA', CLERK_GROUPS),
    ('clerk_b', "武林店店员", 'clerk-b-2026', 'SB', CLERK_GROUPS),
    ('clerk_c', "滨江店店员", 'clerk-c-2026', 'SC', CLERK_GROUPS),
    ('owner', "王老板", 'owner-2026', None, OWNER_GROUPS),
    ]


def ref(config, model, xml_id):
    "Return the record of model with the XML id module.fs_id"
    ModelData = Model.get('ir.model.data', config=config)
    return Model.get(model, config=config)(
        ModelData.get_id(xml_id, config.context))


def get_or_create(config, model, domain, **values):
    "Return the first record matching domain or a new one saved with values"
    Class = Model.get(model, config=config)
    records = Class.find(domain, limit=1)
    if records:
        return records[0]
    record = Class(**values)
    record.save()
    return record


def get_party(config, name, street, country, mobile=None):
    Party = Model.get('party.party', config=config)
    parties = Party.find([('name', '=', name)], limit=1)
    if parties:
        return parties[0]
    party = Party(name=name)
    address, = party.addresses
    fill_address(address, street, country)
    if mobile:
        party.contact_mechanisms.new(type='mobile', value=mobile)
    party.save()
    return party


def fill_address(address, street, country):
    address.street_unstructured = street
    address.city = CITY
    address.postal_code = POSTAL_CODE
    address.country = country


def get_address(config, party, street, country):
    Address = Model.get('party.address', config=config)
    addresses = Address.find([
            ('party', '=', party.id),
            ('street_unstructured', '=', street),
            ], limit=1)
    if addresses:
        return addresses[0]
    address = Address(party=party)
    fill_address(address, street, country)
    address.save()
    return address


def setup_company(config, country, admin_password=None):
    "Create the company in CNY and make it the admin's"
    today = datetime.date.today()
    currency = get_or_create(
        config, 'currency.currency', [('code', '=', 'CNY')],
        name="Chinese Yuan Renminbi", code='CNY', numeric_code='156',
        symbol='¥', rounding=Decimal('0.01'), digits=2)
    if not currency.rates:
        currency.rates.new(
            date=today.replace(month=1, day=1), rate=Decimal(1))
        currency.save()
    party = get_party(config, COMPANY, WAREHOUSES[0][4], country)
    company = get_or_create(
        config, 'company.company', [('party', '=', party.id)],
        party=party, currency=currency, timezone=TIMEZONE)

    User = Model.get('res.user', config=config)
    admin, = User.find([('login', '=', 'admin')])
    if company not in admin.companies:
        admin.companies.append(company)
    admin.company = company
    if admin_password:
        admin.password = admin_password
    admin.save()
    config._context = User.get_preferences(True, {})
    return company


def get_accounts(config, company):
    "Return the accounts of the chart per kind, as account's test tools"
    Account = Model.get('account.account', config=config)
    accounts = {}
    for kind in ['receivable', 'payable', 'revenue', 'expense']:
        accounts[kind], = Account.find([
                ('type.%s' % kind, '=', True),
                ('company', '=', company.id),
                ('closed', '!=', True),
                ], limit=1)
    for kind, code in [('cash', '1.1.1'), ('tax', '6.3.6')]:
        accounts[kind], = Account.find([
                ('company', '=', company.id),
                ('code', '=', code),
                ], limit=1)
    return accounts


def create_chart(config, company):
    "Create the chart of accounts from the universal template"
    try:
        template = ref(
            config, 'account.account.template',
            'account.account_template_root_en')
    except KeyError:
        # Tryton loads the chart only for the languages of the activation.
        raise LookupError(
            "The universal chart of accounts is missing: activate the "
            "modules with English among the languages "
            "(trytond-admin ... -l en zh_CN).") from None
    wizard = Wizard('account.create_chart', config=config)
    wizard.execute('account')
    wizard.form.account_template = template
    wizard.form.company = company
    wizard.execute('create_account')
    accounts = get_accounts(config, company)
    wizard.form.account_receivable = accounts['receivable']
    wizard.form.account_payable = accounts['payable']
    wizard.form.category_account_expense = accounts['expense']
    wizard.form.category_account_revenue = accounts['revenue']
    wizard.execute('create_properties')


def strict_sequence(config, company, name, xml_id):
    "Return a new strict sequence of the sequence type with the XML id"
    SequenceStrict = Model.get('ir.sequence.strict', config=config)
    sequence = SequenceStrict(
        name=name, company=company,
        sequence_type=ref(config, 'ir.sequence.type', xml_id))
    sequence.save()
    return sequence


def create_fiscalyear(config, company, year):
    "Create the fiscal year with its move and invoice sequences and periods"
    FiscalYear = Model.get('account.fiscalyear', config=config)
    move_sequence = strict_sequence(
        config, company, f"{year} 会计凭证",
        'account.sequence_type_account_move')
    invoice_sequence = strict_sequence(
        config, company, f"{year} 发票",
        'account_invoice.sequence_type_account_invoice')
    fiscalyear = FiscalYear(
        name=str(year), company=company,
        start_date=datetime.date(year, 1, 1),
        end_date=datetime.date(year, 12, 31),
        move_sequence=move_sequence)
    sequences, = fiscalyear.invoice_sequences
    sequences.out_invoice_sequence = invoice_sequence
    sequences.in_invoice_sequence = invoice_sequence
    sequences.out_credit_note_sequence = invoice_sequence
    sequences.in_credit_note_sequence = invoice_sequence
    fiscalyear.save()
    fiscalyear.click('create_period')


def setup_accounting(config, company):
    "Return the accounts and the accounting category with VAT 13%"
    Account = Model.get('account.account', config=config)
    FiscalYear = Model.get('account.fiscalyear', config=config)
    if not Account.find([('company', '=', company.id)], limit=1):
        create_chart(config, company)
    accounts = get_accounts(config, company)
    today = datetime.date.today()
    # In January, the history reaches into last year
    for year in sorted({today.year, (today - HISTORY).year}):
        if not FiscalYear.find([
                    ('company', '=', company.id),
                    ('name', '=', str(year)),
                    ]):
            create_fiscalyear(config, company, year)
    tax = get_or_create(
        config, 'account.tax',
        [('company', '=', company.id), ('name', '=', VAT)],
        name=VAT, description=VAT, type='percentage', rate=Decimal('0.13'),
        invoice_account=accounts['tax'],
        credit_note_account=accounts['tax'])
    category = get_or_create(
        config, 'product.category',
        [('accounting', '=', True), ('name', '=', ACCOUNT_CATEGORY)],
        name=ACCOUNT_CATEGORY, accounting=True,
        account_revenue=accounts['revenue'],
        account_expense=accounts['expense'],
        customer_taxes=[tax.id], supplier_taxes=[tax.id])
    return accounts, category


def setup_language(config):
    "Return zh_CN with its translations loaded"
    Lang = Model.get('ir.lang', config=config)
    lang, = Lang.find([('code', '=', LANGUAGE)])
    if not lang.translatable:
        lang.click('load_translations')
    return lang


def setup_warehouse(config, company, country, code, name, latitude,
        longitude, street):
    """Return the warehouse with its zones and coordinates

    The central warehouse reuses Tryton's default one.
    """
    Location = Model.get('stock.location', config=config)
    codes = [code, 'WH'] if code == 'CW' else [code]
    warehouses = Location.find([
            ('type', '=', 'warehouse'),
            ('code', 'in', codes),
            ], order=[('code', 'ASC')], limit=1)
    warehouse = warehouses[0] if warehouses else Location(type='warehouse')
    for field, zone, type_ in [
            ('input_location', "收货区", 'storage'),
            ('output_location', "发货区", 'storage'),
            ('storage_location', "货架", 'storage'),
            ('lost_found_location', "报损区", 'lost_found'),
            ]:
        location = getattr(warehouse, field) or Location(type=type_)
        if location.name != name + zone:
            location.name = name + zone
            location.save()
        setattr(warehouse, field, location)
    warehouse.name = name
    warehouse.code = code
    warehouse.latitude = Decimal(latitude)
    warehouse.longitude = Decimal(longitude)
    warehouse.address = get_address(config, company.party, street, country)
    warehouse.save()
    return warehouse


def setup_points(config, company, warehouses, accounts):
    "Create a POS per store and the cash and WeChat Pay methods"
    Account = Model.get('account.account', config=config)
    Journal = Model.get('account.journal', config=config)
    Location = Model.get('stock.location', config=config)
    POS = Model.get('sale.point', config=config)
    customer, = Location.find([('type', '=', 'customer')], limit=1)
    journal, = Journal.find([('type', '=', 'revenue')], limit=1)
    for code in STORES:
        warehouse = warehouses[code]
        name = warehouse.name + "收银台"
        if POS.find([('name', '=', name)]):
            continue
        sequence = strict_sequence(
            config, company, name, 'sale_point.sequence_type_sale')
        POS(name=name, sequence=sequence, address=warehouse.address,
            storage_location=warehouse.storage_location,
            return_location=warehouse.storage_location,
            customer_location=customer, journal=journal).save()

    get_or_create(
        config, 'sale.point.payment.method', [('name', '=', CASH)],
        name=CASH, cash=True, account=accounts['cash'])
    # What a till's cash counted short or over goes to at its close
    cash_journal, = Journal.find([('type', '=', 'cash')], limit=1)
    get_or_create(
        config, 'sale.point.cash.transfer.type',
        [('name', '=', CASH_DIFFERENCE)], name=CASH_DIFFERENCE,
        company=company, journal=cash_journal, account=accounts['expense'])
    wechat_accounts = Account.find([
            ('company', '=', company.id),
            ('name', '=', WECHAT_PAY),
            ], limit=1)
    if not wechat_accounts:
        wechat_accounts = Account.duplicate(
            [accounts['cash']], default={'name': WECHAT_PAY, 'code': None})
    get_or_create(
        config, 'sale.point.payment.method', [('name', '=', WECHAT_PAY)],
        name=WECHAT_PAY, cash=False, account=wechat_accounts[0])


def setup_products(config, account_category):
    "Return the products by code"
    Product = Model.get('product.product', config=config)
    Template = Model.get('product.template', config=config)
    unit = ref(config, 'product.uom', 'product.uom_unit')
    products = {}
    for code, name, category, price, _ in PRODUCTS:
        found = Product.find([('code', '=', code)], limit=1)
        if found:
            products[code] = found[0]
            continue
        template = Template(
            name=name, code=code, type='goods', default_uom=unit,
            salable=True, account_category=account_category,
            gross_price=Decimal(price))
        template.categories.append(get_or_create(
                config, 'product.category',
                [('accounting', '=', False), ('name', '=', category)],
                name=category))
        product, = template.products
        # The cost is about half the price with VAT.
        product.cost_price = Decimal(price) / 2
        template.save()
        products[code], = template.products
    return products


def setup_images(config, products):
    "Give each product without a picture its shots, drawn now"
    Image = Model.get('product.image', config=config)
    with_images = {i.template.id for i in Image.find([])}
    categories = {code: category for code, _, category, *_ in PRODUCTS}
    for code, product in products.items():
        template = product.template
        if template.id in with_images:
            continue
        for description, picture in pictures(
                code, template.name, categories[code]):
            Image(template=template, image=picture,
                description=description).save()


def setup_stock(config, warehouses, products):
    "Count the stock in by one confirmed inventory per shelf"
    Inventory = Model.get('stock.inventory', config=config)
    for index, (code, *_) in enumerate(WAREHOUSES):
        shelf = warehouses[code].storage_location
        inventories = Inventory.find([
                ('location', '=', shelf.id),
                ('state', '!=', 'cancelled'),
                ])
        if not inventories:
            inventory = Inventory(location=shelf)
            for product_code, *_, stock in PRODUCTS:
                if stock[index]:
                    inventory.lines.new(
                        product=products[product_code],
                        quantity=stock[index])
            inventory.save()
            inventories = [inventory]
        for inventory in inventories:
            if inventory.state == 'draft':
                inventory.click('confirm')


def setup_shop(config, company, warehouses, lang, country, products,
        wechat=None):
    """Create the mini-program shop that sells from the central warehouse
    and the stores; wechat is the identity of the WeChat it calls (the dev
    server's for `make run`)"""
    Shop = Model.get('web.shop', config=config)
    shops = Shop.find([('name', '=', SHOP)])
    if shops:
        shop, = shops
    else:
        guest = get_or_create(
            config, 'party.party', [('name', '=', GUEST)], name=GUEST)
        shop = Shop(name=SHOP, company=company, currency=company.currency,
            language=lang, guest_party=guest,
            warehouses=[warehouses[c] for c in ['CW', *STORES]],
            countries=[country],
            products=[p.id for p in products.values()])
    shop.type = 'mini_program'
    if not shop.categories:
        Category = Model.get('product.category', config=config)
        shop.categories.extend(Category.find(
                [('id', 'in', list({c.id for p in products.values()
                                for c in p.template.categories}))],
                order=[('name', 'ASC')]))
    shop.pickup_discount = PICKUP_DISCOUNT
    shop.nearby_radius = NEARBY_RADIUS
    shop.payment_time = PAYMENT_TIME
    # The receipt page's link of 扫普通链接二维码打开小程序
    shop.mp_receipt_url = RECEIPT_URL
    for field, template in TEMPLATES.items():
        setattr(shop, field, template)
    if wechat:
        shop.wechat_appid = wechat['appid']
        shop.wechat_app_secret = wechat['secret']
        shop.wechatpay_mchid = wechat['mchid']
        shop.wechatpay_serial_no = wechat['mch_serial_no']
        shop.wechatpay_private_key = wechat['private_key']
        shop.wechatpay_apiv3_key = wechat['apiv3_key']
        shop.wechatpay_public_key = wechat['public_key']
        shop.wechatpay_public_key_id = wechat['public_key_id']
        shop.wechatpay_v2_key = wechat['v2_key']
        shop.wechat_notify_url = wechat['notify_url']
    shop.save()
    return shop


def setup_payment_code(config, shop):
    """The tills' payment method that charges WeChat payment codes through
    the shop's merchant, into the WeChat Pay account"""
    Method = Model.get('sale.point.payment.method', config=config)
    wechat_pay, = Method.find([('name', '=', WECHAT_PAY)])
    get_or_create(
        config, 'sale.point.payment.method', [('name', '=', WECHAT_CODE)],
        name=WECHAT_CODE, cash=False, account=wechat_pay.account,
        wechat_micropay=True, wechat_shop=shop)


def setup_users(config, company, warehouses, lang):
    Company = Model.get('company.company', config=config)
    Location = Model.get('stock.location', config=config)
    User = Model.get('res.user', config=config)
    for login, name, password, warehouse, groups in USERS:
        users = User.find([('login', '=', login)], limit=1)
        user = users[0] if users else User(login=login)
        user.name = name
        user.password = password
        user.language = lang
        if company not in user.companies:
            user.companies.append(Company(company.id))
        user.company = company
        user.warehouse = warehouses.get(warehouse)
        if warehouse and warehouses[warehouse] not in user.stores:
            user.stores.append(Location(warehouses[warehouse].id))
        for xml_id in groups:
            group = ref(config, 'res.group', xml_id)
            if group not in user.groups:
                user.groups.append(group)
        user.save()


def setup_supplier(config, country, products):
    "Buy the fast seller from its tea garden and return the tea garden"
    code, _ = FAST_SELLER
    supplier = get_party(config, *SUPPLIER, country)
    template = products[code].template
    if not template.purchasable or not template.product_suppliers:
        template.purchasable = True
        template.product_suppliers.new(
            party=supplier, lead_time=SUPPLIER_LEAD_TIME)
        template.save()
    return supplier


def setup_supply(config, accounts, supplier, warehouses, products):
    """The fast seller's last delivery: received at its store, invoiced
    and paid by bank transfer, before the store counts its stock"""
    Purchase = Model.get('purchase.purchase', config=config)
    Shipment = Model.get('stock.shipment.in', config=config)
    StockMove = Model.get('stock.move', config=config)
    if Purchase.find([('party', '=', supplier.id)], limit=1):
        return
    code, store = FAST_SELLER
    product = products[code]
    received_days_ago, boxes, paid_days_ago = SUPPLY
    today = datetime.date.today()
    received = today - datetime.timedelta(days=received_days_ago)
    purchase = Purchase(
        party=supplier, warehouse=warehouses[store], purchase_date=received)
    line = purchase.lines.new()
    line.product = product
    line.quantity = boxes
    line.unit_price = product.cost_price
    purchase.click('quote')
    purchase.click('confirm')
    shipment = Shipment(
        supplier=supplier, warehouse=warehouses[store],
        effective_date=received)
    shipment.incoming_moves.extend(StockMove(m.id) for m in purchase.moves)
    shipment.click('receive')
    shipment.click('do')
    invoice, = purchase.invoices
    invoice.invoice_date = received
    invoice.click('post')
    # The invoice shows Pay once a payment method exists
    bank_transfer = get_payment_method(config, BANK_TRANSFER, accounts['cash'])
    pay = invoice.click('pay')
    pay.form.payment_method = bank_transfer
    pay.form.date = today - datetime.timedelta(days=paid_days_ago)
    pay.execute('choice')


def setup_replenishment(config, company, warehouses, products):
    """Record the fast seller's recent sales at the store as done moves to
    the customer and run the replenishment cron

    The sales are created once; the cron updates its open suggestion."""
    Cron = Model.get('ir.cron', config=config)
    Location = Model.get('stock.location', config=config)
    Move = Model.get('stock.move', config=config)
    code, store = FAST_SELLER
    product = products[code]
    shelf = warehouses[store].storage_location
    customer, = Location.find([('type', '=', 'customer')], limit=1)
    if not Move.find([
                ('product', '=', product.id),
                ('from_location', '=', shelf.id),
                ('to_location', '=', customer.id),
                ]):
        Date = Model.get('ir.date', config=config)
        today = Date.today(config.context)
        gross_price, = [p for c, _, _, p, _ in PRODUCTS if c == code]
        # The gross price includes the VAT of 13%
        price = (Decimal(gross_price) / Decimal('1.13')).quantize(
            Decimal('0.0001'))
        moves = []
        for days_ago, boxes in FAST_SALES:
            move = Move(
                product=product, quantity=boxes, unit=product.default_uom,
                from_location=shelf, to_location=customer,
                effective_date=today - datetime.timedelta(days=days_ago),
                unit_price=price, currency=company.currency)
            move.save()
            moves.append(move)
        do_moves(config, moves)

    cron, = Cron.find([
            ('method', '=', 'stock.replenishment.suggestion|generate')])
    cron.click('run_once')


def setup_members(config, country, warehouses):
    "The members joined at 西湖店's POS by giving their mobile number"
    Party = Model.get('party.party', config=config)
    for name, mobile, street in MEMBERS:
        party = get_party(config, name, street, country, mobile)
        if not party.member_number:
            Party.register_member(
                mobile, name, 'pos', warehouses['SA'].id, config.context)


def setup_loyalty(config, accounts, account_category):
    """Create the tiers, the points rules and payment, the coupon campaign
    and return the campaign's coupon"""
    Configuration = Model.get('member.configuration', config=config)
    Coupon = Model.get('sale.promotion.coupon', config=config)
    Promotion = Model.get('sale.promotion', config=config)
    SaleConfiguration = Model.get('sale.configuration', config=config)
    Template = Model.get('product.template', config=config)
    unit = ref(config, 'product.uom', 'product.uom_unit')
    for name, threshold, discount, multiplier in TIERS:
        get_or_create(
            config, 'member.tier', [('name', '=', name)], name=name,
            threshold=Decimal(threshold), discount=Decimal(discount),
            points_multiplier=Decimal(multiplier))
    for channel in ['pos', 'mall']:
        get_or_create(
            config, 'member.points.rule', [('channel', '=', channel)],
            channel=channel, points_per_yuan=Decimal(1))

    def service(name):
        templates = Template.find([('name', '=', name)], limit=1)
        if not templates:
            templates = [Template(
                    name=name, type='service', default_uom=unit,
                    salable=True, account_category=account_category,
                    list_price=Decimal(0))]
            templates[0].save()
        return templates[0].products[0]

    configuration = Configuration(1)
    if not configuration.points_product:
        configuration.points_product = service(POINTS_PRODUCT)
        configuration.save()
    sale_configuration = SaleConfiguration(1)
    if not sale_configuration.coupon_discount_product:
        sale_configuration.coupon_discount_product = service(COUPON_PRODUCT)
        sale_configuration.save()
    get_or_create(
        config, 'sale.point.payment.method', [('name', '=', POINTS_METHOD)],
        name=POINTS_METHOD, cash=False, points=True,
        account=accounts['expense'])

    promotions = Promotion.find([('name', '=', CAMPAIGN)], limit=1)
    if promotions:
        coupon, = Coupon.find([('promotion', '=', promotions[0].id)])
        return coupon
    today = datetime.date.today()
    promotion = Promotion(
        name=CAMPAIGN, amount=Decimal(100), formula='unit_price',
        start_date=today - datetime.timedelta(days=7),
        end_date=today + datetime.timedelta(days=60))
    promotion.currency = promotion.company.currency
    promotion.save()
    coupon = Coupon(
        promotion=promotion, number_of_use=1, discount_amount=Decimal(20),
        limit_per_member=1)
    coupon.save()
    return coupon


def setup_loyal_member(config, warehouses, products, coupon):
    """张伟 binds his WeChat, pays at 西湖店's till and in the mall, which
    makes him 金卡, and claims a coupon he has not used yet"""
    Coupon = Model.get('sale.promotion.coupon', config=config)
    Identity = Model.get('party.wechat_identity', config=config)
    MallSale = Model.get('sale.sale', config=config)
    Method = Model.get('sale.point.payment.method', config=config)
    Party = Model.get('party.party', config=config)
    POS = Model.get('sale.point', config=config)
    POSSale = Model.get('sale.point.sale', config=config)
    member, = Party.find([('name', '=', LOYAL_MEMBER)])
    if not Identity.find([('party', '=', member.id)]):
        Identity(party=member, appid=DEMO_APPID, openid=LOYAL_OPENID).save()

    if not POSSale.find([('member', '=', member.id)]):
        pos, = POS.find([
                ('storage_location', '=',
                    warehouses['SA'].storage_location.id)])
        sale = POSSale(point=pos)
        sale.save()
        identify = sale.click('identify_member')
        identify.form.code = member_code(config, member)
        identify.execute('identify')
        sale.reload()
        for code, quantity in LOYAL_STORE_SALE:
            line = sale.lines.new()
            line.product = products[code]
            line.quantity = quantity
        sale.save()
        cash, = Method.find([('name', '=', CASH)])
        payment = sale.click('pay')
        payment.form.method = cash
        payment.execute('pay')

    if not MallSale.find([('party', '=', member.id)]):
        shop, = Model.get('web.shop', config=config).find(
            [('name', '=', SHOP)])
        order = MallSale(
            party=member, warehouse=warehouses['CW'], web_shop=shop)
        for code, quantity in LOYAL_MALL_SALE:
            line = order.lines.new()
            line.product = products[code]
            line.quantity = quantity
        order.click('quote')
        order.click('confirm')

    Number = Model.get('sale.promotion.coupon.number', config=config)
    if not Number.find([('party', '=', member.id)]):
        Coupon.claim(member.id, coupon.id, config.context)


def setup_pickup_payment(config, accounts):
    """The money the stores and the mall take for orders pays their
    invoices through the WeChat Pay account"""
    Account = Model.get('account.account', config=config)
    Configuration = Model.get('sale.configuration', config=config)
    configuration = Configuration(1)
    if configuration.pickup_payment_method:
        return
    account, = Account.find([('name', '=', WECHAT_PAY)], limit=1)
    configuration.pickup_payment_method = get_payment_method(
        config, WECHAT_PAY, account)
    configuration.save()


def get_payment_method(config, name, account):
    "Return the invoice payment method of the cash journal into account"
    Journal = Model.get('account.journal', config=config)
    journal, = Journal.find([('type', '=', 'cash')], limit=1)
    return get_or_create(
        config, 'account.invoice.payment.method', [('name', '=', name)],
        name=name, journal=journal, credit_account=account,
        debit_account=account)


def setup_reservations(config, warehouses, products):
    """Hold 1 老班章 at the central warehouse for a mall delivery being
    paid; 李娜 has paid a pickup order of 1 at 西湖店 that is ready"""
    Configuration = Model.get('stock.configuration', config=config)
    Reservation = Model.get('stock.reservation', config=config)
    Sale = Model.get('sale.sale', config=config)
    stock_config = Configuration(1)
    if not stock_config.fulfilment_warehouse:
        stock_config.fulfilment_warehouse = warehouses['CW']
        stock_config.save()
    limited = products[LIMITED]
    location = warehouses['CW'].storage_location
    if not Reservation.find([
                ('product', '=', limited.id),
                ('location', '=', location.id),
                ('state', '=', 'held'),
                ]):
        Reservation.hold([{
                    'product': limited.id, 'location': location.id,
                    'quantity': 1, 'channel': 'mall_delivery',
                    }], config.context)

    member = pickup_member(config)
    if not Sale.find([
                ('party', '=', member.id),
                ('pickup_store', '!=', None),
                ]):
        sale = Sale(party=member, pickup_store=warehouses['SA'])
        line = sale.lines.new()
        line.product = limited
        line.quantity = 1
        sale.click('quote')
        sale.click('mark_pickup_paid')
        sale.click('pickup_ready')


def pickup_member(config):
    Party = Model.get('party.party', config=config)
    member, = Party.find([('name', '=', PICKUP_MEMBER)])
    return member


def pickup_code(config):
    """Return 李娜's pickup order and its code, computed in the server as
    the mall API does: the database keeps only a keyed hash of it; None and
    None once the order is handed over"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Sale = Model.get('sale.sale', config=config)
    sales = Sale.find([
            ('party', '=', pickup_member(config).id),
            ('pickup_state', '=', 'ready'),
            ])
    if not sales:
        return None, None
    sale, = sales
    with Transaction().start(config.database_name, 0):
        code, _ = Pool().get('sale.sale')(sale.id).pickup_code()
    return sale, code


def member_code(config, member):
    "Return the rotating code the member's mini-program shows now"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(config.database_name, 0):
        code, _ = Pool().get('party.party')(member.id).member_code()
    return code


def setup_endless_aisle(config, warehouses, products):
    """At 西湖店's till clerk_a orders for 王芳 a 宜兴紫砂壶 from the central
    warehouse, shipped home and paid at the till"""
    POS = Model.get('sale.point', config=config)
    Sale = Model.get('sale.sale', config=config)
    Party = Model.get('party.party', config=config)
    member, = Party.find([('name', '=', ENDLESS_AISLE_MEMBER)])
    if Sale.find([('party', '=', member.id), ('credited_store', '!=', None)]):
        return
    pos, = POS.find([
            ('storage_location', '=', warehouses['SA'].storage_location.id)])
    clerk_config = pconfig.set_trytond(
        database=config.database_name, user='clerk_a')
    Location = Model.get('stock.location', config=clerk_config)
    POSSale = Model.get('sale.point.sale', config=clerk_config)
    Product = Model.get('product.product', config=clerk_config)
    pos_sale = POSSale(point=pos.id)
    pos_sale.save()
    identify = pos_sale.click('identify_member')
    identify.form.code = member_code(config, member)
    identify.execute('identify')
    code, quantity = ENDLESS_AISLE_ORDER
    aisle = Wizard(
        'sale.point.endless_aisle', [pos_sale], config=clerk_config)
    aisle.form.product = Product(products[code].id)
    aisle.form.quantity = quantity
    aisle.form.source = Location(warehouses['CW'].id)
    aisle.form.kind = 'delivery'
    aisle.form.payment = 'till'
    aisle.execute('order')
    aisle.execute('end')
    pconfig.set_trytond(database=config.database_name)


def do_moves(config, moves):
    """Do the moves as a POS does, without assigning them first

    A stock move from storage must be assigned before the client may do
    it, so this uses the server's pool directly."""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    context = dict(config.context, _skip_warnings=True)
    with Transaction().start(
            config.database_name, config.user, context=context):
        StockMove = Pool().get('stock.move')
        StockMove.do(StockMove.browse([m.id for m in moves]))


def quantity(config, product, warehouses):
    "Return the quantity of product in the warehouses"
    with config.set_context(
            locations=[w.id for w in warehouses], with_childs=True):
        Product = Model.get('product.product', config=config)
        return Product(product.id).quantity


def load(config, admin_password=None, wechat=None):
    """Load the demo into the database of the proteus config, its shop
    calling the WeChat of the identity wechat

    Return the warehouses by code and the products by code.
    """
    country = get_or_create(
        config, 'country.country', [('code', '=', 'CN')],
        name="中国", code='CN', code3='CHN', code_numeric='156')
    company = setup_company(config, country, admin_password)
    accounts, account_category = setup_accounting(config, company)
    lang = setup_language(config)
    warehouses = {
        code: setup_warehouse(config, company, country, code, *values)
        for code, *values in WAREHOUSES}
    setup_points(config, company, warehouses, accounts)
    products = setup_products(config, account_category)
    setup_images(config, products)
    supplier = setup_supplier(config, country, products)
    setup_supply(config, accounts, supplier, warehouses, products)
    setup_stock(config, warehouses, products)
    setup_members(config, country, warehouses)
    shop = setup_shop(
        config, company, warehouses, lang, country, products, wechat)
    setup_payment_code(config, shop)
    setup_users(config, company, warehouses, lang)
    setup_replenishment(config, company, warehouses, products)
    setup_pickup_payment(config, accounts)
    setup_reservations(config, warehouses, products)
    coupon = setup_loyalty(config, accounts, account_category)
    setup_loyal_member(config, warehouses, products, coupon)
    setup_endless_aisle(config, warehouses, products)
    return warehouses, products


def print_summary(config, warehouses, products):
    counts = {
        label: len(Model.get(model, config=config).find(domain))
        for label, model, domain in [
            ("仓库/门店", 'stock.location', [('type', '=', 'warehouse')]),
            ("收银台", 'sale.point', []),
            ("商品", 'product.product', []),
            ("盘点", 'stock.inventory', []),
            ("库存移动", 'stock.move', []),
            ("会员", 'party.party', [
                    ('contact_mechanisms.type', '=', 'mobile')]),
            ("商城", 'web.shop', []),
            ]}
    print(f"{COMPANY}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    limited = products[LIMITED]
    split = ", ".join(
        f"{w.name} {quantity(config, limited, [w]):g}"
        for w in warehouses.values())
    total = quantity(config, limited, warehouses.values())
    print(f"{limited.rec_name}: {split}, 合计 {total:g}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        '-d', '--database', required=True,
        help="database name or URI")
    parser.add_argument('-c', '--config', help="trytond configuration file")
    parser.add_argument(
        '--admin-password', default='admin-omni-2026',
        help="password to set for admin, empty to keep it")
    parser.add_argument(
        '--wechat', type=argparse.FileType('r'),
        help="the JSON identity of the WeChat the shop calls")
    options = parser.parse_args()
    # Like trytond, default to SQLite when no database URI is given.
    os.environ.setdefault('TRYTOND_DATABASE_URI', 'sqlite://')
    config = pconfig.set_trytond(
        database=options.database, config_file=options.config)
    wechat = json.load(options.wechat) if options.wechat else None
    warehouses, products = load(config, options.admin_password, wechat)
    print_summary(config, warehouses, products)


if __name__ == '__main__':
    main()
