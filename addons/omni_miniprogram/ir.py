# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('web.shop.mp_session|purge_expired',
                    "Purge Expired Mini-Program Sessions"),
                ('web.shop.mp_rate_counter|purge',
                    "Purge Ended Mini-Program Rate Counters"),
                ('web.shop.mp_payment|check_pending',
                    "Query WeChat Pay for Unnotified Payments"),
                ('sale.refund|send_pending',
                    "Send Pending Refunds to WeChat Pay"),
                ('sale.sale|mall_build_lost',
                    "Build the Mall Orders Not Built Yet"),
                ])
