# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.

from . import checkout, member, receipt, routes

__all__ = ['checkout', 'member', 'receipt', 'routes']
