# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import PoolMeta


class Notification(metaclass=PoolMeta):
    __name__ = 'member.notification'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.kind.selection.extend([
                ('pickup_ready', "Pickup Ready"),
                ('pickup_reminder', "Pickup Reminder"),
                ('pickup_expired', "Pickup Expired"),
                ])

    @classmethod
    def _get_origins(cls):
        return super()._get_origins() + ['sale.sale']
