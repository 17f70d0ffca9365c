# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError


class PickupError(UserError):
    pass


class PickupCodeError(UserError):
    "A pickup code refused at a point of sale, with a stable code"

    def __init__(self, code, message, description=''):
        super().__init__(message, description)
        self.code = code
