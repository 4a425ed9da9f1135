"""Encryption at rest for sensitive fields (identity numbers, private notes).

Values are encrypted with Fernet (AES-128-CBC with an HMAC-SHA256, from `cryptography`) under the
keys in CRM_FIELD_ENCRYPTION_KEYS: the first key encrypts, every key decrypts, so a new key is put
first and `rotate_encryption_keys` re-encrypts the stored values before the old key is dropped.
Fernet tokens differ on every encryption, so encrypted fields cannot be filtered or searched.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

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


def cipher_reset() -> None:
    """Forget the keys read so far, after the settings change (tests, rotation)."""
    _cipher.cache_clear()


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
        if lookup_name not in {"isnull", "exact"}:
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
