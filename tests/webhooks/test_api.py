"""/api/v1/webhooks/, /api/v1/webhook-deliveries/ and /api/v1/webhook-events/."""

import pytest
from django.urls import reverse

from crm.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.webhooks.factories import (
    WebhookAttemptFactory,
    WebhookDeliveryFactory,
    WebhookSubscriptionFactory,
)

pytestmark = pytest.mark.django_db

JSON = {"content_type": "application/json"}
NEW = {
    "name": "ERP",
    "target_url": "https://erp.example.com/hook",
    "events": ["customer.created", "deal.won"],
}


def test_creating_a_webhook_answers_with_its_secret_once(rep, rep_client, resolve_to):
    # given
    resolve_to("93.184.215.14")

    # when
    created = rep_client.post("/api/v1/webhooks/", NEW, **JSON)
    read = rep_client.get(f"/api/v1/webhooks/{created.json().get('id')}/")

    # then
    assert created.status_code == 201, created.json()
    body = created.json()
    subscription = WebhookSubscription.objects.get()
    assert body["secret"] == subscription.secret
    assert (body["owner"], body["events"], body["allow_private_network"]) == (
        rep.pk,
        ["customer.created", "deal.won"],
        False,
    )
    assert read.status_code == 200
    assert "secret" not in read.json()


def test_a_private_target_is_refused_with_the_error_shape(rep_client):
    # given  # when
    response = rep_client.post(
        "/api/v1/webhooks/", {**NEW, "target_url": "http://169.254.169.254/latest/"}, **JSON
    )

    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "169.254.169.254" in error["fields"]["target_url"][0]


def test_an_unknown_event_is_refused(rep_client, resolve_to):
    # given
    resolve_to("93.184.215.14")

    # when
    response = rep_client.post("/api/v1/webhooks/", {**NEW, "events": ["deal.eaten"]}, **JSON)

    # then
    assert response.status_code == 400
    assert "events" in response.json()["error"]["fields"]


def test_a_non_admin_cannot_allow_private_addresses(rep_client):
    # given  # when
    response = rep_client.post(
        "/api/v1/webhooks/",
        {**NEW, "target_url": "http://127.0.0.1:8080/", "allow_private_network": True},
        **JSON,
    )

    # then
    assert response.status_code == 400
    assert "allow_private_network" in response.json()["error"]["fields"]
    assert not WebhookSubscription.objects.exists()


def test_a_non_admin_cannot_switch_private_addresses_on_later(rep, rep_client):
    # given
    subscription = WebhookSubscriptionFactory(owner=rep)

    # when
    response = rep_client.patch(
        f"/api/v1/webhooks/{subscription.pk}/", {"allow_private_network": True}, **JSON
    )

    # then
    assert response.status_code == 400
    subscription.refresh_from_db()
    assert subscription.allow_private_network is False


def test_an_admin_can_allow_private_addresses(admin_user, client_for):
    # given  # when
    response = client_for(admin_user).post(
        "/api/v1/webhooks/",
        {**NEW, "target_url": "http://127.0.0.1:8080/", "allow_private_network": True},
        **JSON,
    )

    # then
    assert response.status_code == 201, response.json()
    assert response.json()["allow_private_network"] is True


def test_listing_shows_only_mine(rep, other_team_rep, rep_client, django_assert_max_num_queries):
    # given
    WebhookSubscriptionFactory.create_batch(3, owner=rep)
    WebhookSubscriptionFactory(owner=other_team_rep)

    # when
    with django_assert_max_num_queries(8):
        response = rep_client.get("/api/v1/webhooks/")

    # then
    assert response.status_code == 200
    assert response.json()["count"] == 3


def test_updating_and_deleting(rep, rep_client, resolve_to):
    # given
    resolve_to("93.184.215.14")
    subscription = WebhookSubscriptionFactory(owner=rep)

    # when
    updated = rep_client.patch(
        f"/api/v1/webhooks/{subscription.pk}/",
        {"name": "Renamed", "events": ["ticket.resolved"]},
        **JSON,
    )
    deleted = rep_client.delete(f"/api/v1/webhooks/{subscription.pk}/")

    # then
    assert updated.status_code == 200, updated.json()
    assert (updated.json()["name"], updated.json()["events"]) == ("Renamed", ["ticket.resolved"])
    assert deleted.status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_someone_elses_webhook_is_not_found(other_team_rep, rep_client):
    # given
    theirs = WebhookSubscriptionFactory(owner=other_team_rep)

    # when  # then
    assert rep_client.get(f"/api/v1/webhooks/{theirs.pk}/").status_code == 404
    assert rep_client.post(f"/api/v1/webhooks/{theirs.pk}/rotate-secret/").status_code == 404


def test_rotating_the_secret_answers_with_the_new_one(rep, rep_client):
    # given
    subscription = WebhookSubscriptionFactory(owner=rep)

    # when
    response = rep_client.post(f"/api/v1/webhooks/{subscription.pk}/rotate-secret/")

    # then
    subscription.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["secret"] == subscription.secret


def test_enable_clears_the_failures(rep, rep_client):
    # given
    subscription = WebhookSubscriptionFactory(owner=rep, is_active=False, consecutive_failures=4)

    # when
    response = rep_client.post(f"/api/v1/webhooks/{subscription.pk}/enable/")

    # then
    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["consecutive_failures"]) == (True, 0)


def test_ping_sends_to_the_receiver(
    rep, rep_client, receiver, eager_tasks, django_capture_on_commit_callbacks
):
    # given a webhook to the local receiver, allowed by an admin
    subscription = WebhookSubscriptionFactory(
        owner=rep, target_url=receiver.url, allow_private_network=True
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = rep_client.post(f"/api/v1/webhooks/{subscription.pk}/ping/")

    # then
    assert response.status_code == 202
    assert response.json()["event"] == "ping"
    assert receiver.requests[0].json["id"] == response.json()["event_id"]
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.SUCCEEDED


def test_deliveries_with_their_attempts(rep, rep_client, django_assert_max_num_queries):
    # given ten deliveries with an attempt each
    subscription = WebhookSubscriptionFactory(owner=rep)
    for _ in range(10):
        WebhookAttemptFactory(delivery__subscription=subscription)

    # when
    with django_assert_max_num_queries(10):
        nested = rep_client.get(f"/api/v1/webhooks/{subscription.pk}/deliveries/")
    with django_assert_max_num_queries(10):
        flat = rep_client.get(f"/api/v1/webhook-deliveries/?subscription={subscription.pk}")

    # then
    for response in (nested, flat):
        assert response.status_code == 200
        assert response.json()["count"] == 10
        attempts = response.json()["results"][0]["attempts"]
        assert [(a["number"], a["status_code"]) for a in attempts] == [(1, 500)]


def test_the_delivery_log_hides_other_peoples_deliveries(other_team_rep, rep_client):
    # given
    WebhookDeliveryFactory(subscription__owner=other_team_rep)

    # when  # then
    assert rep_client.get("/api/v1/webhook-deliveries/").json()["count"] == 0


def test_redeliver(rep, rep_client, receiver, eager_tasks, django_capture_on_commit_callbacks):
    # given a failed delivery to the receiver
    delivery = WebhookDeliveryFactory(
        subscription__owner=rep,
        subscription__target_url=receiver.url,
        subscription__allow_private_network=True,
        status=WebhookDelivery.Status.FAILED,
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = rep_client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver/")

    # then
    assert response.status_code == 202
    assert response.json()["id"] != delivery.pk
    assert response.json()["event_id"] == str(delivery.event_id)
    assert len(receiver.requests) == 1


def test_redelivering_to_a_switched_off_webhook_is_refused(rep, rep_client):
    # given
    delivery = WebhookDeliveryFactory(subscription__owner=rep, subscription__is_active=False)

    # when
    response = rep_client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver/")

    # then
    assert response.status_code == 400
    assert "switched off" in response.json()["error"]["message"]


def test_the_event_catalogue(rep_client):
    # given  # when
    response = rep_client.get(reverse("webhook-events"))

    # then
    assert response.status_code == 200
    names = [event["name"] for event in response.json()]
    assert "customer.created" in names and "import.finished" in names
    assert all(event["description"] for event in response.json())


def test_the_schema_documents_the_webhook_endpoints(rep_client):
    # given  # when
    response = rep_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")

    # then
    paths = response.json()["paths"]
    assert "/api/v1/webhooks/{id}/rotate-secret/" in paths
    assert "/api/v1/webhook-deliveries/{id}/redeliver/" in paths
    assert "/api/v1/webhook-events/" in paths
