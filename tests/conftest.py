# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"The fixtures of the browser tests on the demo that `make run` serves"
from demo_site import browser, server  # noqa: F401
