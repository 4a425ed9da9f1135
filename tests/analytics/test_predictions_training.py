"""The three built-in models trained end to end on the CRM's own rows: registered versions with
held-out metrics, scores stored for eligible subjects only with their reasons, time splits that
never test on a training row, feature rows as of a cutoff in a constant number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.models import CustomerScore, ModelVersion, PredictiveModel, TicketPrediction
from analytics.selectors import features
from analytics.services import training as training_services
from service.models import Ticket
from tests.analytics.factories import order_histories_create, rated_tickets_create
from tests.customers.factories import CustomerFactory, OrderFactory
from tests.service.factories import TicketCategoryFactory, TicketFactory

pytestmark = pytest.mark.django_db


def retrain(name: str) -> ModelVersion:
    model = PredictiveModel.objects.get(name=name)
    version = training_services.model_retrain_request(
        model=model, trigger=ModelVersion.Trigger.COMMAND
    )
    return training_services.model_train_run(version_id=version.pk)


def test_purchase_model_trains_registers_and_scores_every_customer_but_the_erased():
    # given two years of orders: regular buyers, lapsed ones and leads who never ordered
    histories = order_histories_create()

    # when the purchase model is trained
    version = retrain("purchase")

    # then a version is registered with its held-out metrics and activated
    assert version.status == ModelVersion.Status.DONE, version.error
    assert version.decision == ModelVersion.Decision.PROMOTED
    assert version.metrics["roc_auc"] > 0.9
    assert "next 90 days" in version.metrics["split"]
    assert version.train_rows == version.test_rows == 80
    assert version.feature_importance
    # and every customer but the erased one has a score with its reasons
    scores = CustomerScore.objects.filter(model__name="purchase")
    assert scores.count() == 80
    assert not scores.filter(customer=histories.erased).exists()
    regular = scores.get(customer=histories.regulars[0])
    lapsed = scores.get(customer=histories.lapsed[0])
    assert regular.probability > 0.5 > lapsed.probability
    assert regular.version == version
    assert {feature for feature, _value, _effect in regular.reasons} & {
        "recency_days",
        "orders_365d",
        "spend_365d",
    }


def test_churn_model_learns_from_customers_who_stopped_and_scores_only_active_ones():
    # given regular buyers and customers who stopped ordering 400 days ago
    histories = order_histories_create()

    # when the churn model is trained
    version = retrain("churn")

    # then it was trained on the customers active at each cutoff (regular and lapsed)
    assert version.status == ModelVersion.Status.DONE, version.error
    assert version.train_rows == version.test_rows == 60
    assert version.positive_rate == pytest.approx(0.5)
    assert version.metrics["roc_auc"] > 0.9
    # and only customers active now (an order in the last year) get a churn score
    scored = set(
        CustomerScore.objects.filter(model__name="churn").values_list("customer_id", flat=True)
    )
    assert scored == {customer.pk for customer in histories.regulars}


def test_a_second_run_drops_scores_of_customers_no_longer_eligible():
    # given a trained churn model with a score for a regular buyer
    histories = order_histories_create()
    retrain("churn")
    gone = histories.regulars[0]
    assert CustomerScore.objects.filter(model__name="churn", customer=gone).exists()

    # when that customer's orders are cancelled and the model retrained
    gone.orders.update(status="cancelled")
    second = retrain("churn")

    # then the customer no longer has a churn score
    assert second.status == ModelVersion.Status.DONE, second.error
    assert not CustomerScore.objects.filter(model__name="churn", customer=gone).exists()


def test_purchase_split_tests_on_a_later_cutoff_than_any_training_label():
    # given order histories
    order_histories_create()
    now = timezone.now()

    # when the purchase training set is built
    training = features.purchase_training_set(now=now)

    # then training rows are as of 180 days ago, labelled up to 90 days ago, where the held-out
    # rows start; the held-out labels run up to now
    assert training.train.attrs["as_of"] == now - timedelta(days=180)
    assert training.train.attrs["label_until"] == now - timedelta(days=90)
    assert training.test.attrs["as_of"] == training.train.attrs["label_until"]
    assert training.test.attrs["label_until"] == now
    assert list(training.train.columns) == features.CUSTOMER_FEATURES.columns


def test_customer_features_count_only_what_happened_before_the_cutoff():
    # given a customer whose only order is 100 days old, for 250.00
    customer = CustomerFactory()
    OrderFactory(
        customer=customer,
        ordered_at=timezone.now() - timedelta(days=100),
        total_amount=250,
    )
    OrderFactory(
        customer=customer,
        ordered_at=timezone.now() - timedelta(days=10),
        status="cancelled",
    )
    now = timezone.now()

    # when their feature rows are read as of 120 and 90 days ago
    before = features.customer_feature_rows(
        cutoff=now - timedelta(days=120), customer_ids=[customer.pk]
    )
    after = features.customer_feature_rows(cutoff=now, customer_ids=[customer.pk])

    # then the order counts only after it was placed (a cancelled one never), and a customer
    # created after the cutoff has no row before it
    assert before.empty
    row = after.loc[customer.pk]
    assert (row["orders_all"], row["spend_all"], row["orders_365d"]) == (1, 250, 1)
    assert row["recency_days"] == pytest.approx(100, abs=0.01)


def test_scoring_chunks_read_a_constant_number_of_queries_per_chunk():
    # given 81 customers with orders
    order_histories_create()

    # when every customer's features are read 20 at a time
    with CaptureQueriesContext(connection) as queries:
        chunks = list(features.customer_feature_chunks(cutoff=timezone.now(), size=20))

    # then each chunk costs the same five queries (profile, orders, interactions, campaigns,
    # tickets), plus the one that finds the end
    assert [len(chunk) for chunk in chunks] == [20, 20, 20, 20]
    assert len(queries) == 5 * len(chunks) + 1


def test_satisfaction_model_trains_on_rated_tickets_and_scores_open_ones_only():
    # given 60 rated tickets, an open one already read by the category model, and closed ones
    rated_tickets_create()
    category = TicketCategoryFactory(name="Billing")
    open_ticket = TicketFactory(subject="Refund not received", status=Ticket.Status.OPEN)
    TicketPrediction.objects.create(
        ticket=open_ticket,
        category=category,
        category_confidence=0.8,
        predicted_at=timezone.now(),
    )
    new_ticket = TicketFactory(subject="Thank you", status=Ticket.Status.NEW)
    closed_unrated = TicketFactory(status=Ticket.Status.CLOSED)

    # when the satisfaction model is trained
    version = retrain("satisfaction")

    # then it is registered and scores the tickets still to be rated
    assert version.status == ModelVersion.Status.DONE, version.error
    assert (version.train_rows, version.test_rows) == (48, 12)
    assert version.metrics["roc_auc"] > 0.9
    predictions = TicketPrediction.objects.filter(satisfaction_version=version)
    assert set(predictions.values_list("ticket_id", flat=True)) == {
        open_ticket.pk,
        new_ticket.pk,
    }
    assert not TicketPrediction.objects.filter(ticket=closed_unrated).exists()
    # and the category model's fields of the same row are left as they were
    kept = TicketPrediction.objects.get(ticket=open_ticket)
    assert (kept.category, kept.category_confidence) == (category, 0.8)
    assert 0 <= kept.satisfaction_probability <= 1
    assert kept.satisfaction_reasons


def test_satisfaction_split_holds_out_the_newest_tickets():
    # given rated tickets over four months
    rated_tickets_create()

    # when the training set is built
    training = features.satisfaction_training_set()

    # then no held-out ticket is a training ticket, and every one is newer than them all
    train_ids, test_ids = set(training.train.index), set(training.test.index)
    assert not train_ids & test_ids
    created = dict(Ticket.objects.values_list("pk", "created_at"))
    assert max(created[pk] for pk in train_ids) < min(created[pk] for pk in test_ids)
    assert "text" in training.train.columns


@pytest.mark.parametrize("name", ["purchase", "churn", "satisfaction"])
def test_too_little_data_fails_the_version_with_a_clear_reason(name):
    # given a CRM with a few customers who all ordered once, long ago
    for customer in CustomerFactory.create_batch(3):
        OrderFactory(customer=customer, ordered_at=timezone.now() - timedelta(days=800))

    # when a model is trained
    version = retrain(name)

    # then the version failed, saying what is missing, and the model has no active version
    assert version.status == ModelVersion.Status.FAILED
    assert "needs at least" in version.error
    assert PredictiveModel.objects.get(name=name).active_version is None


def test_one_outcome_only_is_not_enough():
    # given rated tickets that are all satisfied
    tickets = rated_tickets_create(count=40)
    Ticket.objects.filter(pk__in=[ticket.pk for ticket in tickets]).update(satisfaction_rating=5)

    # when the satisfaction model is trained
    version = retrain("satisfaction")

    # then it refuses, naming the outcome it lacks
    assert version.status == ModelVersion.Status.FAILED
    assert "of each outcome" in version.error
