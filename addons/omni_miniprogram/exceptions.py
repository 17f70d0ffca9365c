# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class ShopWeChatValidationError(ValidationError):
    pass


class WeChatError(UserError):
    """WeChat or WeChat Pay refused a call or could not be reached

    errcode is WeChat's code (an int for the mini-program API, a string for
    WeChat Pay) or one of ours: 'NETWORK', 'INVALID_RESPONSE',
    'INVALID_RESPONSE_SIGNATURE', 'NOT_CONFIGURED'."""

    def __init__(self, message, errcode, errmsg=''):
        super().__init__(message)
        self.errcode = errcode
        self.errmsg = errmsg


class NotificationError(UserError):
    """A WeChat Pay notification that must be refused

    reason is one of 'malformed', 'unknown_key', 'stale', 'signature',
    'merchant'."""

    def __init__(self, message, reason):
        super().__init__(message)
        self.reason = reason


class CheckoutError(UserError):
    """A cart or an order the mall refuses; code is the API's error code,
    variables those of its message"""

    def __init__(self, message, code, **variables):
        super().__init__(message)
        self.code = code
        self.variables = variables


class LimitError(UserError):
    """An order over the shop's or the product's limits

    code is the API's error code: 'too_many_unpaid_orders',
    'quantity_limit' or 'purchase_limit'; retry_after is in seconds, None
    when waiting does not help; details are the API's error details."""

    def __init__(self, message, code, retry_after=None, details=None):
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after
        self.details = details
