"""Key management: generate_encryption_key, and rotate_encryption_keys re-encrypting every stored
value (history included) under the new key, resumably, with a clear error for a value no key
opens."""

import re
from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from crm.audit.models import AuditEvent
from crm.encryption import CIPHERTEXT_PREFIX, cipher_reset
from customers.models import Customer
from customers.services.customers import customer_update
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture
def keys():
    """keys(*k): use these keys from now on; the test's own settings come back afterwards."""
    overrides = []

    def use(*names):
        override = override_settings(CRM_FIELD_ENCRYPTION_KEYS=list(names))
        override.enable()
        overrides.append(override)
        cipher_reset()

    yield use
    for override in reversed(overrides):
        override.disable()
    cipher_reset()


def raw_values() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT identity_number FROM customers_customer WHERE identity_number <> ''")
        values = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT identity_number FROM customers_historicalcustomer WHERE identity_number <> ''"
        )
        return values + [row[0] for row in cursor.fetchall()]


def opens_with(key: str, value: str) -> bool:
    try:
        Fernet(key).decrypt(value.removeprefix(CIPHERTEXT_PREFIX).encode())
    except InvalidToken:
        return False
    return True


def rotate(**options) -> str:
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out, **options)
    return out.getvalue()


def test_generate_encryption_key_prints_a_usable_key():
    # given  # when
    out = StringIO()
    call_command("generate_encryption_key", stdout=out)

    # then a Fernet key
    Fernet(out.getvalue().strip())


def test_rotation_moves_every_value_to_the_new_key(keys):
    # given customers (and a changed one, so history has two rows) encrypted under the old key
    keys(OLD_KEY)
    customers = [CustomerFactory(identity_number=f"ID-{n}") for n in range(5)]
    customer_update(actor=None, customer=customers[0], identity_number="ID-changed")
    before = raw_values()
    assert len(before) == 11 and all(opens_with(OLD_KEY, value) for value in before)

    # when the new key is put first and the values rotated in batches of two
    keys(NEW_KEY, OLD_KEY)
    output = rotate(batch_size=2)

    # then every value, history included, opens with the new key alone
    after = raw_values()
    assert len(after) == 11
    assert all(opens_with(NEW_KEY, value) for value in after)
    assert "customers_historicalcustomer: 6 values re-encrypted" in output
    assert "Done: 11 values re-encrypted, 0 already under the first key." in output
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.KEYS_ROTATED)
    assert event.details["rotated"] == 11
    # and with the old key dropped, everything still reads
    keys(NEW_KEY)
    assert sorted(Customer.objects.values_list("identity_number", flat=True)) == [
        "ID-1",
        "ID-2",
        "ID-3",
        "ID-4",
        "ID-changed",
    ]
    assert {row.identity_number for row in customers[0].history.all()} == {"ID-0", "ID-changed"}
    # and no history row was written by the rotation itself
    assert customers[0].history.count() == 2


def test_a_second_run_skips_what_is_already_rotated(keys):
    # given values already rotated to the new key
    keys(OLD_KEY)
    CustomerFactory(identity_number="ID-1", private_notes="note")
    keys(NEW_KEY, OLD_KEY)
    rotate()
    first = raw_values()

    # when the rotation runs again
    output = rotate()

    # then nothing changes
    assert raw_values() == first
    assert "Done: 0 values re-encrypted, 4 already under the first key." in output


def test_a_value_no_key_opens_stops_with_the_row_named(keys):
    # given one customer under a key that is no longer configured, after two readable ones
    keys(OLD_KEY)
    readable = [CustomerFactory(identity_number=f"ID-{n}") for n in range(2)]
    lost_key = Fernet.generate_key().decode()
    keys(lost_key)
    lost = CustomerFactory(identity_number="ID-lost")

    # when rotating with the new and old keys only
    keys(NEW_KEY, OLD_KEY)
    with pytest.raises(CommandError) as error:
        rotate(batch_size=1)

    # then the error names the table, column and row of the lost value (its history row comes
    # first), and the rows rotated before it opened with the new key and still read
    assert re.search(
        r"customers_(historical)?customer\.identity_number of the row (history_)?id=\d+ "
        r"cannot be decrypted",
        str(error.value),
    )
    assert sum(opens_with(NEW_KEY, value) for value in raw_values()) == 2
    for customer in readable:
        assert Customer.objects.get(pk=customer.pk).identity_number.startswith("ID-")
    assert lost.history.count() == 1
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.KEYS_ROTATED).exists()


def test_batch_size_must_be_positive():
    # given  # when  # then
    with pytest.raises(CommandError, match="--batch-size"):
        rotate(batch_size=0)
