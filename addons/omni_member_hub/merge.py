# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Merging two parties that are the same person.  Tryton's party.replace
moves the documents; this module carries the member identity over, keeps
the old card number working and leaves an audit record."""
import datetime

from sql import Literal, Null
from sql.aggregate import Min
from sql.conditionals import Coalesce
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .model import FormerTableMixin

MEMBER_FIELDS = [
    'member_number', 'member_mobile', 'member_join_channel',
    'member_join_store', 'member_joined_at']


class MemberMerge(FormerTableMixin, ModelSQL, ModelView):
    "Member Merge"
    __name__ = 'member.merge'
    _former_table = 'party_member_merge'

    source = fields.Many2One(
        'party.party', "Merged Party", required=True, readonly=True,
        context={'active_test': False})
    survivor = fields.Many2One(
        'party.party', "Survivor", required=True, readonly=True,
        context={'active_test': False})
    source_member_number = fields.Char(
        "Merged Member Number", readonly=True,
        help="The card number of the merged party, which keeps "
        "identifying the survivor.")
    merged_at = fields.DateTime("Merged at", required=True, readonly=True)
    merged_by = fields.Many2One('res.user', "Merged by", readonly=True)
    moved = fields.Text(
        "Moved Records", readonly=True,
        help="How many records of each kind moved to the survivor.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('source_unique', Unique(t, t.source),
                'omni_member_hub.msg_member_merge_source_unique'),
            ]
        cls._order.insert(0, ('merged_at', 'DESC'))


class Replace(metaclass=PoolMeta):
    __name__ = 'party.replace'

    @classmethod
    def fields_to_replace(cls):
        return super().fields_to_replace() + [
            ('party.wechat_identity', 'party'),
            ('sale.point.sale', 'member'),
            ]

    def check_similarity(self):
        # A member merge is decided by the matching mobile number
        if not Transaction().context.get('_member_merge'):
            super().check_similarity()

    def transition_replace(self):
        pool = Pool()
        Merge = pool.get('member.merge')
        Entry = pool.get('member.points.entry')
        Notification = pool.get('member.notification')
        Tier = pool.get('member.tier')
        source, survivor = self.ask.source, self.ask.destination
        if source.replaced_by == survivor:
            return 'end'
        # Wait for the points operations of both members in flight
        for member in sorted([source, survivor], key=int):
            Entry.lock_member(member)
        moved = self.count_moved(source)
        source_number = source.member_number
        kept = self.contacts_to_keep(source, survivor)
        self.carry_member_identity(source, survivor)
        state = super().transition_replace()
        for records in kept:
            if records:
                records[0].__class__.write(records, {'active': True})
        Tier.update_members([survivor])
        merge, = Merge.create([{
                    'source': source.id,
                    'survivor': survivor.id,
                    'source_member_number': source_number,
                    'merged_at': datetime.datetime.now(),
                    'merged_by': Transaction().user or None,
                    'moved': '\n'.join(
                        '%s.%s: %s' % (m, f, n) for (m, f), n in moved
                        if n),
                    }])
        if survivor.member_number:
            # The member may not be the one who merged
            Notification.queue(survivor, 'member_merged', {
                    'merged_member_number': source_number,
                    }, key='member_merged:%s' % merge.id, origin=merge)
        return state

    def count_moved(self, source):
        "Return [((model, field), count)] of the records to move"
        pool = Pool()
        cursor = Transaction().connection.cursor()
        counts = []
        for model_name, field_name in self.fields_to_replace():
            Model = pool.get(model_name)
            field = getattr(Model, field_name)
            table = Model.__table__()
            value = (str(source) if field._type == 'reference'
                else source.id)
            cursor.execute(*table.select(
                    Literal(1), where=getattr(table, field_name) == value))
            counts.append(((model_name, field_name), len(cursor.fetchall())))
        return counts

    def contacts_to_keep(self, source, survivor):
        """Return the addresses and contact mechanisms that stay active on a
        member, which party.replace would deactivate"""
        if not (source.member_number or survivor.member_number):
            return []
        known = {m.value_compact for m in survivor.contact_mechanisms}
        return [
            list(source.addresses),
            [m for m in source.contact_mechanisms
                if m.value_compact not in known],
            ]

    def carry_member_identity(self, source, survivor):
        """Make the survivor the member, keeping its own number and mobile
        and the earliest join"""
        Party = Pool().get('party.party')
        if not source.member_number:
            return
        join = {
            'member_join_channel': source.member_join_channel,
            'member_join_store': (
                source.member_join_store.id
                if source.member_join_store else None),
            'member_joined_at': source.member_joined_at,
            }
        if not survivor.member_number:
            values = dict(join,
                member_number=source.member_number,
                member_mobile=source.member_mobile)
            Party.write([source], {f: None for f in MEMBER_FIELDS})
            Party.write([survivor], values)
        elif (source.member_joined_at and survivor.member_joined_at
                and source.member_joined_at < survivor.member_joined_at):
            Party.write([survivor], join)


class MemberDuplicate(ModelSQL, ModelView):
    "Member Duplicate"
    __name__ = 'member.duplicate'

    member = fields.Many2One('party.party', "Member", readonly=True)
    party = fields.Many2One(
        'party.party', "Duplicate", readonly=True,
        help="Another party with the member's mobile number.")
    mobile = fields.Char("Mobile", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'merge': {},
                })

    @classmethod
    def table_query(cls):
        pool = Pool()
        Party = pool.get('party.party')
        ContactMechanism = pool.get('party.contact_mechanism')
        member = Party.__table__()
        other = Party.__table__()
        mechanism = ContactMechanism.__table__()
        query = member.join(mechanism, condition=(
                (mechanism.value_compact == member.member_mobile)
                & (mechanism.party != member.id)
                & (mechanism.type == 'mobile')
                & (mechanism.active == Literal(True)))
            ).join(other, condition=(other.id == mechanism.party)
            ).select(
                Min(mechanism.id).as_('id'),
                member.id.as_('member'),
                other.id.as_('party'),
                member.member_mobile.as_('mobile'),
                Literal(0).as_('create_uid'),
                Min(Coalesce(other.create_date, member.create_date)
                    ).as_('create_date'),
                Literal(None).as_('write_uid'),
                Literal(None).as_('write_date'),
                where=(member.member_number != Null)
                & (member.active == Literal(True))
                & (other.active == Literal(True)),
                group_by=[member.id, other.id, member.member_mobile])
        return query

    @classmethod
    @ModelView.button
    def merge(cls, duplicates):
        Party = Pool().get('party.party')
        for duplicate in duplicates:
            Party.merge_members(duplicate.party, duplicate.member)
