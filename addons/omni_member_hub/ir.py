# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('member.notification|send_queued',
                    "Send Queued Member Notifications"),
                ('member.target_campaign|run', "Run Targeted Campaigns"),
                ('member.points.entry|expire', "Expire Member Points"),
                ('member.tier|downgrade_members', "Downgrade Member Tiers"),
                ])
