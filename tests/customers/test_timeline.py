"""The customer 360 timeline: one list of everything, newest first, paged with a cursor, open to
entries from other apps through the registry; on the page, through htmx and through the API."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers import registry
from customers.registry import TimelineEntry
from customers.selectors.timeline import Cursor, customer_timeline
from tests.customers.factories import (
    CustomerFactory,
    InteractionFactory,
    NeedFactory,
    OrderFactory,
    RelationshipFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def extra_source():
    """Registers timeline sources for one test, as another app would from its ready()."""
    keys = []

    def register(key, fetch, label="Extra"):
        keys.append(key)
        registry.register_timeline_source(key=key, label=label, fetch=fetch)

    yield register
    for key in keys:
        registry._timeline_sources.pop(key, None)


def fixed_source(entries):
    """A source over a fixed list, honouring `before` and `limit` as a real one must."""

    def fetch(customer, user, before, limit):
        older = [entry for entry in entries if before is None or entry.at < before]
        return sorted(older, key=lambda entry: (entry.at, entry.sort_key), reverse=True)[:limit]

    return fetch


def all_pages(*, customer, user, limit):
    """Walk the timeline page by page; returns the pages' titles."""
    pages, before = [], None
    while True:
        page = customer_timeline(customer=customer, user=user, before=before, limit=limit)
        pages.append([entry.title for entry in page.entries])
        if page.next_cursor is None:
            return pages
        before = page.next_cursor
        assert len(pages) < 50, "the timeline does not end"


def test_the_timeline_merges_every_source_newest_first(rep):
    # given a customer with one record of every kind, a day apart
    customer = CustomerFactory(owner=rep)
    now = timezone.now()
    InteractionFactory(customer=customer, subject="Call", occurred_at=now - timedelta(days=1))
    OrderFactory(customer=customer, number="SO-7", ordered_at=now - timedelta(days=2))
    need = NeedFactory(customer=customer, text="Chairs", category="Quote")
    need.created_at = now - timedelta(days=3)
    need.save(update_fields=["created_at"])
    relationship = RelationshipFactory(
        from_customer=customer, to_customer=CustomerFactory(name="Bo", owner=rep), kind="family"
    )
    relationship.created_at = now - timedelta(days=4)
    relationship.save(update_fields=["created_at"])

    # when
    page = customer_timeline(customer=customer, user=rep)

    # then
    assert [(entry.kind, entry.title) for entry in page.entries] == [
        ("interaction", "Call"),
        ("order", "Order SO-7"),
        ("need", "Need: Quote"),
        ("relationship", "Family: Bo"),
    ]
    assert page.next_cursor is None
    assert page.entries[1].url == f"/customers/orders/{OrderFactory._meta.model.objects.get().pk}/"


def test_pages_follow_each_other_without_gaps_or_repeats(rep):
    # given 45 interactions and 10 orders spread over time, some at the same instant
    customer = CustomerFactory(owner=rep)
    now = timezone.now().replace(microsecond=0)
    for index in range(45):
        InteractionFactory(
            customer=customer,
            subject=f"I{index:02d}",
            occurred_at=now - timedelta(hours=index // 3),
        )
    for index in range(10):
        OrderFactory(
            customer=customer, number=f"SO-{index:02d}", ordered_at=now - timedelta(hours=index)
        )

    # when the timeline is read 20 entries at a time
    pages = all_pages(customer=customer, user=rep, limit=20)

    # then every entry comes exactly once, in time order
    titles = [title for page in pages for title in page]
    assert [len(page) for page in pages] == [20, 20, 15]
    assert len(titles) == len(set(titles)) == 55


def test_more_entries_at_one_instant_than_a_page_still_page_through(rep):
    # given 50 interactions logged at the very same instant (an import, say)
    customer = CustomerFactory(owner=rep)
    instant = timezone.now() - timedelta(days=1)
    for index in range(50):
        InteractionFactory(customer=customer, subject=f"Same {index:02d}", occurred_at=instant)

    # when
    pages = all_pages(customer=customer, user=rep, limit=20)

    # then the pages move on rather than repeating the first twenty
    titles = [title for page in pages for title in page]
    assert len(titles) == len(set(titles)) == 50
    assert [len(page) for page in pages] == [20, 20, 10]


def test_the_last_page_offers_no_older_entries(rep):
    # given exactly one page of entries
    customer = CustomerFactory(owner=rep)
    for index in range(20):
        InteractionFactory(customer=customer, occurred_at=timezone.now() - timedelta(minutes=index))

    # when  # then
    assert customer_timeline(customer=customer, user=rep, limit=20).next_cursor is None


def test_a_source_registered_by_another_app_shows_up_on_the_page(rep, rep_client, extra_source):
    # given a deal source, as sales would register it, and a call older than the deal
    customer = CustomerFactory(owner=rep)
    InteractionFactory(
        customer=customer, subject="Intro call", occurred_at=timezone.now() - timedelta(days=2)
    )
    calls = []

    def deals(source_customer, user, before, limit):
        calls.append((source_customer, user, before, limit))
        return [
            TimelineEntry(
                at=timezone.now() - timedelta(days=1),
                kind="deal",
                title=f"Deal won for {source_customer.name}",
                url="/sales/deals/1/",
                badges=("Won",),
                sort_key="000000000001",
            )
        ]

    extra_source("test-deals", deals, label="Deals")

    # when
    response = rep_client.get(f"/customers/{customer.pk}/")

    # then the deal sits above the call, and the source was asked for the rep's view of one page
    body = response.content.decode()
    assert f"Deal won for {customer.name}" in body
    assert body.index("Deal won") < body.index("Intro call")
    assert 'href="/sales/deals/1/"' in body
    assert calls == [(customer, rep, None, 21)]


def test_the_registry_is_clean_after_a_test_that_added_a_source():
    # given the previous test's source  # when  # then it was removed again
    assert "test-deals" not in {source.key for source in registry.timeline_sources()}


def test_entries_of_other_sources_page_with_ours(rep, extra_source):
    # given 15 interactions and 15 ticket entries interleaved in time
    customer = CustomerFactory(owner=rep)
    now = timezone.now()
    for index in range(15):
        InteractionFactory(
            customer=customer,
            subject=f"call {index:02d}",
            occurred_at=now - timedelta(minutes=2 * index),
        )
    tickets = [
        TimelineEntry(
            at=now - timedelta(minutes=2 * index + 1),
            kind="ticket",
            title=f"ticket {index:02d}",
            sort_key=f"{index:012d}",
        )
        for index in range(15)
    ]
    extra_source("test-tickets", fixed_source(tickets))

    # when
    pages = all_pages(customer=customer, user=rep, limit=10)

    # then they alternate, newest first, across three pages
    titles = [title for page in pages for title in page]
    assert titles[:4] == ["call 00", "ticket 00", "call 01", "ticket 01"]
    assert len(titles) == len(set(titles)) == 30
    assert [len(page) for page in pages] == [10, 10, 10]


def test_the_timeline_page_costs_the_same_queries_however_long_the_history(
    rep, rep_client, django_assert_max_num_queries
):
    # given a customer with a short history and one with a long one
    short = CustomerFactory(owner=rep)
    long = CustomerFactory(owner=rep)
    now = timezone.now()
    for index in range(3):
        InteractionFactory(customer=short, occurred_at=now - timedelta(hours=index))
    for index in range(300):
        InteractionFactory(customer=long, occurred_at=now - timedelta(minutes=index))
        if index % 10 == 0:
            OrderFactory(customer=long, ordered_at=now - timedelta(minutes=index, seconds=30))
    cursor = Cursor(at=now - timedelta(minutes=100), key="interaction:999999999999").encode()
    rep_client.get(f"/customers/{short.pk}/timeline/", {"before": cursor}, **HTMX)
    with CaptureQueriesContext(connection) as short_queries:
        rep_client.get(f"/customers/{short.pk}/timeline/", {"before": cursor}, **HTMX)

    # when a page deep in the long history is asked for
    with django_assert_max_num_queries(len(short_queries)):
        response = rep_client.get(f"/customers/{long.pk}/timeline/", {"before": cursor}, **HTMX)

    # then it costs no more than the short one
    assert len(response.context["timeline"].entries) == 20


def test_older_entries_through_htmx_come_as_list_items_to_append(rep, rep_client):
    # given 30 interactions; the 360 page shows 20 with a link to the rest
    customer = CustomerFactory(owner=rep)
    for index in range(30):
        InteractionFactory(
            customer=customer,
            subject=f"Call {index:02d}",
            occurred_at=timezone.now() - timedelta(hours=index),
        )
    page = rep_client.get(f"/customers/{customer.pk}/")
    cursor = page.context["timeline"].next_cursor.encode()
    assert f'hx-get="/customers/{customer.pk}/timeline/?before={cursor}"' in page.content.decode()

    # when the button asks for the next page through htmx
    response = rep_client.get(f"/customers/{customer.pk}/timeline/", {"before": cursor}, **HTMX)

    # then the remaining ten come as <li> entries, without the page around them, and no button
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.count('<li class="timeline-entry') == 10
    assert "Call 20" in body and "Call 29" in body and "Call 19" not in body
    assert "Older entries" not in body
    assert "Nothing has happened" not in body


def test_older_entries_without_htmx_is_a_page_of_its_own(rep, rep_client):
    # given
    customer = CustomerFactory(name="Ada", owner=rep)
    InteractionFactory(customer=customer, subject="Call")

    # when
    response = rep_client.get(f"/customers/{customer.pk}/timeline/")

    # then
    body = response.content.decode()
    assert "<html" in body
    assert "Timeline of Ada" in body
    assert "Call" in body


@pytest.mark.parametrize(
    "cursor",
    ["not-a-cursor", "MjAyNg", Cursor.encode(Cursor(at=timezone.now().replace(tzinfo=None)))],
)
def test_a_broken_cursor_is_a_bad_request(rep, rep_client, cursor):
    # given
    customer = CustomerFactory(owner=rep)

    # when  # then
    response = rep_client.get(f"/customers/{customer.pk}/timeline/", {"before": cursor}, **HTMX)
    assert response.status_code == 400


def test_the_timeline_hides_relationships_to_customers_out_of_reach(
    rep, other_team_rep, other_team
):
    # given
    customer = CustomerFactory(owner=rep)
    RelationshipFactory(from_customer=customer, to_customer=CustomerFactory(name="Mine", owner=rep))
    RelationshipFactory(
        from_customer=customer,
        to_customer=CustomerFactory(name="Theirs", owner=other_team_rep, team=other_team),
    )

    # when
    titles = [entry.title for entry in customer_timeline(customer=customer, user=rep).entries]

    # then
    assert titles == ["Colleague: Mine"]


# API ---------------------------------------------------------------------------------------------


def test_api_timeline_pages_with_a_cursor(rep, rep_client, django_assert_max_num_queries):
    # given 30 interactions and 5 orders
    customer = CustomerFactory(owner=rep)
    now = timezone.now()
    for index in range(30):
        InteractionFactory(
            customer=customer, subject=f"Call {index:02d}", occurred_at=now - timedelta(hours=index)
        )
    for index in range(5):
        OrderFactory(customer=customer, ordered_at=now - timedelta(hours=index, minutes=30))

    # when the first page is fetched and `next` followed (a query or two per timeline source,
    # however many entries)
    with django_assert_max_num_queries(20):
        first = rep_client.get(f"/api/v1/customers/{customer.pk}/timeline/")
    second = rep_client.get(first.json()["next"])

    # then
    assert first.status_code == 200
    body = first.json()
    assert len(body["results"]) == 20
    assert body["results"][0] == {
        "at": body["results"][0]["at"],
        "kind": "interaction",
        "title": "Call 00",
        "body": "",
        "url": "",
        "actor": "",
        "badges": ["Phone call", "Outbound"],
    }
    assert body["results"][1]["kind"] == "order"
    assert "cursor=" in body["next"]
    assert len(second.json()["results"]) == 15
    assert second.json()["next"] is None


def test_api_timeline_page_size(rep, rep_client):
    # given
    customer = CustomerFactory(owner=rep)
    for index in range(5):
        InteractionFactory(customer=customer, occurred_at=timezone.now() - timedelta(hours=index))

    # when
    response = rep_client.get(f"/api/v1/customers/{customer.pk}/timeline/", {"page_size": 2})

    # then
    assert len(response.json()["results"]) == 2
    assert "page_size=2" in response.json()["next"]


@pytest.mark.parametrize(
    ("params", "field"), [({"cursor": "garbage"}, "cursor"), ({"page_size": "many"}, "page_size")]
)
def test_api_timeline_refuses_bad_parameters(rep, rep_client, params, field):
    # given
    customer = CustomerFactory(owner=rep)

    # when
    response = rep_client.get(f"/api/v1/customers/{customer.pk}/timeline/", params)

    # then
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_api_timeline_of_an_invisible_customer_is_404(rep_client, other_team_rep, other_team):
    # given
    customer = CustomerFactory(owner=other_team_rep, team=other_team)

    # when  # then
    response = rep_client.get(f"/api/v1/customers/{customer.pk}/timeline/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_api_timeline_without_a_role_is_403(user_without_role, client_for):
    # given
    customer = CustomerFactory(owner=user_without_role)

    # when  # then
    response = client_for(user_without_role).get(f"/api/v1/customers/{customer.pk}/timeline/")
    assert response.status_code == 403


def test_api_timeline_includes_registered_sources(rep, rep_client, extra_source):
    # given a source from another app
    customer = CustomerFactory(owner=rep)
    extra_source(
        "test-files",
        fixed_source(
            [TimelineEntry(at=timezone.now(), kind="file", title="contract.pdf", sort_key="1")]
        ),
    )

    # when
    response = rep_client.get(f"/api/v1/customers/{customer.pk}/timeline/")

    # then
    assert [entry["title"] for entry in response.json()["results"]] == ["contract.pdf"]
