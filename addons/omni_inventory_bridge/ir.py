# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import os

import polib
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('stock.reservation|release_expired',
                    "Release Expired Stock Reservations"),
                ('stock.replenishment.suggestion|generate',
                    "Generate Replenishment Suggestions"),
                ])


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.domain.help += (
            '\n- "warehouse" as the id of the current user\'s warehouse '
            '(-1 without one)')

    @classmethod
    def _user_warehouse(cls):
        pool = Pool()
        User = pool.get('res.user')
        with without_check_access():
            warehouse = User(Transaction().user).warehouse
        return warehouse.id if warehouse else -1

    @classmethod
    def _get_cache_key(cls, model_names):
        key = super()._get_cache_key(model_names)
        return (*key, cls._user_warehouse())

    @classmethod
    def _get_context(cls, model_name):
        context = super()._get_context(model_name)
        context['warehouse'] = cls._user_warehouse()
        return context


class Translation(metaclass=PoolMeta):
    __name__ = 'ir.translation'

    @classmethod
    def translation_import(cls, lang, module, po_path):
        result = super().translation_import(lang, module, po_path)
        cls.clear_fuzzy_overrides(lang, po_path)
        return result

    @classmethod
    def clear_fuzzy_overrides(cls, lang, po_paths):
        """Use the overrides (locale/override/*.po) whose text is already
        the other module's fuzzy translation: trytond's import only writes
        an override whose text differs, so it leaves those fuzzy, which
        hides them"""
        ModelData = Pool().get('ir.model.data')
        if isinstance(po_paths, str):
            po_paths = [po_paths]
        translations = []
        for path in po_paths:
            if os.path.basename(os.path.dirname(path)) != 'override':
                continue
            for entry in polib.pofile(path):
                if entry.obsolete:
                    continue
                translation, res_id = cls.from_poentry(entry)
                module, fs_id = res_id.split('.', 1)
                domain = [
                    ('lang', '=', lang),
                    ('module', '=', module),
                    ('name', '=', translation.name),
                    ('type', '=', translation.type),
                    ('res_id', '=',
                        ModelData.get_id(module, fs_id) if fs_id else -1),
                    ('value', '=', translation.value),
                    ('fuzzy', '=', True),
                    ]
                if translation.type in {
                        'report', 'view', 'wizard_button', 'selection'}:
                    domain.append(('src', '=', translation.src))
                translations.extend(cls.search(domain))
        for translation in translations:
            translation.fuzzy = False
        cls.save(translations)
