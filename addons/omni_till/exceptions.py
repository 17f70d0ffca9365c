# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError


class TillError(UserError):
    "A request of the till that the server refuses"


class MicropayError(UserError):
    "A WeChat payment-code charge that did not end paid"
