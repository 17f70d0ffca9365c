# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""What the till page reads and the few writes the back office's form does
through its on_change: each method checks the user may see the records
through the record rules, as the client's own read would, and writes with
the user's access rights."""
import hashlib
from decimal import Decimal
from urllib.parse import quote

import segno
from sql.operators import Equal
from trytond.i18n import gettext
from trytond.model import Exclude, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction, without_check_access

from . import wechat
from .exceptions import MicropayError, TillError

RECEIPT_PREFIX = 'OMNIRECEIPT:'


def receipt_text(number, url=None):
    """The text of the receipt's QR code: the link that opens the receipt
    in the mini-program when the shop has its prefix, else the bare
    number"""
    if url:
        separator = '&' if '?' in url else '?'
        return url + separator + 'n=' + quote(number, safe='')
    return RECEIPT_PREFIX + number


def number(value):
    "A Decimal as the page shows it"
    return str(value if value is not None else Decimal(0))


class TillKeyMixin:
    "The key the till gives a request, recorded once"
    __slots__ = ()

    till_key = fields.Char(
        "Till Key", strip=False,
        help="The key the till gave the request that made the record, so "
        "that the request retried after a lost answer records it once.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints.append(
            ('till_key_unique', Exclude(t, (t.till_key, Equal),
                    where=t.till_key != None),  # noqa: E711
                'omni_till.msg_till_key_unique'))

    @classmethod
    def copy(cls, records, default=None):
        default = default.copy() if default else {}
        default.setdefault('till_key')
        return super().copy(records, default=default)


class POS(metaclass=PoolMeta):
    __name__ = 'sale.point'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'till_info': RPC(instantiate=0),
                'till_open_session': RPC(instantiate=0, readonly=False),
                'till_close_session': RPC(instantiate=0, readonly=False),
                })

    @classmethod
    def _till_check(cls, points):
        cls.check_user(points)

    @classmethod
    def till_info(cls, points):
        """Return the till's store, clerk, payment methods and cash
        session"""
        pool = Pool()
        Method = pool.get('sale.point.payment.method')
        TransferType = pool.get('sale.point.cash.transfer.type')
        User = pool.get('res.user')
        cls._till_check(points)
        point, = points
        user = User(Transaction().user)
        methods = Method.search_read(
            [('company', '=', point.company.id)], fields_names=[
                'name', 'cash', 'points', 'wechat_micropay'])
        return {
            'id': point.id,
            'name': point.rec_name,
            'store': point.store.rec_name if point.store else None,
            'clerk': user.employee.rec_name if user.employee else user.name,
            'currency': point.company.currency.symbol,
            'methods': methods,
            'transfer_types': TransferType.search_read(
                [('company', '=', point.company.id)],
                fields_names=['name']),
            'session': cls._till_session(point),
            }

    @classmethod
    def _till_session(cls, point):
        Session = Pool().get('sale.point.cash.session')
        sessions = Session.search([
                ('point', '=', point.id),
                ('state', '=', 'open'),
                ], limit=1)
        if not sessions:
            return None
        session, = sessions
        return {
            'id': session.id,
            'start_amount': number(session.start_amount),
            'balance': number(session.balance),
            'expected': number(session.start_amount + session.balance),
            }

    @classmethod
    def till_close_session(cls, points, session, counted, transfer_type):
        """Close the till's open cash session with the cash counted, as
        the back office's Close does once the difference from what the
        session should hold is recorded as a cash transfer of the type;
        return the session left open (none)"""
        pool = Pool()
        Session = pool.get('sale.point.cash.session')
        Transfer = pool.get('sale.point.cash.transfer')
        cls._till_check(points)
        point, = points
        try:
            session, counted = int(session), Decimal(str(counted))
            transfer_type = int(transfer_type) if transfer_type else None
        except (ValueError, TypeError, ArithmeticError):
            raise TillError(gettext(
                    'omni_till.msg_till_session_unknown')) from None
        sessions = Session.search([
                ('id', '=', session),
                ('point', '=', point.id),
                ])
        if not sessions or not counted.is_finite():
            raise TillError(gettext('omni_till.msg_till_session_unknown'))
        session, = sessions
        # A retried request finds its session closed
        if session.state == 'open':
            counted = session.currency.round(counted)
            difference = counted - session.start_amount - session.balance
            if difference:
                if not transfer_type:
                    raise TillError(gettext(
                            'omni_till.msg_till_difference_type',
                            difference=difference))
                Transfer.save([Transfer(
                            point=point, session=session,
                            type=transfer_type, amount=difference)])
            Session.write([session], {'end_amount': counted})
            Session.close([Session(session.id)])
        return cls._till_session(point)

    @classmethod
    def till_open_session(cls, points):
        "Open the till's cash session as a cash payment does"
        Session = Pool().get('sale.point.cash.session')
        cls._till_check(points)
        point, = points
        Session.get_current(point)
        return cls._till_session(point)


class POSSale(TillKeyMixin, metaclass=PoolMeta):
    __name__ = 'sale.point.sale'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'till_add': RPC(instantiate=0, readonly=False),
                'till_micropay': RPC(instantiate=0, readonly=False),
                'till_return': RPC(instantiate=0, readonly=False),
                'till_state': RPC(instantiate=0),
                })

    @property
    def receipt_url(self):
        """The link prefix of the receipt page of the mini-program shop of
        the sale's store, or of the company's, or None"""
        Shop = Pool().get('web.shop')
        # The clerk may not read the shops: the prefix is no secret
        with without_check_access():
            shops = Shop.search([
                    ('type', '=', 'mini_program'),
                    ('company', '=', self.company.id),
                    ('mp_receipt_url', '!=', None),
                    ], order=[('id', 'ASC')])
            store = self.point.store
            for shop in shops:
                if store in shop.warehouses:
                    return shop.mp_receipt_url
            return shops[0].mp_receipt_url if shops else None

    @classmethod
    def _till_check(cls, sales):
        "Raise unless the record rules let the user read the sales"
        with Transaction().set_context(_check_access=True):
            cls.read([s.id for s in sales], ['id'])

    @classmethod
    def till_add(cls, sales, product, quantity, key):
        """Add quantity of the product (an id, or a code or barcode as
        scanned) to the open sale once per key, as the form's new line
        does, and return the sale's state"""
        pool = Pool()
        Line = pool.get('sale.point.sale.line')
        Product = pool.get('product.product')
        cls._till_check(sales)
        sale, = sales
        if Line.search([('till_key', '=', key)]):
            return cls.till_state([sale])
        if isinstance(product, str):
            code = product.strip()
            products = Product.search([
                    ('salable', '=', True),
                    ['OR',
                        ('code', '=', code),
                        ('identifiers.code', '=', code),
                        ],
                    ], limit=1)
            if not products:
                raise TillError(gettext(
                        'omni_till.msg_till_product_unknown', code=code))
            product, = products
        else:
            product = Product(product)
        # A second scan of a product adds to its line
        same = [
            line for line in sale.lines
            if line.product == product and line.quantity > 0]
        if same:
            line = same[-1]
            line.quantity += quantity
            line.till_key = key
        else:
            line = Line(sale=sale, product=product, quantity=quantity,
                till_key=key)
            line.on_change_product()
        line.save()
        return cls.till_state([cls(sale.id)])

    @classmethod
    def till_micropay(cls, sales, method, auth_code, amount, key):
        """Charge amount to the customer's WeChat payment code (付款码) and
        record it as a payment of the method, as the Pay wizard does, once
        per key; a charge that does not end paid, or that the sale does
        not take, is reversed"""
        pool = Pool()
        Method = pool.get('sale.point.payment.method')
        Payment = pool.get('sale.point.payment')
        cls._till_check(sales)
        sale, = sales
        if Payment.search([('till_key', '=', key)]):
            return cls.till_state([sale])
        methods = Method.search([
                ('id', '=', int(method)),
                ('company', '=', sale.company.id),
                ('wechat_micropay', '=', True),
                ])
        if not methods:
            raise MicropayError(gettext('omni_till.msg_micropay_method'))
        method, = methods
        amount = Decimal(str(amount)).quantize(Decimal('0.01'))
        if sale.state != 'open' or not 0 < amount <= sale.amount_to_pay:
            raise MicropayError(gettext(
                    'omni_till.msg_micropay_amount', sale=sale.rec_name,
                    amount=amount, to_pay=sale.amount_to_pay))
        # The same key is the same order at WeChat, and a retry asks for
        # the order again rather than charging twice
        out_trade_no = 'T' + hashlib.sha256(key.encode()).hexdigest()[:31]
        shop = method.wechat_shop
        answer = wechat.micropay(
            shop, out_trade_no, int(amount * 100), auth_code.strip(),
            body=sale.point.rec_name)
        try:
            Payment.save([Payment(
                        sale=sale, method=method, amount=amount,
                        till_key=key,
                        wechat_transaction=answer['transaction_id'])])
            sale = cls(sale.id)
            if not sale.amount_to_pay:
                cls.process([sale])
        except Exception:
            wechat.reverse_order(shop, out_trade_no)
            raise
        return cls.till_state([sale])

    @classmethod
    def till_return(cls, sales, quantities, key):
        """Make the return of the quantities (by line id) of the done sale,
        as the back office's Return does, once per key, and return its
        state"""
        cls._till_check(sales)
        returns = cls.search([('till_key', '=', key)], limit=1)
        if not returns:
            returns = cls.browse(cls.create_return(sales, quantities))
            cls.write(returns, {'till_key': key})
        return cls.till_state(returns)

    @classmethod
    def till_state(cls, sales):
        "Return what the till shows of the sale"
        pool = Pool()
        Availability = pool.get('stock.availability')
        Entry = pool.get('member.points.entry')
        cls._till_check(sales)
        sale, = sales
        member = sale.member
        location = sale.point.storage_location
        # What the lines' Available shows, read at once
        goods = [
            line.product for line in sale.lines
            if line.product.type == 'goods']
        available = {
            product: figures[2] for (product, _), figures in
            Availability.get(goods, [location]).items()} if goods else {}
        state = {
            'id': sale.id,
            'key': sale.till_key,
            'number': sale.number,
            'state': sale.state,
            'date': sale.date.isoformat(),
            'total': number(sale.total),
            'amount_paid': number(sale.amount_paid),
            'amount_to_pay': number(sale.amount_to_pay),
            'override_reason': sale.stock_override_reason,
            'lines': [{
                    'id': line.id,
                    'product': line.product.id,
                    'code': line.product.code,
                    'name': line.product.name,
                    'quantity': line.quantity,
                    'unit_price': number(line.unit_price),
                    'amount': number(line.amount),
                    'available': available.get(line.product.id),
                    'coupon': line.is_coupon_discount,
                    } for line in sale.lines],
            'payments': [{
                    'id': p.id,
                    'key': p.till_key,
                    'method': p.method.rec_name,
                    'amount': number(p.amount),
                    } for p in sale.payments],
            'coupon': sale.coupon.number if sale.coupon else None,
            'returned_sale': sale.returned_sale.number
            if sale.returned_sale else None,
            'returnable': None,
            'member': None,
            'member_coupons': [],
            }
        if member:
            state['member'] = {
                'id': member.id,
                'name': member.rec_name,
                'number': member.member_number,
                'tier': member.member_tier.rec_name
                if member.member_tier else None,
                'points': member.points_balance,
                }
            state['member_coupons'] = [{
                    'id': n.id,
                    'number': n.number,
                    'name': n.coupon.rec_name,
                    } for n in sale.member_coupons]
        if (sale.state in {'done', 'posted'} and not sale.returned_sale
                and sale.total > 0):
            state['returnable'] = {
                str(line): quantity for line, quantity in
                sale.quantities_to_return().items() if quantity > 0} or None
        if sale.state in {'done', 'posted'}:
            qr_text = receipt_text(sale.number, sale.receipt_url)
            state['receipt'] = {
                'store': sale.point.store.rec_name
                if sale.point.store else None,
                'point': sale.point.rec_name,
                'clerk': (sale.employee or sale.create_uid).rec_name,
                'points_earned': Entry.points_of(sale),
                'qr_text': qr_text,
                'qr': segno.make(qr_text, micro=False).svg_inline(
                    scale=3, border=2),
                }
        return state


class POSSaleLine(TillKeyMixin, metaclass=PoolMeta):
    __name__ = 'sale.point.sale.line'


class POSPayment(TillKeyMixin, metaclass=PoolMeta):
    __name__ = 'sale.point.payment'

    wechat_transaction = fields.Char(
        "WeChat Pay Transaction", readonly=True,
        help="The transaction of the payment-code charge at WeChat Pay.")


class POSPaymentMethod(metaclass=PoolMeta):
    __name__ = 'sale.point.payment.method'

    wechat_micropay = fields.Boolean(
        "WeChat Payment Code",
        states={
            'invisible': Eval('cash', False) | Eval('points', False),
            },
        help="The till charges the code the customer shows in WeChat "
        "(付款码) through WeChat Pay.")
    wechat_shop = fields.Many2One(
        'web.shop', "WeChat Pay Merchant",
        domain=[('type', '=', 'mini_program')],
        states={
            'invisible': ~Eval('wechat_micropay', False),
            'required': Eval('wechat_micropay', False),
            },
        help="The shop whose WeChat Pay merchant and APIv2 key charge the "
        "payment codes.")

    @classmethod
    def default_wechat_micropay(cls):
        return False
