"""COPY rows go into PostgreSQL as the same values an INSERT would store."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection

from crm.copying import copy_rows, copy_text
from customers.models import Customer


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "\\N"),
        (True, "t"),
        (False, "f"),
        (-7, "-7"),
        (2.5, "2.5"),
        (np.int64(4), "4"),
        (Decimal("12.50"), "12.50"),
        (date(2026, 11, 24), "2026-11-24"),
        (datetime(2026, 11, 24, 9, 30, tzinfo=UTC), "2026-11-24T09:30:00+00:00"),
        ("tab\there\\line\nend\r", "tab\\there\\\\line\\nend\\r"),
        ({"note": "a\tb"}, '{"note": "a\\\\tb"}'),
        (["中文", 1], '["中文", 1]'),
        (Customer.Tier.VIP, "vip"),
    ],
)
def test_a_value_becomes_its_copy_text(value, text):
    assert copy_text(value) == text


@pytest.mark.postgres
@pytest.mark.django_db
def test_copied_rows_read_back_as_written():
    # given rows with the characters COPY's text format escapes, and empty values
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE copy_probe (name text, amount numeric, at timestamptz, "
            "flag boolean, ref uuid)"
        )
        reference = uuid.uuid4()
        at = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
        rows = [
            ("back\\slash\ttab\nnew line", Decimal("1.10"), at, True, reference),
            (None, None, None, None, None),
        ]

        # when
        copy_rows(
            cursor, table="copy_probe", columns=["name", "amount", "at", "flag", "ref"], rows=rows
        )

        # then
        cursor.execute("SELECT * FROM copy_probe ORDER BY name NULLS LAST")
        assert cursor.fetchall() == rows
