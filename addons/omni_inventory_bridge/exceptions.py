# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class CoordinateError(ValidationError):
    pass


class ReservationError(UserError):
    "Not enough of product is available at location (ids, None if unknown)"

    def __init__(self, *args, product=None, location=None):
        super().__init__(*args)
        self.product = product
        self.location = location


class StockGuardError(UserError):
    pass


class ReplenishmentError(ValidationError):
    pass
