# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime

from trytond.model import fields
from trytond.pool import PoolMeta


class Configuration(metaclass=PoolMeta):
    __name__ = 'sale.configuration'

    pickup_expiry_delay = fields.TimeDelta(
        "Pickup Expiry Delay",
        help="How long a pickup order waits at the store once ready.")
    pickup_reminder_delay = fields.TimeDelta(
        "Pickup Reminder Delay",
        help="How long before the expiry the member is reminded.")
    pickup_payment_method = fields.Many2One(
        'account.invoice.payment.method', "Pickup Payment Method",
        help="Pays the invoice of a pickup order at the handover with "
        "the payment the order received.")

    @classmethod
    def default_pickup_expiry_delay(cls):
        return datetime.timedelta(days=3)

    @classmethod
    def default_pickup_reminder_delay(cls):
        return datetime.timedelta(days=1)
