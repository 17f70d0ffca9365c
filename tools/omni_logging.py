# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""One line per event for the production processes (tools/logging.conf):
a traceback stays in its event's line, its line breaks written \\n."""
import logging


class OneLineFormatter(logging.Formatter):

    def format(self, record):
        return super().format(record).replace('\n', '\\n')
