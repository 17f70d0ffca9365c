# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Pickup codes: drawn for a sale, derived and hashed with a secret key,
checked at a point of sale, whose wrong attempts lock it out for a while"""
import datetime
import hashlib
import hmac
import secrets

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

from trytond.modules.omni_member_hub.secret import SecretMixin

from .exceptions import PickupCodeError, PickupError

CODE_DIGITS = 10
LIVE_STATES = ['paid', 'ready']
QR_PREFIX = 'OMNIPICKUP:'
LOCKOUT_ATTEMPTS = 5
LOCKOUT_TIME = datetime.timedelta(minutes=10)


class PickupCodeMixin:
    "The pickup code of the sale, which sale.Sale registers"
    __slots__ = ()

    def set_pickup_code(self):
        "Draw a code unique among the live codes at the store"
        key = Pool().get('sale.pickup.secret').get()
        while True:
            nonce = secrets.token_hex(16)
            code_hash = keyed_hash(key, derive_code(key, self.id, nonce))
            if not self.search([
                        ('pickup_store', '=', self.pickup_store.id),
                        ('pickup_state', 'in', LIVE_STATES),
                        ('pickup_code_hash', '=', code_hash),
                        ]):
                break
        self.pickup_code_nonce = nonce
        self.pickup_code_hash = code_hash

    def pickup_code(self):
        """Return the plain pickup code and its QR payload, for the member
        and the mall API only: the key is not readable through RPC"""
        if (self.pickup_state not in LIVE_STATES
                or not self.pickup_code_nonce):
            raise PickupError(gettext(
                    'omni_o2o_pickup.msg_pickup_code_none',
                    sale=self.rec_name))
        key = Pool().get('sale.pickup.secret').get()
        code = derive_code(key, self.id, self.pickup_code_nonce)
        return code, QR_PREFIX + code

    @classmethod
    def pickup_check(cls, code, point):
        """Return the live pickup order of the code at the point's store and
        None, or None and a PickupCodeError; the attempt is recorded and
        the point locked out after too many wrong codes"""
        pool = Pool()
        Attempt = pool.get('sale.pickup.attempt')
        Secret = pool.get('sale.pickup.secret')
        store = point.store
        sale, error = None, None
        if Attempt.locked(point):
            error = PickupCodeError('locked', gettext(
                    'omni_o2o_pickup.msg_pickup_point_locked',
                    point=point.rec_name,
                    minutes=int(LOCKOUT_TIME.total_seconds() // 60)))
        else:
            code = clean_code(code)
            code_hash = keyed_hash(Secret.get(), code) if code else None
            with without_check_access():
                candidates = cls.search([
                        ('pickup_code_hash', '=', code_hash),
                        ('pickup_state', '!=', None),
                        ], order=[('id', 'DESC')]) if code_hash else []
            candidates.sort(key=lambda s: (
                    s.pickup_store != store,
                    s.pickup_state not in LIVE_STATES))
            sale = candidates[0] if candidates else None
            error = cls._pickup_code_error(sale, store)
        Attempt.record(point, sale, error.code if error else 'ok')
        return (None, error) if error else (sale, None)

    @classmethod
    def _pickup_code_error(cls, sale, store):
        if sale is None:
            return PickupCodeError('invalid', gettext(
                    'omni_o2o_pickup.msg_pickup_code_invalid'))
        if sale.pickup_store != store:
            return PickupCodeError('wrong_store', gettext(
                    'omni_o2o_pickup.msg_pickup_code_wrong_store',
                    sale=sale.number, store=sale.pickup_store.rec_name))
        if sale.pickup_state == 'picked_up':
            return PickupCodeError('used', gettext(
                    'omni_o2o_pickup.msg_pickup_code_used',
                    sale=sale.number,
                    date=sale.pickup_handed_over_at.replace(microsecond=0)))
        if sale.pickup_state == 'expired' or (
                sale.pickup_deadline
                and sale.pickup_deadline < datetime.datetime.now()):
            return PickupCodeError('expired', gettext(
                    'omni_o2o_pickup.msg_pickup_code_expired',
                    sale=sale.number))
        if sale.pickup_state not in LIVE_STATES:
            return PickupCodeError('unpaid', gettext(
                    'omni_o2o_pickup.msg_pickup_unpaid', sale=sale.number))


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
    @without_check_access
    def record(cls, point, sale, result):
        cls.create([{
                    'point': point.id,
                    'user': Transaction().user,
                    'sale': sale.id if sale else None,
                    'result': result,
                    'attempted_at': datetime.datetime.now(),
                    }])
