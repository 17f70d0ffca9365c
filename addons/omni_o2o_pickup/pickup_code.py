# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Pickup codes: the key they are derived and hashed with, and the attempts
of the points of sale, which lock a point out after too many wrong codes"""
import datetime
import hashlib
import hmac
import secrets

from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.transaction import Transaction, without_check_access

from trytond.modules.omni_member_hub.secret import SecretMixin

CODE_DIGITS = 10
QR_PREFIX = 'OMNIPICKUP:'
LOCKOUT_ATTEMPTS = 5
LOCKOUT_TIME = datetime.timedelta(minutes=10)


class PickupSecret(SecretMixin, ModelSQL):
    "Pickup Code Secret"
    __name__ = 'sale.pickup.secret'
    _secret_fields = {'secret'}

    secret = fields.Char("Secret", required=True, strip=False)

    @classmethod
    @without_check_access
    def get(cls):
        "Return the server's pickup code key, created on first use"
        records = cls.search([], order=[('id', 'ASC')], limit=1)
        if not records:
            # Of two first uses at once, each would make its own key and
            # one's codes would never verify: the transaction starts again
            # with the table locked, after the other's key is committed
            cls.lock()
            records = cls.search([], order=[('id', 'ASC')], limit=1)
        if not records:
            records = cls.create([{'secret': secrets.token_hex(32)}])
        return bytes.fromhex(records[0].get_secret('secret'))


def keyed_hash(key, code):
    return hmac.new(key, b'hash:' + code.encode(), hashlib.sha256).hexdigest()


def derive_code(key, sale_id, nonce):
    message = b'code:%d:%s' % (sale_id, nonce.encode())
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return '%0*d' % (
        CODE_DIGITS, int.from_bytes(digest[:16], 'big') % 10 ** CODE_DIGITS)


def clean_code(code):
    "Return the digits of a typed code or of a scanned QR payload"
    code = (code or '').strip()
    if code.upper().startswith(QR_PREFIX):
        code = code[len(QR_PREFIX):]
    return code.replace(' ', '')


class PickupAttempt(ModelSQL, ModelView):
    "Pickup Code Attempt"
    __name__ = 'sale.pickup.attempt'

    point = fields.Many2One(
        'sale.point', "Point of Sale", required=True, readonly=True,
        ondelete='CASCADE')
    user = fields.Many2One('res.user', "User", readonly=True)
    sale = fields.Many2One('sale.sale', "Sale", readonly=True)
    result = fields.Selection([
            ('ok', "Accepted"),
            ('invalid', "Wrong Code"),
            ('wrong_store', "Wrong Store"),
            ('used', "Already Used"),
            ('expired', "Expired"),
            ('unpaid', "Unpaid"),
            ('locked', "Locked Out"),
            ], "Result", required=True, readonly=True)
    attempted_at = fields.DateTime(
        "Attempted at", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.point, Index.Equality()),
                (t.attempted_at, Index.Range())))
        cls._order.insert(0, ('attempted_at', 'DESC'))

    @classmethod
    def _failures(cls):
        "The results that count toward a lockout"
        return ['invalid', 'wrong_store']

    @classmethod
    @without_check_access
    def locked(cls, point):
        "Tell if the point has entered too many wrong codes lately"
        since = datetime.datetime.now() - LOCKOUT_TIME
        return cls.search_count([
                ('point', '=', point.id),
                ('result', 'in', cls._failures()),
                ('attempted_at', '>=', since),
                ]) >= LOCKOUT_ATTEMPTS

    @classmethod
    def record(cls, point, sale, result):
        """Record the attempt in a transaction of its own, which the
        refusal's error does not roll back"""
        user = Transaction().user
        with Transaction().new_transaction(), without_check_access():
            cls.create([{
                        'point': point.id,
                        'user': user,
                        'sale': sale.id if sale else None,
                        'result': result,
                        'attempted_at': datetime.datetime.now(),
                        }])
