"""What the schemathesis job (tests/api/test_fuzz.py) found, each pinned by a plain test that runs
on the embedded default too."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.customers.factories import (
    CustomerFactory,
    InteractionFactory,
    OrderFactory,
    SegmentFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def openapi_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture
def openapi_components(openapi_schema) -> dict:
    return openapi_schema["components"]["schemas"]


@pytest.fixture
def openapi_paths(openapi_schema) -> dict:
    return openapi_schema["paths"]


def test_an_interaction_nobody_handled_says_null_and_the_schema_allows_it(
    rep, team, rep_client, openapi_components
):
    # given an interaction with no handler (imported, or its handler's account deleted)
    customer = CustomerFactory(owner=rep, team=team)
    interaction = InteractionFactory(customer=customer, handled_by=None)

    # when it is read
    response = rep_client.get(f"/api/v1/interactions/{interaction.pk}/")

    # then handled_by is null, as the schema says it may be
    assert response.status_code == 200
    assert response.json()["handled_by"] is None
    assert openapi_components["Interaction"]["properties"]["handled_by"]["nullable"] is True


def test_a_team_without_a_manager_says_null_and_the_schema_allows_it(
    rep, team, rep_client, openapi_components
):
    # given the rep's team, which has no manager
    # when it is read
    response = rep_client.get(f"/api/v1/teams/{team.pk}/")

    # then manager is null, as the schema says it may be
    assert response.status_code == 200
    assert response.json()["manager"] is None
    assert openapi_components["Team"]["properties"]["manager"]["nullable"] is True


def test_a_missing_file_asked_for_as_a_file_is_a_json_404(rep_client):
    # given  # when a file that does not exist is downloaded with ?format=file
    response = rep_client.get("/api/v1/attachments/999999/download/?format=file")

    # then the 404 is JSON in the error shape, labelled as JSON (not "*/*")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()


def test_expanding_a_segments_customers_reads_their_companies(rep, team, rep_client):
    # given a segment of the rep's
    segment = SegmentFactory(owner=rep, team=team, filters={})
    CustomerFactory(owner=rep, team=team)

    # when its customers are listed with their companies expanded (a relation the segment has not)
    response = rep_client.get(f"/api/v1/segments/{segment.pk}/customers/?expand=company")

    # then they are listed, not a server error
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("2026-01-01T00:00:00-22:48", 200),  # past PostgreSQL's ±15:59, applied in Python
        ("0001-01-01T00:00:00+23:00", 400),  # before year 1 once in UTC
    ],
)
def test_a_moment_with_any_offset_filters_or_is_refused_never_a_server_error(
    rep, team, rep_client, value, status
):
    # given an order of the rep's customer
    OrderFactory(customer=CustomerFactory(owner=rep, team=team))

    # when orders are filtered by a moment with an extreme offset
    response = rep_client.get("/api/v1/orders/", {"ordered_before": value})

    # then it is a filter like any other, or a 400 in the error shape
    assert response.status_code == status
    if status == 400:
        assert "ordered_before" in response.json()["error"]["fields"]


def test_a_download_is_documented_in_any_type_as_it_comes_in_its_own(openapi_paths):
    # given  # when the download's documentation is read
    download = openapi_paths["/api/v1/attachments/{id}/download/"]["get"]

    # then its 200 may be any type (a text file comes as text/plain, a PDF as application/pdf)
    assert list(download["responses"]["200"]["content"]) == ["*/*"]
