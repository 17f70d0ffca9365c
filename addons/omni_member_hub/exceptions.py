# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class MobileError(ValidationError):
    pass


class MemberError(UserError):
    pass


class CouponError(UserError):
    pass


class CampaignError(UserError):
    pass


class PointsError(UserError):
    pass


class PointsValidationError(ValidationError):
    pass


class SecretError(UserError):
    pass


class ReturnError(UserError):
    pass
