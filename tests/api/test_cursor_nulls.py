"""Cursor pages over a nullable ordering field: every record comes exactly once, the empty ones
last in either direction, on SQLite and PostgreSQL alike."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory
from tests.service.factories import TicketFactory


def walk(client, url: str, params: dict) -> list[dict]:
    records = []
    while url:
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        body = response.json()
        records += body["results"]
        url, params = body["next"], None
    return records


@pytest.mark.parametrize("descending", [False, True])
def test_tickets_by_due_time_page_through_the_ones_without_a_due_time(
    superuser, client_for, descending
):
    # Given five tickets due at different times and three with no due time at all
    now = timezone.now()
    due = [
        TicketFactory(resolution_due_at=now + timedelta(hours=hours)) for hours in (3, 1, 5, 2, 4)
    ]
    undated = [TicketFactory(resolution_due_at=None) for _ in range(3)]

    # When a caller follows the cursor two tickets at a time
    ordering = "-resolution_due_at" if descending else "resolution_due_at"
    seen = walk(client_for(superuser), "/api/v1/tickets/", {"page_size": 2, "ordering": ordering})

    # Then every ticket comes once, the dated ones in order and the undated ones last
    ids = [ticket["id"] for ticket in seen]
    assert len(ids) == len(set(ids)) == 8
    dated = sorted(due, key=lambda ticket: ticket.resolution_due_at, reverse=descending)
    assert ids[:5] == [ticket.pk for ticket in dated]
    assert set(ids[5:]) == {ticket.pk for ticket in undated}


def test_deals_by_close_date_keep_undated_deals(superuser, client_for):
    today = timezone.localdate()
    dated = [
        DealFactory(owner=superuser, expected_close_date=today + timedelta(days=d)) for d in (2, 1)
    ]
    undated = DealFactory(owner=superuser, expected_close_date=None)

    seen = walk(
        client_for(superuser), "/api/v1/deals/", {"page_size": 1, "ordering": "expected_close_date"}
    )

    assert [deal["id"] for deal in seen] == [dated[1].pk, dated[0].pk, undated.pk]


def test_customers_by_last_contact_put_the_never_contacted_last(superuser, client_for):
    now = timezone.now()
    recent = CustomerFactory(owner=superuser, last_contact_at=now)
    older = CustomerFactory(owner=superuser, last_contact_at=now - timedelta(days=9))
    never = CustomerFactory(owner=superuser, last_contact_at=None)

    seen = walk(
        client_for(superuser),
        "/api/v1/customers/",
        {"page_size": 1, "ordering": "-last_contact_at"},
    )

    assert [customer["id"] for customer in seen] == [recent.pk, older.pk, never.pk]
