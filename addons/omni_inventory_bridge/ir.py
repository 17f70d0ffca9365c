# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('stock.reservation|release_expired',
                    "Release Expired Stock Reservations"),
                ('stock.replenishment.suggestion|generate',
                    "Generate Replenishment Suggestions"),
                ])


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.domain.help += (
            '\n- "warehouse" as the id of the current user\'s warehouse '
            '(-1 without one)')

    @classmethod
    def _user_warehouse(cls):
        pool = Pool()
        User = pool.get('res.user')
        with without_check_access():
            warehouse = User(Transaction().user).warehouse
        return warehouse.id if warehouse else -1

    @classmethod
    def _get_cache_key(cls, model_names):
        key = super()._get_cache_key(model_names)
        return (*key, cls._user_warehouse())

    @classmethod
    def _get_context(cls, model_name):
        context = super()._get_context(model_name)
        context['warehouse'] = cls._user_warehouse()
        return context
