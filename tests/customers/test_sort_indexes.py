"""Sorting customers by last contact reads an index, in the API and in the list page alike, and
never-contacted customers come last both ways."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.selectors.customers import customer_list_visible
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NEVER_CONTACTED_LAST = [
    ("-last_contact_at", ["Yesterday", "Last week", "Never"]),
    ("last_contact_at", ["Last week", "Yesterday", "Never"]),
]


@pytest.fixture
def contacted(rep):
    now = timezone.now()
    CustomerFactory(owner=rep, name="Never", last_contact_at=None)
    CustomerFactory(owner=rep, name="Last week", last_contact_at=now - timedelta(days=7))
    CustomerFactory(owner=rep, name="Yesterday", last_contact_at=now - timedelta(days=1))


def _customer_page_sql(queries) -> str:
    return next(
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith('SELECT "customers_customer"."id"')
        and "ORDER BY" in query["sql"]
        and "LIMIT" in query["sql"]
    )


def _plan(sql: str) -> str:
    # Tables this small are read whole; with sequential scans off, the plan shows whether an
    # index can serve the order at all.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(("ordering", "expected"), NEVER_CONTACTED_LAST)
def test_the_api_sorts_by_last_contact_with_the_never_contacted_last(
    rep_client, contacted, ordering, expected
):
    # given  # when
    response = rep_client.get("/api/v1/customers/", {"ordering": ordering})

    # then
    assert [row["name"] for row in response.json()["results"]] == expected


@pytest.mark.parametrize(("ordering", "expected"), NEVER_CONTACTED_LAST)
def test_the_list_page_sorts_by_last_contact_with_the_never_contacted_last(
    rep_client, contacted, ordering, expected
):
    # given  # when
    response = rep_client.get("/customers/", {"ordering": ordering})

    # then
    assert [customer.name for customer in response.context["page"].object_list] == expected


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("ordering", "index"),
    [
        ("-last_contact_at", "customer_contact_key_desc_idx"),
        ("last_contact_at", "customer_contact_key_asc_idx"),
    ],
)
def test_the_api_page_sorted_by_last_contact_reads_its_index(
    rep_client, contacted, ordering, index
):
    # given
    with CaptureQueriesContext(connection) as queries:
        rep_client.get("/api/v1/customers/", {"ordering": ordering})

    # when
    plan = _plan(_customer_page_sql(queries))

    # then the page is read in the index's order, not sorted
    assert index in plan
    assert "Sort Key" not in plan.split(index)[0]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("ordering", "index"),
    [
        ("-last_contact_at", "customer_contact_key_desc_idx"),
        ("last_contact_at", "customer_contact_key_asc_idx"),
    ],
)
def test_the_list_sorted_by_last_contact_can_read_its_index(rep, contacted, ordering, index):
    # given the list's order, as the page asks the selector for it (the page itself cuts small
    # lists from their matching ids, which it sorts)
    customers = customer_list_visible(user=rep, ordering=ordering)

    # when
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = customers[:50].explain()

    # then
    assert index in plan
    assert "Sort Key" not in plan.split(index)[0]
