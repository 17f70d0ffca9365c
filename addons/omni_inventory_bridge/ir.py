# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import Pool, PoolMeta


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
            '\n- "stores" as the list of ids of the warehouses the current '
            'user works at'
            '\n- "all_stores" as whether the user works at all of them')

    @classmethod
    def _get_cache_key(cls, model_names):
        User = Pool().get('res.user')
        key = super()._get_cache_key(model_names)
        all_stores, stores = User.get_stores()
        return (*key, all_stores, tuple(stores))

    @classmethod
    def _get_context(cls, model_name):
        User = Pool().get('res.user')
        context = super()._get_context(model_name)
        context['all_stores'], context['stores'] = User.get_stores()
        return context
