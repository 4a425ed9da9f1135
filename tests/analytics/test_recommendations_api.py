"""The recommendations API: a visible customer's similar customers and next-best products
(404 for one the caller may not see), and a build queued by managers and followed by its job."""

import pytest

from analytics.models import AnalyticsJob, ModelVersion
from analytics.services.recommendations import recommendations_build_request
from tests.analytics.factories import recommendation_groups_create
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

REBUILD = "/api/v1/recommendations/rebuild/"


def _url(customer) -> str:
    return f"/api/v1/customers/{customer.pk}/recommendations/"


@pytest.fixture
def groups(rep, other_team_rep):
    return recommendation_groups_create(owner=rep, hidden_owner=other_team_rep)


@pytest.fixture
def built(groups, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        recommendations_build_request(user=None, trigger=ModelVersion.Trigger.SCHEDULE)
    return groups


def test_a_visible_customer_has_similar_customers_and_products(
    built, rep, client_for, django_assert_max_num_queries
):
    # Given built recommendations
    client = client_for(rep)

    # When the rep asks for the premium subject's recommendations
    with django_assert_max_num_queries(15):
        response = client.get(_url(built.premium_subject))

    # Then the similar customers they may see come nearest first, the hidden peer left out
    assert response.status_code == 200
    body = response.json()
    similar_ids = [entry["id"] for entry in body["similar"]]
    assert set(similar_ids[:4]) == {peer.pk for peer in built.premium_peers}
    assert built.hidden_peer.pk not in similar_ids
    assert body["neighbours"] == 10
    assert body["computed_at"]
    # And the monitor leads the products, bought by all five premium peers
    monitor = body["products"][0]
    assert monitor["id"] == built.monitor.pk
    assert monitor["sku"] == built.monitor.sku
    assert monitor["name"] == "Monitor"
    assert monitor["bought_by"] == 5
    assert monitor["score"] > 0
    assert built.laptop.pk not in [product["id"] for product in body["products"]]


def test_a_product_withdrawn_after_the_build_is_no_longer_offered(built, rep, client_for):
    # Given the monitor is withdrawn after the build
    built.monitor.is_active = False
    built.monitor.save(update_fields=["is_active"])

    # When the rep asks for the premium subject's recommendations
    body = client_for(rep).get(_url(built.premium_subject)).json()

    # Then it is not among the products
    assert built.monitor.pk not in [product["id"] for product in body["products"]]


def test_a_hidden_or_missing_customer_answers_404(built, other_team_rep, client_for):
    # Given a rep of another team, who may not see the premium subject
    client = client_for(other_team_rep)

    # When they ask for its recommendations, or for a customer that does not exist
    # Then both answer 404
    assert client.get(_url(built.premium_subject)).status_code == 404
    assert client.get("/api/v1/customers/999999/recommendations/").status_code == 404


def test_a_customer_before_any_build_has_empty_recommendations(rep, client_for):
    # Given a customer the rep owns and no build yet
    customer = CustomerFactory(owner=rep)

    # When the rep asks for its recommendations
    body = client_for(rep).get(_url(customer)).json()

    # Then the lists are empty and there is no date
    assert body == {"similar": [], "products": [], "neighbours": 0, "computed_at": None}


def test_only_managers_may_queue_a_build_and_only_one_at_a_time(
    groups, rep, manager, client_for, django_capture_on_commit_callbacks
):
    # Given a rep and a manager
    # When the rep asks for a build
    # Then it is refused
    assert client_for(rep).post(REBUILD).status_code == 403

    # When the manager asks for one
    client = client_for(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REBUILD)

    # Then it is accepted, and its job can be followed to the end
    assert response.status_code == 202
    job_id = response.json()["id"]
    job = client.get(f"/api/v1/recommendations/jobs/{job_id}/").json()
    assert job["status"] == AnalyticsJob.Status.DONE
    assert job["trigger"] == ModelVersion.Trigger.API
    assert job["stats"]["customers"] == 12

    # And while a build is queued, another is refused with 409
    recommendations_build_request(user=manager, trigger=ModelVersion.Trigger.BUTTON)
    refused = client.post(REBUILD)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "busy"


def test_the_endpoints_are_in_the_schema(rep, client_for):
    # Given the API schema
    # When it is read
    schema = client_for(rep).get("/api/v1/schema/", {"format": "json"}).json()

    # Then it documents the three endpoints
    assert "/api/v1/customers/{customer_id}/recommendations/" in schema["paths"]
    assert "/api/v1/recommendations/rebuild/" in schema["paths"]
    assert "/api/v1/recommendations/jobs/{id}/" in schema["paths"]
