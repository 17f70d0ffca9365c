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
                ('member.notification|send_queued',
                    "Send Queued Member Notifications"),
                ('member.target_campaign|run', "Run Targeted Campaigns"),
                ('member.points.entry|expire', "Expire Member Points"),
                ('member.tier|downgrade_members', "Downgrade Member Tiers"),
                ])


# The same as omni_inventory_bridge's, which this module does not depend on
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
