# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The stock settings of the omni modules: how long checkout holds stock,
where delivery orders reserve it, and how replenishment is suggested"""
import datetime

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import PoolMeta

from .exceptions import ReplenishmentError


def days(timedelta):
    return timedelta.total_seconds() / (24 * 60 * 60)


class Configuration(metaclass=PoolMeta):
    __name__ = 'stock.configuration'

    reservation_hold_time = fields.TimeDelta(
        "Reservation Hold Time",
        help="How long stock held at checkout stays reserved before payment.")
    _hold_time_cache = Cache(
        'stock.configuration.reservation_hold_time', context=False)

    @classmethod
    def default_reservation_hold_time(cls):
        return datetime.timedelta(minutes=15)

    @classmethod
    def get_hold_time(cls):
        "Return the hold time, cached as every checkout reads it"
        hold_time = cls._hold_time_cache.get(None, -1)
        if hold_time == -1:
            hold_time = (cls(1).reservation_hold_time
                or cls.default_reservation_hold_time())
            cls._hold_time_cache.set(None, hold_time)
        return hold_time

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        cls._hold_time_cache.clear()

    fulfilment_rule = fields.Selection([
            ('central_then_nearest', "Central Warehouse then Nearest Store"),
            ('nearest', "Nearest Location"),
            ], "Fulfilment Rule",
        help="Where a delivery order reserves its stock.")
    fulfilment_warehouse = fields.Many2One(
        'stock.location', "Central Warehouse",
        domain=[('type', '=', 'warehouse')],
        help="The warehouse that ships delivery orders first.")
    fulfilment_split = fields.Boolean(
        "Split Deliveries",
        help="Allow a delivery order to reserve at several locations "
        "when no single one has enough.")

    @classmethod
    def default_fulfilment_rule(cls):
        return 'central_then_nearest'

    @classmethod
    def default_fulfilment_split(cls):
        return False

    replenishment_surge_factor = fields.Float(
        "Surge Factor",
        help="A product surges when its 7-day sales speed reaches this "
        "multiple of its 28-day speed.")
    replenishment_safety_days = fields.Integer(
        "Safety Margin",
        help="The days of cover kept on top of the supplier's lead time.")
    replenishment_lead_time = fields.TimeDelta(
        "Default Lead Time",
        help="The lead time used for products without a supplier lead time.")
    replenishment_cover_days = fields.Integer(
        "Cover Target",
        help="The days of sales a replenishment should cover once received.")

    @classmethod
    def default_replenishment_surge_factor(cls):
        return 2.0

    @classmethod
    def default_replenishment_safety_days(cls):
        return 3

    @classmethod
    def default_replenishment_lead_time(cls):
        return datetime.timedelta(days=7)

    @classmethod
    def default_replenishment_cover_days(cls):
        return 14

    @classmethod
    def validate_fields(cls, configurations, field_names):
        super().validate_fields(configurations, field_names)
        names = {
            'replenishment_surge_factor', 'replenishment_safety_days',
            'replenishment_lead_time', 'replenishment_cover_days'}
        if field_names is None or field_names & names:
            for configuration in configurations:
                configuration.check_replenishment()

    def check_replenishment(self):
        for name, minimum in [
                ('replenishment_surge_factor', 1),
                ('replenishment_safety_days', 0),
                ('replenishment_lead_time', 0),
                ('replenishment_cover_days', 1),
                ]:
            value = getattr(self, name)
            if isinstance(value, datetime.timedelta):
                value = days(value)
            if value is not None and value < minimum:
                raise ReplenishmentError(gettext(
                        'omni_inventory_bridge.msg_replenishment_setting_minimum',
                        field=self.__names__(name)['field'],
                        minimum=minimum))

    def replenishment_settings(self):
        "Return the settings with the defaults for the empty ones"
        settings = {}
        for name in [
                'surge_factor', 'safety_days', 'lead_time', 'cover_days']:
            value = getattr(self, 'replenishment_' + name)
            if value is None:
                value = getattr(self, 'default_replenishment_' + name)()
            settings[name] = value
        return settings
