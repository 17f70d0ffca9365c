# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.cache import Cache
from trytond.model import ModelSQL, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction, without_check_access


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    stores = fields.Many2Many(
        'res.user-stock.location', 'user', 'location', "Stores",
        domain=[('type', '=', 'warehouse')],
        help="The stores the user works at, set by an administrator: "
        "a store clerk or manager sees their tills and orders.")
    all_stores = fields.Boolean(
        "All Stores",
        help="The user works at every store, as a regional manager does.")
    _get_stores_cache = Cache('res.user.get_stores', context=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # The preference picks among the user's own stores
        cls.warehouse.domain = [
            cls.warehouse.domain,
            If(Eval('all_stores', False) | ~Eval('stores', []),
                [], [('id', 'in', Eval('stores', []))]),
            ]

    @classmethod
    def default_all_stores(cls):
        return False

    @classmethod
    def get_stores(cls):
        """Return whether the user works at all stores (all stores set or an
        administrator) and the ids of the stores he is assigned"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        user_id = Transaction().user
        stores = cls._get_stores_cache.get(user_id)
        if stores is not None:
            return stores
        with without_check_access():
            user = cls(user_id)
            all_stores = bool(user_id == 0 or user.all_stores
                or ModelData.get_id('res', 'group_admin')
                in cls.get_groups())
            ids = sorted(s.id for s in user.stores)
        return cls._get_stores_cache.set(user_id, (all_stores, ids))

    @classmethod
    def on_modification(cls, mode, users, field_names=None):
        super().on_modification(mode, users, field_names=field_names)
        cls._get_stores_cache.clear()


class UserStore(ModelSQL):
    "User - Store"
    __name__ = 'res.user-stock.location'

    user = fields.Many2One(
        'res.user', "User", required=True, ondelete='CASCADE')
    location = fields.Many2One(
        'stock.location', "Store", required=True, ondelete='CASCADE',
        domain=[('type', '=', 'warehouse')])

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        Pool().get('res.user')._get_stores_cache.clear()
