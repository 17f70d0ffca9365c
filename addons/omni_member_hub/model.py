# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
from trytond import backend


class FormerTableMixin:
    """A model renamed since the first release: its table is renamed to
    the new name before it is registered"""
    __slots__ = ()
    _former_table = None

    @classmethod
    def __register__(cls, module):
        if cls._former_table:
            backend.TableHandler.table_rename(cls._former_table, cls._table)
        super().__register__(module)
