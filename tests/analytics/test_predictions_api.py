"""The predictions API: stored scores of visible customers, and one prediction on request by
customer, ticket or raw features, with its errors."""

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from analytics.models import CustomerScore, ModelVersion, PredictiveModel
from analytics.services import training as training_services
from tests.analytics.factories import (
    ModelVersionFactory,
    order_histories_create,
    rated_tickets_create,
)
from tests.customers.factories import CustomerFactory
from tests.service.factories import TicketFactory

pytestmark = pytest.mark.django_db

PREDICT = "/api/v1/predict/{}/"


def retrain(name: str) -> ModelVersion:
    model = PredictiveModel.objects.get(name=name)
    version = training_services.model_retrain_request(
        model=model, trigger=ModelVersion.Trigger.COMMAND
    )
    return training_services.model_train_run(version_id=version.pk)


def test_scores_api_lists_visible_customers_above_the_minimum(
    rep, other_team_rep, client_for, django_assert_max_num_queries
):
    # given purchase scores of the rep's customers and of another team's
    model = PredictiveModel.objects.get(name="purchase")
    version = ModelVersionFactory(model=model, number=1)
    mine = [CustomerFactory(owner=rep) for _index in range(12)]
    hidden = CustomerFactory(owner=other_team_rep)
    for index, customer in enumerate([*mine, hidden]):
        CustomerScore.objects.create(
            model=model,
            customer=customer,
            version=version,
            probability=(index + 1) / 13,
            reasons=[["recency_days", 3.0, 0.2]],
            scored_at=timezone.now(),
        )

    # when the rep asks for hot leads of 50% or more
    client = client_for(rep)
    with django_assert_max_num_queries(12):
        response = client.get("/api/v1/scores/", {"model": "purchase", "min_probability": 0.5})

    # then only their own customers above it are listed, highest first, with the reasons
    body = response.json()
    assert response.status_code == 200
    ids = [row["customer"] for row in body["results"]]
    assert hidden.pk not in ids
    assert ids == [customer.pk for customer in reversed(mine[6:])]
    assert body["count"] == 6
    assert body["results"][0]["reasons"] == [
        {"feature": "recency_days", "value": 3.0, "effect": 0.2}
    ]
    assert body["results"][0]["version"] == 1


def test_scores_api_refuses_an_unknown_model_name(rep, client_for):
    response = client_for(rep).get("/api/v1/scores/", {"model": "weather"})

    assert response.status_code == 400
    assert "model" in response.json()["error"]["fields"]


def test_predict_by_customer_and_by_raw_features(rep, client_for):
    # given a trained purchase model over the rep's customers
    histories = order_histories_create(owner=rep)
    version = retrain("purchase")
    client = client_for(rep)

    # when a regular buyer is scored by id, and a made-up customer by raw features
    by_id = client.post(
        PREDICT.format("purchase"), {"customer": histories.regulars[0].pk}, "application/json"
    )
    by_features = client.post(
        PREDICT.format("purchase"),
        {"features": {"recency_days": 400, "orders_365d": 0, "tier": "normal"}},
        "application/json",
    )

    # then each gives the probability, the version and the reasons
    assert by_id.status_code == 200, by_id.json()
    body = by_id.json()
    assert body["model"] == "purchase"
    assert body["version"] == version.number
    assert body["probability"] > 0.5
    assert body["reasons"] and {"feature", "value", "effect"} == set(body["reasons"][0])
    stored = CustomerScore.objects.get(model__name="purchase", customer=histories.regulars[0])
    assert body["probability"] == pytest.approx(stored.probability, abs=0.01)
    assert by_features.status_code == 200, by_features.json()
    assert by_features.json()["probability"] < 0.5


def test_predict_errors(rep, other_team_rep, client_for):
    # given a trained purchase model, and a customer of another team
    order_histories_create(owner=rep)
    retrain("purchase")
    hidden = CustomerFactory(owner=other_team_rep)
    client = client_for(rep)

    def predict(name, body):
        return client.post(PREDICT.format(name), body, "application/json")

    # then an unknown model and a hidden customer answer 404 like a missing one
    assert predict("weather", {"customer": hidden.pk}).status_code == 404
    assert predict("purchase", {"customer": hidden.pk}).status_code == 404
    assert predict("purchase", {"customer": 999999}).status_code == 404
    # and a model with no active version 409, saying so
    untrained = predict("churn", {"features": {}})
    assert untrained.status_code == 409
    assert "no active version" in untrained.json()["error"]["message"]
    # and bad features 400, naming the field
    unknown = predict("purchase", {"features": {"shoe_size": 42}})
    assert unknown.status_code == 400
    assert "features.shoe_size" in unknown.json()["error"]["fields"]
    wrong_type = predict("purchase", {"features": {"recency_days": "recent"}})
    assert wrong_type.status_code == 400
    assert "features.recency_days" in wrong_type.json()["error"]["fields"]
    # and a ticket for a customer model, or nothing at all, 400
    assert "ticket" in predict("purchase", {"ticket": 1}).json()["error"]["fields"]
    assert predict("purchase", {}).status_code == 400


def test_predict_satisfaction_of_a_visible_ticket(rep, other_team_rep, client_for, team):
    # given a trained satisfaction model, two open tickets of the rep's (one reads like the
    # unhappy rated ones, one like the satisfied) and one of another team's
    rated_tickets_create(owner=rep, team=team)
    retrain("satisfaction")
    unhappy = TicketFactory(
        assignee=rep,
        subject="Still broken, I want a refund",
        description="Third time it fails. Refund please.",
        priority="urgent",
        reopened_count=2,
    )
    happy = TicketFactory(
        assignee=rep,
        subject="Thank you, sorted quickly",
        description="All good now.",
        priority="low",
    )
    theirs = TicketFactory(assignee=other_team_rep)
    client = client_for(rep)

    def predict(ticket):
        return client.post(
            PREDICT.format("satisfaction"), {"ticket": ticket.pk}, "application/json"
        )

    # when each is scored
    unhappy_response, happy_response = predict(unhappy), predict(happy)

    # then the unhappy-sounding ticket gets the lower chance of a satisfied customer, with
    # reasons; the other team's ticket is hidden
    assert unhappy_response.status_code == happy_response.status_code == 200
    assert unhappy_response.json()["probability"] < happy_response.json()["probability"]
    assert unhappy_response.json()["reasons"]
    assert predict(theirs).status_code == 404


def test_a_prediction_for_a_customer_needs_the_permission_to_see_scores(client_for, rep):
    # Given a rep whose role reads models but has lost the right to read customer scores
    rep.user_permissions.add(Permission.objects.get(codename="view_predictivemodel"))
    for group in rep.groups.all():
        group.permissions.remove(Permission.objects.get(codename="view_customerscore"))
    customer = CustomerFactory(owner=rep)

    # When they ask for a prediction about a customer they can see
    response = client_for(rep).post(
        "/api/v1/predict/purchase/", {"customer": customer.pk}, content_type="application/json"
    )

    # Then they are refused, as the scores page would refuse them
    assert response.status_code == 403
