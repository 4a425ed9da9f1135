"""Events become signed deliveries to the subscriptions whose owners may see the record; failed
sends are retried with growing waits, fail after the last attempt, and enough failed deliveries
in a row switch the subscription off and tell its owner."""

import hashlib
import hmac
import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from collaboration.models import Notification
from crm.webhooks import services
from crm.webhooks.events import event_publish
from crm.webhooks.models import WebhookDelivery
from crm.webhooks.tasks import webhook_deliveries_due_task
from tests.customers.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks", "customer_events")]


def publish(django_capture_on_commit_callbacks, event, record, extra=None):
    with django_capture_on_commit_callbacks(execute=True):
        event_publish(event=event, record=record, extra=extra)


def test_an_event_is_posted_signed_to_the_allowed_local_receiver(
    rep, subscription, receiver, django_capture_on_commit_callbacks
):
    # given a customer the subscription's owner sees
    customer = CustomerFactory(owner=rep, name="Acme Ltd")

    # when its creation is published and the transaction commits
    publish(django_capture_on_commit_callbacks, "customer.created", customer, {"source": "web"})

    # then the receiver got one POST whose signature checks out with the secret, as a receiver
    # would check it
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers = {name.lower(): value for name, value in request.headers.items()}
    timestamp = headers["x-crm-timestamp"]
    expected = hmac.new(
        subscription.secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert headers["x-crm-signature"] == f"sha256={expected}"
    assert abs(int(timestamp) - time.time()) < 60
    assert headers["x-crm-event"] == "customer.created"
    assert headers["content-type"] == "application/json"
    assert request.path == "/hooks/crm"
    body = request.json
    assert body["event"] == "customer.created"
    assert body["data"] == {"id": customer.pk, "name": "Acme Ltd"}
    assert body["changes"] == {"source": "web"}
    # and the log says it was delivered, with the response
    delivery = WebhookDelivery.objects.get()
    assert headers["x-crm-delivery"] == str(delivery.pk)
    assert str(delivery.event_id) == body["id"]
    assert (delivery.status, delivery.attempt_count, delivery.last_status_code) == (
        WebhookDelivery.Status.SUCCEEDED,
        1,
        200,
    )
    attempt = delivery.attempts.get()
    assert (attempt.number, attempt.status_code, attempt.response_excerpt) == (
        1,
        200,
        "answered 200",
    )


def test_a_tampered_body_does_not_match_the_signature(
    rep, subscription, receiver, django_capture_on_commit_callbacks
):
    # given a delivered event
    publish(django_capture_on_commit_callbacks, "customer.created", CustomerFactory(owner=rep))
    request = receiver.requests[0]
    timestamp = request.headers["X-CRM-Timestamp"]

    # when a receiver checks a body changed on the way
    forged = request.body.replace(b"customer.created", b"customer.updated")
    digest = hmac.new(subscription.secret.encode(), f"{timestamp}.".encode() + forged, "sha256")

    # then
    assert request.headers["X-CRM-Signature"] != f"sha256={digest.hexdigest()}"


def test_only_subscribers_to_the_event_whose_owner_sees_the_record_get_it(
    rep, other_team_rep, admin_user, subscription, receiver, django_capture_on_commit_callbacks
):
    # given a second subscription, owned by someone who cannot see the rep's customer, and a
    # third that listens to other events
    blind = services.webhook_subscription_create(
        actor=admin_user,
        owner=other_team_rep,
        name="Other team",
        target_url=receiver.url,
        events=["customer.created"],
        allow_private_network=True,
    )
    services.webhook_subscription_create(
        actor=admin_user,
        owner=rep,
        name="Deals only",
        target_url=receiver.url,
        events=["deal.won"],
        allow_private_network=True,
    )
    customer = CustomerFactory(owner=rep)

    # when
    publish(django_capture_on_commit_callbacks, "customer.created", customer)

    # then only the rep's customer subscription got a delivery
    assert list(WebhookDelivery.objects.values_list("subscription", flat=True)) == [subscription.pk]
    assert not blind.deliveries.exists()
    assert len(receiver.requests) == 1


def test_deliveries_of_one_event_share_its_id_and_payload(
    rep, admin_user, subscription, receiver, customer_events
):
    # given two subscriptions of the rep to the event
    services.webhook_subscription_create(
        actor=admin_user,
        owner=rep,
        name="Second",
        target_url=receiver.url,
        events=["customer.created"],
        allow_private_network=True,
    )

    # when the service makes the deliveries
    deliveries = services.webhook_deliveries_create(
        event="customer.created", record=CustomerFactory(owner=rep), extra={}
    )

    # then
    assert len(deliveries) == 2
    assert deliveries[0].event_id == deliveries[1].event_id
    assert deliveries[0].payload == deliveries[1].payload


def test_a_failed_send_is_retried_later_with_growing_waits(rep, subscription, receiver):
    # given a receiver that fails twice, then answers 200
    receiver.statuses = [500, 503]
    delivery = services.webhook_deliveries_create(
        event="customer.created", record=CustomerFactory(owner=rep), extra={}
    )[0]
    now = timezone.now()

    # when the first attempt is made
    delivery = services.webhook_delivery_send(delivery=delivery, now=now)

    # then it waits about thirty seconds to retry
    assert (delivery.status, delivery.attempt_count, delivery.last_status_code) == (
        WebhookDelivery.Status.RETRYING,
        1,
        500,
    )
    first_wait = delivery.next_attempt_at - now
    assert timedelta(seconds=30) <= first_wait <= timedelta(seconds=36)

    # when a send is tried before then, nothing is sent
    services.webhook_delivery_send(delivery=delivery, now=now + timedelta(seconds=10))
    assert len(receiver.requests) == 1

    # when the second attempt fails too, the wait doubles
    later = delivery.next_attempt_at
    delivery = services.webhook_delivery_send(delivery=delivery, now=later)
    second_wait = delivery.next_attempt_at - later
    assert delivery.status == WebhookDelivery.Status.RETRYING
    assert timedelta(seconds=60) <= second_wait <= timedelta(seconds=72)
    assert second_wait > first_wait

    # when the third succeeds
    delivery = services.webhook_delivery_send(delivery=delivery, now=delivery.next_attempt_at)

    # then it is delivered, and every attempt is in the log
    assert (delivery.status, delivery.attempt_count, delivery.next_attempt_at) == (
        WebhookDelivery.Status.SUCCEEDED,
        3,
        None,
    )
    assert list(delivery.attempts.values_list("number", "status_code")) == [
        (1, 500),
        (2, 503),
        (3, 200),
    ]
    assert len(receiver.requests) == 3
    # and the same event id went out each time
    assert len({request.json["id"] for request in receiver.requests}) == 1


@override_settings(CRM_WEBHOOK_MAX_ATTEMPTS=3)
def test_a_delivery_fails_after_the_last_attempt(rep, subscription, receiver):
    # given a receiver that always fails
    receiver.statuses = [500] * 5
    delivery = services.webhook_deliveries_create(
        event="customer.created", record=CustomerFactory(owner=rep), extra={}
    )[0]
    now = timezone.now()

    # when every attempt is made
    for _ in range(5):
        delivery = services.webhook_delivery_send(delivery=delivery, now=now)
        now = (delivery.next_attempt_at or now) + timedelta(seconds=1)

    # then it stopped after three, failed, and counts once toward the subscription's failures
    assert (delivery.status, delivery.attempt_count, delivery.next_attempt_at) == (
        WebhookDelivery.Status.FAILED,
        3,
        None,
    )
    assert len(receiver.requests) == 3
    subscription.refresh_from_db()
    assert (subscription.consecutive_failures, subscription.is_active) == (1, True)


def test_a_delivery_already_sent_is_not_sent_again(rep, subscription, receiver):
    # given a delivered delivery
    delivery = services.webhook_deliveries_create(
        event="customer.created", record=CustomerFactory(owner=rep), extra={}
    )[0]
    services.webhook_delivery_send(delivery=delivery)

    # when its task runs again (a redelivered Celery message)
    services.webhook_delivery_send(delivery=delivery, now=timezone.now() + timedelta(days=1))

    # then
    assert len(receiver.requests) == 1
    assert delivery.attempts.count() == 1


@override_settings(CRM_WEBHOOK_MAX_ATTEMPTS=1, CRM_WEBHOOK_DISABLE_AFTER=3)
def test_repeated_failed_deliveries_switch_the_subscription_off_and_tell_its_owner(
    rep, subscription, receiver, django_capture_on_commit_callbacks
):
    # given a receiver that always fails
    receiver.statuses = [502] * 10

    # when three deliveries in a row fail
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            delivery = services.webhook_deliveries_create(
                event="customer.created", record=CustomerFactory(owner=rep), extra={}
            )[0]
            services.webhook_delivery_send(delivery=delivery)

    # then the subscription is off, saying why
    subscription.refresh_from_db()
    assert subscription.is_active is False
    assert subscription.consecutive_failures == 3
    assert subscription.disabled_at is not None
    assert "HTTP 502" in subscription.disabled_reason
    # and its owner was told
    notification = Notification.objects.get(recipient=rep)
    assert notification.kind == Notification.Kind.WEBHOOK_DISABLED
    assert "Local receiver" in notification.title
    assert notification.body == subscription.disabled_reason
    assert notification.url == f"/webhooks/{subscription.pk}/"

    # when another event happens, nothing is delivered to it
    assert (
        services.webhook_deliveries_create(
            event="customer.created", record=CustomerFactory(owner=rep), extra={}
        )
        == []
    )

    # when it is switched on again, its failures are cleared
    services.webhook_subscription_enable(actor=rep, subscription=subscription)
    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.consecutive_failures) == (True, 0)
    assert subscription.disabled_at is None


@override_settings(CRM_WEBHOOK_MAX_ATTEMPTS=1)
def test_a_delivered_event_resets_the_failures_in_a_row(rep, subscription, receiver):
    # given one failed delivery
    receiver.statuses = [500]
    for _ in range(2):
        delivery = services.webhook_deliveries_create(
            event="customer.created", record=CustomerFactory(owner=rep), extra={}
        )[0]
        services.webhook_delivery_send(delivery=delivery)
        subscription.refresh_from_db()
        # then the first counts, the second (delivered) clears the count
    assert subscription.consecutive_failures == 0


def test_the_sweep_sends_a_retry_whose_task_was_lost(
    rep, subscription, receiver, django_capture_on_commit_callbacks
):
    # given a delivery waiting to be retried, whose time has come, and no task for it
    receiver.statuses = [500]
    delivery = services.webhook_deliveries_create(
        event="customer.created", record=CustomerFactory(owner=rep), extra={}
    )[0]
    services.webhook_delivery_send(delivery=delivery)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )

    # when the beat's sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        queued = webhook_deliveries_due_task.delay().get()

    # then it was sent again, and delivered
    delivery.refresh_from_db()
    assert queued == 1
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert len(receiver.requests) == 2


def test_the_sweep_leaves_deliveries_not_yet_due(rep, subscription, receiver):
    # given a delivery just made (its task queued) and one waiting for a later retry
    receiver.statuses = [500]
    waiting = services.webhook_deliveries_create(
        event="customer.created", record=CustomerFactory(owner=rep), extra={}
    )[0]
    services.webhook_delivery_send(delivery=waiting)
    services.webhook_deliveries_create(
        event="customer.created", record=CustomerFactory(owner=rep), extra={}
    )

    # when  # then
    assert services.webhook_deliveries_queue_due() == 0


def test_a_ping_is_tried_once_and_does_not_count_as_a_failure(subscription, receiver, rep):
    # given a receiver that fails
    receiver.statuses = [500]

    # when a ping is sent
    ping = services.webhook_test_ping(actor=rep, subscription=subscription)
    ping = services.webhook_delivery_send(delivery=ping)

    # then
    assert (ping.status, ping.attempt_count) == (WebhookDelivery.Status.FAILED, 1)
    assert receiver.requests[0].json["event"] == "ping"
    assert receiver.requests[0].headers["X-CRM-Event"] == "ping"
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0


def test_redelivering_sends_the_same_event_again(rep, subscription, receiver):
    # given a failed delivery
    receiver.statuses = [500] * 10
    with override_settings(CRM_WEBHOOK_MAX_ATTEMPTS=1):
        delivery = services.webhook_deliveries_create(
            event="customer.created", record=CustomerFactory(owner=rep), extra={}
        )[0]
        services.webhook_delivery_send(delivery=delivery)
    receiver.statuses = []

    # when it is redelivered
    again = services.webhook_delivery_redeliver(actor=rep, delivery=delivery)
    again = services.webhook_delivery_send(delivery=again)

    # then a new delivery carries the same event, and got through
    assert again.pk != delivery.pk
    assert again.event_id == delivery.event_id
    assert again.status == WebhookDelivery.Status.SUCCEEDED
    assert receiver.requests[0].json == receiver.requests[1].json


def test_rotating_the_secret_signs_with_the_new_one(rep, subscription, receiver):
    # given
    old = subscription.secret

    # when
    services.webhook_secret_rotate(actor=rep, subscription=subscription)
    ping = services.webhook_test_ping(actor=rep, subscription=subscription)
    services.webhook_delivery_send(delivery=ping)

    # then
    subscription.refresh_from_db()
    assert subscription.secret != old and len(subscription.secret) == 64
    request = receiver.requests[-1]
    timestamp = request.headers["X-CRM-Timestamp"]
    expected = hmac.new(
        subscription.secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert request.headers["X-CRM-Signature"] == f"sha256={expected}"


def test_a_redirect_is_not_followed(rep, subscription, receiver):
    # given a receiver answering with a redirect
    receiver.statuses = [302]

    # when
    ping = services.webhook_delivery_send(
        delivery=services.webhook_test_ping(actor=rep, subscription=subscription)
    )

    # then it counts as a failed answer, and only one request went out
    assert (ping.status, ping.last_status_code) == (WebhookDelivery.Status.FAILED, 302)
    assert len(receiver.requests) == 1


def test_an_unreachable_receiver_is_logged_as_an_error(rep, subscription, receiver):
    # given a receiver that is gone
    services.webhook_subscription_update(actor=rep, subscription=subscription, name="Gone")
    subscription.target_url = "http://127.0.0.1:9/nothing-listens-here"
    subscription.save(update_fields=["target_url"])

    # when
    delivery = services.webhook_delivery_send(
        delivery=services.webhook_deliveries_create(
            event="customer.created", record=CustomerFactory(owner=rep), extra={}
        )[0]
    )

    # then
    attempt = delivery.attempts.get()
    assert attempt.status_code is None
    assert attempt.error
    assert delivery.status == WebhookDelivery.Status.RETRYING
