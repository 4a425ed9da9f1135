"""Encryption at rest for sensitive fields (identity numbers, private notes).

Values are encrypted with Fernet (AES-128-CBC with an HMAC-SHA256, from `cryptography`) under the
keys in CRM_FIELD_ENCRYPTION_KEYS: the first key encrypts, every key decrypts, so a new key is put
first and `rotate_encryption_keys` re-encrypts the stored values before the old key is dropped.
Fernet tokens differ on every encryption, so encrypted fields cannot be filtered or searched.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.models.lookups import Exact

# Stored values start with this, so a value written before a field was encrypted is told apart.
CIPHERTEXT_PREFIX = "enc1:"


class DecryptionFailed(Exception):
    """A stored value none of the configured keys opens: a key was dropped too early."""


@cache
def _cipher() -> MultiFernet:
    keys = settings.CRM_FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("CRM_FIELD_ENCRYPTION_KEYS must name at least one key.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "Each key in CRM_FIELD_ENCRYPTION_KEYS must be 32 url-safe base64-encoded bytes "
            "(make one with `manage.py generate_encryption_key`)."
        ) from exc


@cache
def _first_key() -> Fernet:
    _cipher()
    return Fernet(settings.CRM_FIELD_ENCRYPTION_KEYS[0])


def cipher_reset() -> None:
    """Forget the keys read so far, after the settings change (tests, rotation)."""
    _cipher.cache_clear()
    _first_key.cache_clear()


def encryption_key_generate() -> str:
    """A new random key in the form CRM_FIELD_ENCRYPTION_KEYS takes."""
    return Fernet.generate_key().decode()


def encrypt(plaintext: str) -> str:
    return CIPHERTEXT_PREFIX + _cipher().encrypt(plaintext.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(CIPHERTEXT_PREFIX):
        return stored
    try:
        return _cipher().decrypt(stored[len(CIPHERTEXT_PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise DecryptionFailed(
            "A stored value cannot be decrypted with any key in CRM_FIELD_ENCRYPTION_KEYS."
        ) from exc


def reencrypt(stored: str) -> str:
    """The stored value encrypted under the first key, whatever key (or none) it had before."""
    if not stored:
        return stored
    if not stored.startswith(CIPHERTEXT_PREFIX):
        return encrypt(stored)
    token = stored[len(CIPHERTEXT_PREFIX) :].encode()
    try:
        return CIPHERTEXT_PREFIX + _cipher().rotate(token).decode()
    except InvalidToken as exc:
        raise DecryptionFailed(
            "A stored value cannot be decrypted with any key in CRM_FIELD_ENCRYPTION_KEYS."
        ) from exc


def is_current(stored: str) -> bool:
    """Whether the stored value is already encrypted under the first key."""
    if not stored.startswith(CIPHERTEXT_PREFIX):
        return False
    try:
        _first_key().decrypt(stored[len(CIPHERTEXT_PREFIX) :].encode())
    except InvalidToken:
        return False
    return True


class EncryptedExact(Exact):
    """Only "is empty" can be asked of an encrypted field: the same text encrypts differently
    every time, so comparing with a value would silently match nothing."""

    def get_prep_lookup(self):
        if self.rhs != "" and not hasattr(self.rhs, "resolve_expression"):
            raise FieldError(
                f"{self.lhs.output_field.name} is encrypted and cannot be filtered by its value; "
                "only whether it is empty (exact='' or isnull) can be asked."
            )
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """Text stored encrypted; reads and writes plain text. Empty stays empty, so `blank` works."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return EncryptedExact
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)


def encrypted_fields() -> list[models.Field]:
    """Every encrypted field of every installed model, for the key rotation."""
    from django.apps import apps

    return [
        field
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


def encrypted_field_names() -> frozenset[str]:
    """The names of the encrypted fields, to mask them wherever values are reported."""
    return frozenset(encrypted.name for encrypted in encrypted_fields())


class RotationFailed(Exception):
    """A stored value no configured key opens; names the table, column and row."""


@dataclass
class RotationResult:
    rotated: int = 0
    current: int = 0
    by_table: dict[str, int] = field(default_factory=dict)


def _rotated_values(
    *, table: str, pk: str, row_pk, columns: list[str], values: list, result: RotationResult
) -> dict[str, str]:
    """The row's columns that need encrypting again, with their new values."""
    changes = {}
    for column, stored in zip(columns, values, strict=True):
        if not stored:
            continue
        if is_current(stored):
            result.current += 1
            continue
        try:
            changes[column] = reencrypt(stored)
        except DecryptionFailed as exc:
            raise RotationFailed(
                f"{table}.{column} of the row {pk}={row_pk} cannot be decrypted with any key in "
                "CRM_FIELD_ENCRYPTION_KEYS: put back the key it was encrypted with and run the "
                "rotation again. The rows rotated before it stay rotated."
            ) from exc
    return changes


def _rotate_table(
    *,
    model: type[models.Model],
    columns: list[str],
    batch_size: int,
    progress: Callable[[str, int], None],
    result: RotationResult,
) -> None:
    quote = connection.ops.quote_name
    table = model._meta.db_table
    pk = model._meta.pk.column
    # Raw SQL, because the field itself would decrypt on read and encrypt again on write; and an
    # UPDATE makes no history row, so rotating is not mistaken for a change of the record.
    select = (
        f"SELECT {quote(pk)}, {', '.join(quote(column) for column in columns)} "
        f"FROM {quote(table)} WHERE {quote(pk)} > %s ORDER BY {quote(pk)} LIMIT %s"
    )
    # Every encrypted model has an integer key, so the first batch starts below any of them.
    last_pk = -1
    done = 0
    result.by_table.setdefault(table, 0)
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(select, [last_pk, batch_size])
            rows = cursor.fetchall()
            for row_pk, *values in rows:
                changes = _rotated_values(
                    table=table, pk=pk, row_pk=row_pk, columns=columns, values=values, result=result
                )
                if changes:
                    assignments = ", ".join(f"{quote(column)} = %s" for column in changes)
                    cursor.execute(
                        f"UPDATE {quote(table)} SET {assignments} WHERE {quote(pk)} = %s",
                        [*changes.values(), row_pk],
                    )
                    result.rotated += len(changes)
                    result.by_table[table] += len(changes)
        if not rows:
            return
        last_pk = rows[-1][0]
        done += len(rows)
        progress(table, done)


def encrypted_values_rotate(
    *, batch_size: int = 500, progress: Callable[[str, int], None] | None = None
) -> RotationResult:
    """Encrypt every stored value of every encrypted field (historical tables included) under
    the first key of CRM_FIELD_ENCRYPTION_KEYS, `batch_size` rows per transaction.

    Values already under the first key are left alone, so a run that stopped (RotationFailed,
    or the process killed) is simply run again. `progress(table, rows_done)` follows each batch.
    Records an audit event with the counts.
    """
    # Imported here: models import this module while the app registry is still loading.
    from crm.audit.models import AuditEvent
    from crm.audit.services import audit_event_record

    cipher_reset()
    columns_by_model: dict[type[models.Model], list[str]] = {}
    for encrypted in encrypted_fields():
        columns_by_model.setdefault(encrypted.model, []).append(encrypted.column)
    result = RotationResult()
    for model, columns in columns_by_model.items():
        _rotate_table(
            model=model,
            columns=columns,
            batch_size=batch_size,
            progress=progress or (lambda table, done: None),
            result=result,
        )
    audit_event_record(
        kind=AuditEvent.Kind.KEYS_ROTATED,
        details={"rotated": result.rotated, "current": result.current, "tables": result.by_table},
    )
    return result
