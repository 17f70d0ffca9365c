# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
import datetime
import json
import logging
import os

import polib
import trytond.config as config
from sql import Null
from sql.functions import CurrentTimestamp
from trytond import backend
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, TransactionError

logger = logging.getLogger(__name__)
# The advisory lock class of the queue tasks being run
TASK_LOCK = 7302
# How many times a task taken by a lost worker is put back in the queue
REQUEUE_MAX = 3


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
                ('ir.queue|requeue_lost',
                    "Queue Again the Tasks of Lost Workers"),
                ])


class Queue(metaclass=PoolMeta):
    __name__ = 'ir.queue'

    requeued = fields.Integer("Requeued", readonly=True,
        help="How many times the task was put back in the queue after "
        "its worker was lost.")
    abandoned_at = fields.Timestamp("Abandoned At", readonly=True,
        help="When the task was given up: it failed, was queued again as "
        "a new task or was put back in the queue too many times.")

    @classmethod
    def requeue_after(cls):
        "Return how long a task may stay taken before it is looked at"
        return datetime.timedelta(seconds=config.getint(
                'omni', 'queue_requeue_after', default=600))

    def run(self):
        transaction = Transaction()
        if backend.name == 'postgresql':
            # Held until the task's transaction ends, even when its worker
            # dies: requeue_lost leaves a task that is running
            transaction.connection.cursor().execute(
                'SELECT pg_advisory_xact_lock(%s, %s)', (TASK_LOCK, self.id))
        try:
            super().run()
        except (TransactionError, backend.DatabaseOperationalError):
            # trytond's worker runs it again or queues a copy
            raise
        except Exception:
            if backend.name == 'postgresql':
                try:
                    self._abandon([self.id])
                except Exception:
                    logger.exception("queue task %s not marked", self.id)
            raise

    @classmethod
    def _abandon(cls, ids):
        "Mark the tasks as given up, in a transaction of their own"
        with Transaction().new_transaction() as transaction:
            table = cls.__table__()
            transaction.connection.cursor().execute(*table.update(
                    [table.abandoned_at], [CurrentTimestamp()],
                    where=table.id.in_(ids)))

    @classmethod
    def _running(cls, ids):
        "Return the ids of the tasks a worker is running"
        transaction = Transaction()
        if backend.name != 'postgresql':
            return set()
        cursor = transaction.connection.cursor()
        running = set()
        for id_ in ids:
            # Kept until the end of the transaction, which puts the task
            # back: a worker can not start it meanwhile
            cursor.execute(
                'SELECT pg_try_advisory_xact_lock(%s, %s)', (TASK_LOCK, id_))
            if not cursor.fetchone()[0]:
                running.add(id_)
        return running

    @staticmethod
    def _call(data):
        "Return what the task data calls, without who and how"
        return json.dumps([data.get(k) for k in [
                    'model', 'method', 'instances', 'args', 'kwargs']],
            sort_keys=True, default=str)

    @classmethod
    def requeue_lost(cls):
        """Put back in the queue the tasks taken by a worker that was lost
        (killed, or cut from the database) before it finished them.

        A task is looked at once it has been taken for longer than
        [omni] queue_requeue_after seconds (600) without finishing: one that
        a worker is running is left alone.  It is given up (abandoned_at)
        instead when it failed, when the same call was queued again after
        it was taken (trytond's worker does so on a database error, some
        crons for their own tasks), or after REQUEUE_MAX times.  A task put
        back may have run partly: its transaction was rolled back, but the
        tasks must be idempotent for what they do outside the database."""
        pool = Pool()
        Error = pool.get('ir.error')
        transaction = Transaction()
        database = transaction.database
        table = cls.__table__()
        cursor = transaction.connection.cursor()
        query = table.select(table.id,
            where=(table.dequeued_at != Null)
            & (table.dequeued_at < datetime.datetime.now()
                - cls.requeue_after())
            & (table.finished_at == Null) & (table.abandoned_at == Null),
            order_by=[table.id.asc])
        if database.has_select_for():
            For = database.get_select_for_skip_locked()
            query.for_ = For('UPDATE')
        cursor.execute(*query)
        ids = [i for i, in cursor]
        ids = [i for i in ids if i not in cls._running(ids)]
        if not ids:
            return
        failed = {e.origin.id for e in Error.search([
                    ('origin', 'in', ['%s,%s' % (cls.__name__, i)
                            for i in ids]),
                    ])}
        requeue, abandon = [], []
        for task in cls.browse(ids):
            call = cls._call(task.data)
            again = cls.search([
                    ('id', '>', task.id),
                    ('name', '=', task.name),
                    ('enqueued_at', '>=', task.dequeued_at),
                    ])
            if (task.id in failed or (task.requeued or 0) >= REQUEUE_MAX
                    or any(cls._call(t.data) == call for t in again)):
                abandon.append(task)
            else:
                requeue.append(task)
        if abandon:
            logger.warning("queue tasks given up: %s",
                ', '.join(str(t.id) for t in abandon))
            cls.write(abandon, {'abandoned_at': datetime.datetime.now()})
        for task in requeue:
            logger.warning("queue task %s put back: taken at %s by a lost "
                "worker", task.id, task.dequeued_at)
            cls.write([task], {
                    'dequeued_at': None,
                    'requeued': (task.requeued or 0) + 1,
                    })
        if requeue and database.has_channel():
            database.notify(transaction.connection, cls.__name__, '')


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
