"""One behaviour for every list and every error under /api/v1/: `fields`, `expand`, paging, and
the error shape (crm.api.errors) for unknown paths, wrong methods, bad JSON, server errors and
stale versions."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crm.api.pagination import CursorPagination
from crm.api_urls import router
from tests.collaboration.factories import TaskFactory
from tests.customers.factories import CompanyFactory, CustomerFactory, SegmentFactory
from tests.sales.factories import DealFactory
from tests.service.factories import TicketFactory

LIST_URLS = sorted(
    f"/api/v1/{prefix}/"
    for prefix, viewset, _basename in router.registry
    if getattr(viewset, "list", None) is not None
)
BIG_LISTS = [
    "customers",
    "companies",
    "deals",
    "tickets",
    "orders",
    "interactions",
    "activity-events",
    "deal-stage-changes",
    "ticket-messages",
    "satisfaction-surveys",
    "campaign-members",
]


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])
    return body["error"]


@pytest.fixture
def records(superuser):
    company = CompanyFactory()
    customers = [CustomerFactory(company=company, owner=superuser) for _ in range(3)]
    DealFactory(customer=customers[0], owner=superuser)
    TicketFactory(customer=customers[0], assignee=superuser)
    TaskFactory(assignee=superuser)
    return customers


# fields ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", LIST_URLS)
def test_every_list_refuses_unknown_fields_and_answers_the_fields_asked_for(
    superuser, client_for, records, url
):
    # Given a caller who may read every list
    client = client_for(superuser)
    listed = client.get(url)
    if listed.status_code != 200:
        pytest.skip(f"{url} needs parameters: {listed.status_code}")

    # When they ask for a field the records do not have
    refused = client.get(url, {"fields": "id,no_such_field"})

    # Then it is a 400 naming it, in the error shape
    assert refused.status_code == 400
    error = error_of(refused)
    assert error["code"] == "invalid_fields"
    assert "no_such_field" in error["message"]
    assert "fields" in error["fields"]

    # And every list is paginated, and asking for one field answers that field only
    body = listed.json()
    assert "results" in body and "next" in body
    if body["results"]:
        first = next(iter(body["results"][0]))
        picked = client.get(url, {"fields": first}).json()["results"]
        assert all(set(record) == {first} for record in picked)


def test_fields_on_a_detail_route(superuser, client_for, records):
    client = client_for(superuser)

    response = client.get(f"/api/v1/customers/{records[0].pk}/", {"fields": "name, id"})

    assert response.status_code == 200
    assert response.json() == {"id": records[0].pk, "name": records[0].name}


def test_fields_do_not_apply_to_writes(superuser, client_for, records):
    # A typo in `fields` must not fail a write that was made: writes answer the whole record.
    client = client_for(superuser)

    response = client.post(
        "/api/v1/companies/?fields=nope", {"name": "Acme"}, content_type="application/json"
    )

    assert response.status_code == 201
    assert response.json()["name"] == "Acme"


# Paging ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", BIG_LISTS)
def test_big_lists_are_cursor_paginated(prefix):
    viewset = {p: v for p, v, _b in router.registry}[prefix]

    assert issubclass(viewset.pagination_class, CursorPagination)


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["A", "B", "C", "D", "E"]),
        ("-name", ["E", "D", "C", "B", "A"]),
    ],
)
def test_the_customer_cursor_follows_the_ordering_through_pages(
    superuser, client_for, ordering, expected
):
    # Given five customers, two of them with the same created_at order as their ids
    for name in ["C", "A", "E", "B", "D"]:
        CustomerFactory(name=name, owner=superuser)
    client = client_for(superuser)

    # When the caller follows `next` page by page
    names, url, params = [], "/api/v1/customers/", {"page_size": 2, "ordering": ordering}
    while url:
        body = client.get(url, params).json()
        assert "count" not in body
        names += [record["name"] for record in body["results"]]
        url, params = body["next"], None

    # Then every customer comes once, in order
    assert names == expected


def test_the_deal_cursor_breaks_ties_by_id(superuser, client_for, records):
    # Same amount everywhere: the id keeps one order from page to page.
    for _ in range(4):
        DealFactory(customer=records[1], owner=superuser)
    client = client_for(superuser)

    ids, url, params = [], "/api/v1/deals/", {"page_size": 2, "ordering": "-amount"}
    while url:
        body = client.get(url, params).json()
        ids += [record["id"] for record in body["results"]]
        url, params = body["next"], None

    assert len(ids) == len(set(ids)) == 5


# expand ------------------------------------------------------------------------------------------


def queries_for(client, url, params) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries), response.json()


@pytest.mark.parametrize(
    ("url", "expand", "make"),
    [
        ("/api/v1/customers/", "company,owner,team", lambda user: CustomerFactory(owner=user)),
        (
            "/api/v1/deals/",
            "customer,stage,pipeline,owner",
            lambda user: DealFactory(owner=user),
        ),
        (
            "/api/v1/tickets/",
            "customer,assignee,category",
            lambda user: TicketFactory(assignee=user),
        ),
        ("/api/v1/tasks/", "assignee", lambda user: TaskFactory(assignee=user)),
    ],
)
def test_expand_answers_objects_in_a_bounded_number_of_queries(
    superuser, client_for, records, url, expand, make
):
    client = client_for(superuser)
    with_few, body = queries_for(client, url, {"expand": expand})

    for _ in range(5):
        make(superuser)
    with_more, body = queries_for(client, url, {"expand": expand})

    assert with_more == with_few
    expanded = [name for name in expand.split(",") if body["results"][0][name] is not None]
    assert expanded
    for name in expanded:
        assert body["results"][0][name]["id"]


def test_expand_on_a_detail_route(superuser, client_for, records):
    client = client_for(superuser)

    body = client.get(f"/api/v1/customers/{records[0].pk}/", {"expand": "company"}).json()

    assert body["company"] == {"id": records[0].company_id, "name": records[0].company.name}
    assert body["owner"] == superuser.pk


def test_unknown_expand_is_refused(superuser, client_for, records):
    client = client_for(superuser)

    for url in ("/api/v1/customers/", "/api/v1/companies/"):
        response = client.get(url, {"expand": "tags"})

        assert response.status_code == 400
        assert error_of(response)["code"] == "invalid_expand"


def test_the_schema_documents_fields_and_expand(superuser, client_for):
    schema = client_for(superuser).get("/api/v1/schema/?format=json").json()

    customer_list = schema["paths"]["/api/v1/customers/"]["get"]["parameters"]
    names = {parameter["name"]: parameter for parameter in customer_list}
    assert "fields" in names
    assert names["expand"]["schema"]["items"]["enum"] == ["company", "owner", "team"]
    ticket_detail = schema["paths"]["/api/v1/tickets/{id}/"]["get"]["parameters"]
    assert {"fields", "expand"} <= {parameter["name"] for parameter in ticket_detail}
    customer = schema["components"]["schemas"]["Customer"]["properties"]["company"]
    assert "oneOf" in customer


# Errors ------------------------------------------------------------------------------------------


def test_an_unknown_api_path_is_a_json_404(rep_client):
    response = rep_client.get("/api/v1/no-such-things/")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_wrong_method_is_a_json_405(rep_client):
    response = rep_client.put("/api/v1/customers/", {}, content_type="application/json")

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_malformed_json_is_a_parse_error(rep_client):
    response = rep_client.post(
        "/api/v1/customers/", '{"name": "Ada",', content_type="application/json"
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_an_unsupported_media_type_is_a_json_415(rep_client):
    response = rep_client.post("/api/v1/customers/", "name=Ada", content_type="text/plain")

    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_an_unhandled_exception_is_a_json_500_without_the_traceback(rep, monkeypatch, settings):
    # Given a selector that fails, and DEBUG off as in production
    settings.DEBUG = False

    def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("customers.selectors.customers.customer_list_visible", broken)
    client = Client(raise_request_exception=False)
    client.force_login(rep)

    # When the list is asked for
    response = client.get("/api/v1/customers/")

    # Then the answer is the error shape, and says nothing of the internals
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert error_of(response)["code"] == "server_error"
    assert b"secret internals" not in response.content
    assert b"Traceback" not in response.content


def test_a_page_outside_the_api_keeps_the_html_404(rep_client):
    response = rep_client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("make", "url", "change"),
    [
        (lambda user: DealFactory(owner=user), "/api/v1/deals/{}/", {"name": "Renamed"}),
        (lambda user: TicketFactory(assignee=user), "/api/v1/tickets/{}/", {"subject": "New"}),
        (lambda user: TaskFactory(assignee=user), "/api/v1/tasks/{}/", {"title": "New"}),
    ],
)
def test_a_stale_version_is_a_409_with_the_current_version(
    superuser, client_for, make, url, change
):
    # Given a record changed since the caller read it
    record = make(superuser)
    type(record).objects.filter(pk=record.pk).update(version=3)

    # When the caller writes from version 1
    response = client_for(superuser).patch(
        url.format(record.pk), {**change, "version": 1}, content_type="application/json"
    )

    # Then it is refused with the version to reload
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict"
    assert error["current_version"] == 3


def test_a_request_django_refuses_is_a_json_400(rep):
    # A host outside ALLOWED_HOSTS is refused before any view runs.
    client = Client(raise_request_exception=False)
    client.force_login(rep)

    response = client.get("/api/v1/customers/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_segments_and_tasks_answer_search_and_ordering(superuser, client_for):
    SegmentFactory(name="VIP Shanghai", owner=superuser)
    SegmentFactory(name="Churn risk", owner=superuser)
    TaskFactory(title="Call Li Wei about the renewal", assignee=superuser)
    TaskFactory(title="Send the quote", assignee=superuser)
    client = client_for(superuser)

    segments = client.get("/api/v1/segments/", {"search": "vip", "ordering": "-name"}).json()
    tasks = client.get("/api/v1/tasks/", {"search": "renewal"}).json()

    assert [segment["name"] for segment in segments["results"]] == ["VIP Shanghai"]
    assert [task["title"] for task in tasks["results"]] == ["Call Li Wei about the renewal"]
