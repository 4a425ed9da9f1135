"""COPY rows go into PostgreSQL as the same values an INSERT would store."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection

from crm.copying import copy_rows, copy_text, copy_upsert
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


@pytest.mark.django_db
def test_an_upsert_inserts_new_rows_and_updates_only_the_named_fields_of_existing_ones():
    # given a customer already scored by version 1, and one not scored yet
    from analytics.models import CustomerScore
    from tests.analytics.factories import ModelVersionFactory
    from tests.customers.factories import CustomerFactory

    first = ModelVersionFactory()
    second = ModelVersionFactory(model=first.model)
    scored, unscored = CustomerFactory(), CustomerFactory()
    earlier = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    CustomerScore.objects.create(
        model=first.model,
        customer=scored,
        version=first,
        probability=0.1,
        reasons=[["age", 30, 0.2]],
        scored_at=earlier,
    )
    now = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)

    # when version 2 writes both without reasons, and names every other field as its update
    copy_upsert(
        CustomerScore,
        [
            {
                "model_id": first.model.pk,
                "customer_id": customer.pk,
                "version_id": second.pk,
                "probability": probability,
                "scored_at": now,
            }
            for customer, probability in ((scored, 0.75), (unscored, 0.25))
        ],
        unique_fields=["model", "customer"],
        update_fields=["version", "probability", "scored_at"],
    )

    # then the existing row keeps its reasons and takes the rest; the new row has every field,
    # its reasons the field's default
    rows = {row.customer_id: row for row in CustomerScore.objects.filter(model=first.model)}
    assert len(rows) == 2
    assert (rows[scored.pk].version_id, rows[scored.pk].probability) == (second.pk, 0.75)
    assert rows[scored.pk].reasons == [["age", 30, 0.2]]
    assert rows[scored.pk].scored_at == now
    assert (rows[unscored.pk].version_id, rows[unscored.pk].probability) == (second.pk, 0.25)
    assert rows[unscored.pk].reasons == []
    assert rows[unscored.pk].scored_at == now
