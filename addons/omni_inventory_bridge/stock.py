# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import math

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval

from .exceptions import CoordinateError

EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1, lon1, lat2, lon2):
    "Great-circle distance in kilometres (haversine)"
    lat1, lon1, lat2, lon2 = map(
        math.radians, map(float, (lat1, lon1, lat2, lon2)))
    a = (math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))

# Who may sell at a till the units that a store's book stock lacks
BEYOND_BOOK_POLICIES = [
    ('refuse', "Refuse"),
    ('manager', "Store Manager with a Reason"),
    ('clerk', "Clerk with a Reason"),
    ]


class Location(metaclass=PoolMeta):
    __name__ = 'stock.location'

    latitude = fields.Numeric(
        "Latitude", digits=(9, 6),
        states={
            'invisible': Eval('type') != 'warehouse',
            'required': Eval('longitude', None) != None,  # noqa: E711
            },
        help="WGS-84 latitude of the store, used to find nearby stock.")
    longitude = fields.Numeric(
        "Longitude", digits=(9, 6),
        states={
            'invisible': Eval('type') != 'warehouse',
            'required': Eval('latitude', None) != None,  # noqa: E711
            },
        help="WGS-84 longitude of the store, used to find nearby stock.")
    pos_beyond_book = fields.Selection(
        BEYOND_BOOK_POLICIES, "Selling Beyond the Book",
        states={
            'invisible': Eval('type') != 'warehouse',
            'required': Eval('type') == 'warehouse',
            },
        help="Who may sell at the store's tills units that the book stock "
        "lacks, when the shelf holds more than the book. "
        "Units reserved for other orders are never sold.")
    availabilities = fields.One2Many(
        'stock.availability', 'location', "Availabilities", readonly=True,
        states={
            'invisible': Eval('type') != 'storage',
            },
        help="On hand, reserved and available quantity per product.")

    @classmethod
    def default_pos_beyond_book(cls):
        return 'manager'

    @classmethod
    def validate_fields(cls, locations, field_names):
        super().validate_fields(locations, field_names)
        if field_names & {'latitude', 'longitude'}:
            for location in locations:
                location.check_coordinates()

    def check_coordinates(self):
        for value, limit in [(self.latitude, 90), (self.longitude, 180)]:
            if value is not None and not -limit <= value <= limit:
                raise CoordinateError(gettext(
                        'omni_inventory_bridge.msg_location_coordinates_invalid',
                        location=self.rec_name,
                        latitude=self.latitude,
                        longitude=self.longitude))
