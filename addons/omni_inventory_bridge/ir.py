# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import os

import polib
from trytond.pool import Pool, PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('stock.reservation|release_expired',
                    "Release Expired Stock Reservations"),
                ('stock.availability|repair',
                    "Repair the Stock Counters"),
                ('stock.replenishment.suggestion|generate',
                    "Generate Replenishment Suggestions"),
                ])


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.domain.help += (
            '\n- "stores" as the list of ids of the warehouses the current '
            'user works at'
            '\n- "all_stores" as whether the user works at all of them')

    @classmethod
    def _get_cache_key(cls, model_names):
        User = Pool().get('res.user')
        key = super()._get_cache_key(model_names)
        all_stores, stores = User.get_stores()
        return (*key, all_stores, tuple(stores))

    @classmethod
    def _get_context(cls, model_name):
        User = Pool().get('res.user')
        context = super()._get_context(model_name)
        context['all_stores'], context['stores'] = User.get_stores()
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
