"""The prediction builder's page, API and command on a small CRM: the fields offered with their
inferred types, the checks on a request (each naming the field at fault), who may build, and a
build that trains, registers and scores every customer, labelled or not."""

import io

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from threadpoolctl import threadpool_limits

from analytics.models import CustomerScore, ModelVersion, PredictiveModel
from analytics.services.builder import builder_create
from analytics.services.training import model_train_run
from customers.models import Customer
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LABELLED = 160
UNLABELLED = 20


@pytest.fixture(autouse=True)
def _one_openmp_thread():
    """Gradient boosting's OpenMP threads spin while they wait for a core; on CPUs shared with
    other processes that makes each fit ten times slower, so the tests fit on one thread."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture
def renewals(rep, team):
    """Customers of the rep's team: a plan and visits that drive whether they renewed, their
    spend, a member number unique to each, and some who have not decided yet (no "renewed")."""
    rng = np.random.default_rng(7)
    customers = []
    for number in range(LABELLED + UNLABELLED):
        plan = "gold" if number % 2 else "basic"
        visits = int(rng.integers(0, 20))
        attributes = {
            "plan": plan,
            "visits": str(visits),
            "spend": f"{rng.normal(100, 30):.2f}",
            "member_no": f"A-{number * 37:06d}",
        }
        if number < LABELLED:
            likely = (plan == "gold") + visits / 10 + rng.normal(scale=0.7) > 1.2
            attributes["renewed"] = "yes" if likely else "no"
        customers.append(
            Customer(
                name=f"Renewal {number:03d}",
                owner=rep,
                team=team,
                tier=Customer.Tier.VIP if number % 3 == 0 else Customer.Tier.NORMAL,
                custom_attributes=attributes,
            )
        )
    return Customer.objects.bulk_create(customers)


def _fields(client) -> dict[str, dict]:
    response = client.get("/api/v1/builder/fields/")
    assert response.status_code == 200
    return {item["name"]: item for item in response.json()}


def test_fields_offer_standard_and_custom_fields_with_their_types(client_for, manager, renewals):
    # Given customers with imported attributes, and one the manager cannot see
    CustomerFactory(custom_attributes={"renewed": "maybe-secret"})

    # When the manager lists the fields
    fields = _fields(client_for(manager))

    # Then numbers, categories and identifiers are told apart
    assert fields["visits"]["kind"] == "numeric"
    assert fields["plan"]["kind"] == "categorical"
    assert fields["member_no"]["kind"] == "unusable"
    assert fields["member_no"]["values"] == []
    assert fields["tier"]["source"] == "standard"
    # and yes/no and categorical fields can be predicted, with their values counted
    assert fields["renewed"]["can_be_predicted"]
    assert {item["value"] for item in fields["renewed"]["values"]} == {"yes", "no"}
    assert not fields["annual_income"]["can_be_predicted"]
    # and the hidden customer's value is not shown
    assert sum(item["count"] for item in fields["renewed"]["values"]) == LABELLED


def test_api_queues_a_build(client_for, manager, renewals):
    # When the manager asks for a build
    response = client_for(manager).post(
        "/api/v1/builder/",
        {"target_field": "renewed", "positive_value": "yes", "excluded_fields": ["tier"]},
        content_type="application/json",
    )

    # Then it is accepted and queued as the builder model's first version
    assert response.status_code == 202
    body = response.json()
    model = PredictiveModel.objects.get(name=body["model"])
    assert model.kind == PredictiveModel.Kind.BUILDER
    assert (model.target_field, model.positive_value) == ("renewed", "yes")
    assert model.excluded_fields == ["tier"]
    assert model.created_by == manager
    version = ModelVersion.objects.get(pk=body["version"])
    assert (version.status, version.trigger) == (ModelVersion.Status.QUEUED, "api")
    assert model.training_version == version

    # and asking again while it trains answers 409
    again = client_for(manager).post(
        "/api/v1/builder/",
        {"target_field": "renewed", "positive_value": "yes"},
        content_type="application/json",
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"target_field": "loyalty", "positive_value": "yes"}, "target_field"),
        ({"target_field": "spend", "positive_value": "100.00"}, "target_field"),
        ({"target_field": "member_no", "positive_value": "A-000000"}, "target_field"),
        ({"target_field": "renewed", "positive_value": "perhaps"}, "positive_value"),
        (
            {"target_field": "renewed", "positive_value": "yes", "feature_fields": ["colour"]},
            "feature_fields",
        ),
        (
            {"target_field": "renewed", "positive_value": "yes", "feature_fields": ["renewed"]},
            "feature_fields",
        ),
        (
            {"target_field": "renewed", "positive_value": "yes", "excluded_fields": ["colour"]},
            "excluded_fields",
        ),
        ({"target_field": "renewed", "positive_value": "yes", "name": "churn"}, "name"),
    ],
)
def test_api_refuses_a_bad_request_naming_the_field(
    client_for, manager, renewals, request_body, field
):
    # When the manager sends a request with one thing wrong
    response = client_for(manager).post(
        "/api/v1/builder/", request_body, content_type="application/json"
    )

    # Then it is refused, naming the field, and nothing is built
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert not PredictiveModel.objects.filter(kind=PredictiveModel.Kind.BUILDER).exists()


def test_a_rep_may_not_build(client_for, rep, renewals):
    client = client_for(rep)

    assert client.get(reverse("analytics:builder")).status_code == 403
    assert client.get("/api/v1/builder/fields/").status_code == 403
    response = client.post(
        "/api/v1/builder/",
        {"target_field": "renewed", "positive_value": "yes"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not PredictiveModel.objects.filter(kind=PredictiveModel.Kind.BUILDER).exists()
    assert "Prediction builder" not in client.get("/").content.decode()


def test_page_builds_and_goes_to_the_model(
    client_for, manager, renewals, django_assert_max_num_queries
):
    client = client_for(manager)
    # Given an earlier builder model listed on the page
    builder_create(user=manager, target_field="plan", positive_value="gold", name="gold-plan")

    # When the manager opens the page
    with django_assert_max_num_queries(12):
        page = client.get(reverse("analytics:builder"))

    # Then the fields to predict are offered with their values, and the models built listed
    content = page.content.decode()
    assert page.status_code == 200
    assert '<option value="renewed">renewed (no, yes)</option>' in content or (
        '<option value="renewed">renewed (yes, no)</option>' in content
    )
    assert reverse("analytics:model_detail", args=["gold-plan"]) in content
    assert "Prediction builder" in content

    # When they build a prediction from the form
    response = client.post(
        reverse("analytics:builder"),
        {"target_field": "renewed", "positive_value": "yes", "feature_fields": ["plan", "visits"]},
    )

    # Then the browser goes to the new model's page, its build queued
    model = PredictiveModel.objects.get(target_field="renewed")
    assert response.status_code == 302
    assert response.url == reverse("analytics:model_detail", args=[model.name])
    assert model.feature_fields == ["plan", "visits"]
    assert model.training_version.status == ModelVersion.Status.QUEUED


def test_page_shows_what_is_wrong(client_for, manager, renewals):
    response = client_for(manager).post(
        reverse("analytics:builder"), {"target_field": "renewed", "positive_value": "perhaps"}
    )

    assert response.status_code == 200
    assert "No customer has “perhaps” in “renewed”" in response.content.decode()
    assert not PredictiveModel.objects.filter(kind=PredictiveModel.Kind.BUILDER).exists()


def test_build_trains_registers_and_scores_every_customer(manager, renewals):
    # Given an erased customer
    erased = renewals[-1]
    erased.erased_at = timezone.now()
    erased.save(update_fields=["erased_at"])

    # When a build runs
    queued = builder_create(user=manager, target_field="renewed", positive_value="yes")
    version = model_train_run(version_id=queued.pk)

    # Then the better algorithm by cross-validation is registered and active
    assert version.status == ModelVersion.Status.DONE, version.error
    selection = version.metrics["selection"]
    assert set(selection["cv_auc"]) == {"logistic_regression", "gradient_boosting"}
    assert version.algorithm == max(selection["cv_auc"], key=selection["cv_auc"].get)
    assert version.model.active_version == version
    assert (version.train_rows, version.test_rows) == (LABELLED * 4 // 5, LABELLED // 5)
    # and the identifier, and the fields with one value only, are left out
    assert {"plan", "visits", "tier"} <= set(version.features)
    assert "member_no" not in version.features
    assert "status" in selection["excluded"]
    # and every customer is scored, those without an answer too, but not the erased one
    scored = CustomerScore.objects.filter(model=version.model)
    assert scored.count() == LABELLED + UNLABELLED - 1
    assert not scored.filter(customer=erased).exists()
    assert scored.filter(customer=renewals[LABELLED]).exists()
    assert all(score.reasons for score in scored[:10])


def test_build_with_too_few_answers_fails_saying_why(manager, renewals):
    Customer.objects.filter(custom_attributes__renewed="yes").update(
        custom_attributes={"plan": "gold"}
    )
    some = Customer.objects.filter(custom_attributes__renewed="no")[:3]
    for customer in some:
        customer.custom_attributes = {**customer.custom_attributes, "renewed": "yes"}
        customer.save(update_fields=["custom_attributes"])

    queued = builder_create(user=manager, target_field="renewed", positive_value="yes")
    version = model_train_run(version_id=queued.pk)

    assert version.status == ModelVersion.Status.FAILED
    assert "at least 10 of each" in version.error


def test_command_refuses_an_unknown_field(renewals):
    with pytest.raises(CommandError, match="loyalty"):
        call_command(
            "build_prediction", "--target", "loyalty", "--positive", "yes", stdout=io.StringIO()
        )
