# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Secrets at rest: the fields of a SecretMixin model that hold keys and
passwords are stored encrypted with Fernet, read back through the ORM only
as a mask, and decrypted by the server code that uses them
(record.get_secret(name)).

The keys are [omni] secret_key of trytond.conf (or the environment's
TRYTOND_OMNI__SECRET_KEY): Fernet keys separated by commas, the newest
first.  The newest encrypts, all of them decrypt (MultiFernet).  Without
it, a key is generated on first use into the file omni-secret.key under
[database] path, which every process of the server shares.

To rotate: put a new key first and keep the old ones after it, run
rotate_all() (tools/rotate_secrets.py), then drop the old keys.  Values
stored in plain text before are read as they are and encrypted by the
module update or the rotation."""
import functools
import logging
import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from trytond import config
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import Transaction

from .exceptions import SecretError

logger = logging.getLogger(__name__)

PREFIX = 'fernet:'
# What the ORM reads instead of a secret that is set
MASK = '********'
KEY_FILE = 'omni-secret.key'


def key_file():
    "Return the path of the key generated when trytond.conf sets none"
    return Path(config.get('database', 'path')) / KEY_FILE


def _generated_key():
    "Return the key of the key file, created atomically on first use"
    path = key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix='.omni-key-')
        try:
            with os.fdopen(fd, 'w') as file:
                file.write(Fernet.generate_key().decode() + '\n')
            # Another process may have made it first: its key wins
            os.link(tmp, path)
            logger.warning(
                "[omni] secret_key is not set: the secrets are encrypted "
                "with the key generated in %s", path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


def keys():
    "Return the Fernet keys, the newest first"
    value = config.get('omni', 'secret_key', default='') or ''
    return [k.strip() for k in value.split(',') if k.strip()] or [
        _generated_key()]


@functools.lru_cache(maxsize=8)
def _fernet(keys):
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError:
        raise SecretError(gettext(
                'omni_member_hub.msg_secret_key_invalid')) from None


def fernet():
    return _fernet(tuple(keys()))


def encrypt(value):
    "Return the value encrypted with the newest key"
    if not value:
        return value
    return PREFIX + fernet().encrypt(value.encode()).decode()


def decrypt(value):
    "Return the plain value, as it is when stored before encryption"
    if not value or not value.startswith(PREFIX):
        return value
    try:
        return fernet().decrypt(value[len(PREFIX):].encode()).decode()
    except InvalidToken:
        raise SecretError(gettext(
                'omni_member_hub.msg_secret_undecryptable')) from None


def rotate(value):
    "Return the value encrypted with the newest key"
    if not value:
        return value
    if not value.startswith(PREFIX):
        return encrypt(value)
    try:
        token = fernet().rotate(value[len(PREFIX):].encode())
    except InvalidToken:
        raise SecretError(gettext(
                'omni_member_hub.msg_secret_undecryptable')) from None
    return PREFIX + token.decode()


class SecretMixin:
    "A ModelSQL whose _secret_fields are stored encrypted"
    __slots__ = ()
    _secret_fields = set()

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        table_h = cls.__table_handler__(module)
        if all(table_h.column_exist(n) for n in cls._secret_fields):
            # The values stored in plain text before
            cls._rewrite_secrets(lambda v: v if v.startswith(PREFIX)
                else encrypt(v))

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        for name in cls._secret_fields & set(values):
            if values[name] == MASK:
                # The mask read back from a client is not a new secret
                del values[name]
            else:
                values[name] = encrypt(cls._stripped(name, values[name]))
        return values

    @classmethod
    def _stripped(cls, name, value):
        "Strip the value as the field would, before it is encrypted"
        strip = getattr(cls._fields[name], 'strip', False)
        if not isinstance(value, str) or not strip:
            return value
        return {'leading': value.lstrip, 'trailing': value.rstrip}.get(
            strip, value.strip)()

    @classmethod
    def read(cls, ids, fields_names):
        rows = super().read(ids, fields_names)
        names = cls._secret_fields & set(fields_names)
        for row in rows:
            for name in names:
                if row.get(name):
                    row[name] = MASK
        return rows

    @classmethod
    def copy(cls, records, default=None):
        default = default.copy() if default else {}
        for name in cls._secret_fields:
            default.setdefault(name)
        return super().copy(records, default=default)

    def get_secret(self, name):
        "Return the plain value of the secret field name"
        assert name in self._secret_fields, name
        if self.id is None or self.id < 0:
            return getattr(self, name, None)
        table = self.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                getattr(table, name), where=table.id == self.id))
        row = cursor.fetchone()
        return decrypt(row[0]) if row else None

    @classmethod
    def rotate_secrets(cls):
        """Encrypt every secret of the model with the newest key and return
        how many records were written"""
        return cls._rewrite_secrets(rotate)

    @classmethod
    def _rewrite_secrets(cls, convert):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        columns = [getattr(table, n) for n in sorted(cls._secret_fields)]
        cursor.execute(*table.select(table.id, *columns))
        written = 0
        for id_, *values in cursor.fetchall():
            new = [convert(v) if v else v for v in values]
            if new != values:
                cursor.execute(*table.update(
                        columns, new, where=table.id == id_))
                written += 1
        return written


def rotate_all():
    """Encrypt every secret of every model with the newest key; return
    {model: records written}"""
    pool = Pool()
    return {
        name: Model.rotate_secrets()
        for name, Model in pool.iterobject()
        if isinstance(Model, type) and issubclass(Model, SecretMixin)}
