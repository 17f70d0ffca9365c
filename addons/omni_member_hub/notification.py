# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The queue of messages to members.  Modules that can deliver a kind of
message (the mini-program sends WeChat subscribe messages) extend
`_deliver`; the cron leaves a message queued while nothing can deliver it."""
import datetime
import json

from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval


class Notification(Workflow, ModelSQL, ModelView):
    "Member Notification"
    __name__ = 'member.notification'

    member = fields.Many2One(
        'party.party', "Member", required=True, ondelete='CASCADE',
        readonly=True)
    kind = fields.Selection([
            ('campaign', "Campaign"),
            ('wechat_bound', "WeChat Account Bound"),
            ('member_merged', "Members Merged"),
            ], "Kind", required=True, readonly=True)
    key = fields.Char(
        "Key", readonly=True, strip=False,
        help="Makes the same message to the same member queued once.")
    origin = fields.Reference(
        "Origin", selection='get_origins', readonly=True)
    payload = fields.Text(
        "Payload", readonly=True,
        help="The message's data as JSON, filled into the template "
        "by the channel that delivers it.")
    state = fields.Selection([
            ('queued', "Queued"),
            ('sent', "Sent"),
            ('failed', "Failed"),
            ('cancelled', "Cancelled"),
            ], "State", required=True, readonly=True, sort=False)
    sent_at = fields.DateTime("Sent at", readonly=True)
    error = fields.Text("Error", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('key_unique', Unique(t, t.member, t.kind, t.key),
                'omni_member_hub.msg_notification_key_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state == 'queued'),
                Index(t, (t.member, Index.Equality())),
                })
        cls._order.insert(0, ('create_date', 'DESC'))
        cls._transitions |= {
            ('queued', 'sent'),
            ('queued', 'failed'),
            ('queued', 'cancelled'),
            ('failed', 'queued'),
            }
        cls._buttons.update({
                'retry': {
                    'invisible': Eval('state') != 'failed',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'queued',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'queued'

    @classmethod
    def _get_origins(cls):
        return [
            'member.target_campaign.issue', 'party.wechat_identity',
            'member.merge']

    @classmethod
    def get_origins(cls):
        IrModel = Pool().get('ir.model')
        models = cls._get_origins()
        return [(None, '')] + [
            (m, IrModel.get_name(m)) for m in models]

    @property
    def data(self):
        return json.loads(self.payload) if self.payload else {}

    @classmethod
    def queue(cls, member, kind, data, key=None, origin=None):
        """Queue the message for the member and return it; a message of
        the same kind and key already queued for the member is returned
        instead"""
        if key is not None:
            existing = cls.search([
                    ('member', '=', member.id),
                    ('kind', '=', kind),
                    ('key', '=', key),
                    ], limit=1)
            if existing:
                return existing[0]
        notification, = cls.create([{
                    'member': member.id,
                    'kind': kind,
                    'key': key,
                    'origin': str(origin) if origin else None,
                    'payload': json.dumps(
                        data, ensure_ascii=False, sort_keys=True,
                        default=str),
                    }])
        return notification

    @classmethod
    @ModelView.button
    @Workflow.transition('queued')
    def retry(cls, notifications):
        cls.write(notifications, {'error': None})

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, notifications):
        pass

    @classmethod
    def send_queued(cls):
        "Deliver the queued messages that a channel can deliver"
        notifications = cls.search([('state', '=', 'queued')])
        sent, failed = [], []
        for notification in notifications:
            if not notification.deliverable:
                continue
            try:
                notification._deliver()
            except Exception as exception:
                notification.error = str(exception)
                failed.append(notification)
            else:
                sent.append(notification)
        if sent:
            cls.write(sent, {
                    'state': 'sent',
                    'sent_at': datetime.datetime.now(),
                    })
        if failed:
            cls.save(failed)
            cls.write(failed, {'state': 'failed'})

    @property
    def deliverable(self):
        "Whether a channel can deliver the message"
        return False

    def _deliver(self):
        "Deliver the message or raise an exception"
