# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The mall's login sessions: the mini-program holds an opaque token, the
database only its hash."""
import datetime
import hashlib
import secrets

from trytond import config
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import PoolMeta

from .api import ApiError


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


class Session(ModelSQL, ModelView):
    "Mini-Program Session"
    __name__ = 'web.shop.mp_session'

    shop = fields.Many2One(
        'web.shop', "Shop", required=True, ondelete='CASCADE', readonly=True)
    openid = fields.Char("OpenID", required=True, readonly=True, strip=False)
    unionid = fields.Char("UnionID", readonly=True, strip=False)
    member = fields.Many2One(
        'party.party', "Member", readonly=True, ondelete='CASCADE',
        help="Empty until the user authorises the phone number.")
    token_hash = fields.Char("Token Hash", required=True, readonly=True)
    expires_at = fields.DateTime("Expires at", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.token_hash, Index.Equality(cardinality='high'))),
                Index(t, (t.expires_at, Index.Range())),
                })
        cls._order.insert(0, ('create_date', 'DESC'))

    @classmethod
    def lifetime(cls):
        return datetime.timedelta(
            hours=config.getint('omni', 'session_hours', default=72))

    @classmethod
    def open(cls, shop, openid, unionid=None, member=None):
        "Create a session and return it with its token, shown only now"
        token = secrets.token_urlsafe(32)
        session, = cls.create([{
                    'shop': shop.id,
                    'openid': openid,
                    'unionid': unionid,
                    'member': member.id if member else None,
                    'token_hash': token_hash(token),
                    'expires_at': datetime.datetime.now() + cls.lifetime(),
                    }])
        return session, token

    @classmethod
    def authenticate(cls, authorization):
        "Return the live session of an 'Authorization: Bearer' header"
        scheme, _, token = (authorization or '').partition(' ')
        if scheme.lower() != 'bearer' or not token.strip():
            raise ApiError(401, 'unauthorized')
        sessions = cls.search([
                ('token_hash', '=', token_hash(token.strip())),
                ('expires_at', '>', datetime.datetime.now()),
                ], limit=1)
        if not sessions:
            raise ApiError(401, 'unauthorized')
        return sessions[0]

    def require_member(self):
        "Return the session's member or refuse until the phone is bound"
        if not self.member:
            raise ApiError(403, 'phone_required')
        return self.member

    @classmethod
    def purge_expired(cls):
        "Delete the sessions that expired more than a day ago"
        cls.delete(cls.search([
                    ('expires_at', '<',
                        datetime.datetime.now() - datetime.timedelta(days=1)),
                    ]))


class Replace(metaclass=PoolMeta):
    __name__ = 'party.replace'

    @classmethod
    def fields_to_replace(cls):
        return super().fields_to_replace() + [
            ('web.shop.mp_session', 'member'),
            ]
