# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.

# The dashboard registers its routes when trytond imports the module
from . import dashboard

__all__ = ['dashboard']
