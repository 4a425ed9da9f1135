"""The webhook pages: a user's list, create, edit, the secret and its rotation, a test ping,
the delivery log and a delivery's page with redeliver, delete; only one's own webhooks."""

import pytest
from django.urls import reverse

from crm.webhooks.events import EVENTS
from crm.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.webhooks.factories import WebhookDeliveryFactory, WebhookSubscriptionFactory

pytestmark = pytest.mark.django_db


def test_the_list_shows_only_my_webhooks(
    rep, other_team_rep, rep_client, django_assert_max_num_queries
):
    # given two of mine and one of someone else's
    WebhookSubscriptionFactory.create_batch(2, owner=rep)
    theirs = WebhookSubscriptionFactory(owner=other_team_rep, name="Theirs")

    # when
    with django_assert_max_num_queries(12):
        response = rep_client.get(reverse("webhooks:subscription_list"))

    # then
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 2
    assert theirs.name not in response.content.decode()


def test_an_admin_sees_every_webhook(rep, admin_user, client_for):
    # given
    WebhookSubscriptionFactory(owner=rep)

    # when
    response = client_for(admin_user).get(reverse("webhooks:subscription_list"))

    # then
    assert len(response.context["page"].object_list) == 1
    assert response.context["show_owner"] is True


def test_creating_a_webhook_from_the_page(rep, rep_client, resolve_to):
    # given a public target
    resolve_to("93.184.215.14")

    # when
    response = rep_client.post(
        reverse("webhooks:subscription_create"),
        {
            "name": "ERP",
            "target_url": "https://erp.example.com/hook",
            "events": ["customer.created", "deal.won"],
            "is_active": "on",
        },
    )

    # then
    subscription = WebhookSubscription.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("webhooks:subscription_detail", args=[subscription.pk])
    assert (subscription.owner, subscription.events) == (rep, ["customer.created", "deal.won"])
    # and its page shows the secret
    detail = rep_client.get(response.url)
    assert subscription.secret in detail.content.decode()


def test_the_form_has_every_event_and_no_private_network_choice_for_a_rep(rep_client):
    # given  # when
    response = rep_client.get(reverse("webhooks:subscription_create"))

    # then
    form = response.context["form"]
    assert "allow_private_network" not in form.fields
    assert [value for value, _label in form.fields["events"].choices] == list(EVENTS)
    assert "A deal was won" in response.content.decode()


def test_a_private_target_is_refused_on_the_page(rep_client):
    # given  # when
    response = rep_client.post(
        reverse("webhooks:subscription_create"),
        {"name": "Sneaky", "target_url": "http://127.0.0.1:6379/", "events": ["deal.won"]},
    )

    # then
    assert response.status_code == 200
    assert "non-public address" in str(response.context["form"].errors["target_url"])
    assert not WebhookSubscription.objects.exists()


def test_editing_a_webhook(rep, rep_client, resolve_to):
    # given
    resolve_to("93.184.215.14")
    subscription = WebhookSubscriptionFactory(owner=rep)

    # when
    response = rep_client.post(
        reverse("webhooks:subscription_edit", args=[subscription.pk]),
        {
            "name": "Renamed",
            "target_url": subscription.target_url,
            "events": ["ticket.created"],
        },
    )

    # then
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.name, subscription.events, subscription.is_active) == (
        "Renamed",
        ["ticket.created"],
        False,
    )


def test_someone_elses_webhook_is_not_found(other_team_rep, rep_client):
    # given
    theirs = WebhookSubscriptionFactory(owner=other_team_rep)

    # when  # then
    assert (
        rep_client.get(reverse("webhooks:subscription_detail", args=[theirs.pk])).status_code == 404
    )
    assert (
        rep_client.post(reverse("webhooks:subscription_rotate", args=[theirs.pk])).status_code
        == 404
    )


def test_rotating_the_secret(rep, rep_client):
    # given
    subscription = WebhookSubscriptionFactory(owner=rep)
    old = subscription.secret

    # when
    response = rep_client.post(reverse("webhooks:subscription_rotate", args=[subscription.pk]))

    # then
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.secret != old


def test_a_test_ping_from_the_page(
    rep, admin_user, rep_client, receiver, eager_tasks, django_capture_on_commit_callbacks
):
    # given the rep's webhook to the local receiver, allowed by an admin
    subscription = WebhookSubscriptionFactory(
        owner=rep, target_url=receiver.url, allow_private_network=True
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = rep_client.post(reverse("webhooks:subscription_ping", args=[subscription.pk]))

    # then the ping went out and its page shows the answer
    delivery = WebhookDelivery.objects.get()
    assert response.url == reverse("webhooks:delivery_detail", args=[delivery.pk])
    assert receiver.requests[0].json["event"] == "ping"
    page = rep_client.get(response.url)
    assert page.status_code == 200
    assert "answered 200" in page.content.decode()


def test_the_delivery_log_is_newest_first_and_paginated(
    rep, rep_client, django_assert_max_num_queries
):
    # given thirty deliveries
    subscription = WebhookSubscriptionFactory(owner=rep)
    deliveries = WebhookDeliveryFactory.create_batch(30, subscription=subscription)

    # when
    with django_assert_max_num_queries(12):
        response = rep_client.get(reverse("webhooks:subscription_detail", args=[subscription.pk]))

    # then
    page = response.context["page"]
    assert page.paginator.count == 30
    assert len(page.object_list) == 25
    assert page.object_list[0] == deliveries[-1]


def test_redelivering_from_the_page(
    rep, rep_client, receiver, eager_tasks, django_capture_on_commit_callbacks
):
    # given a failed delivery to the receiver
    subscription = WebhookSubscriptionFactory(
        owner=rep, target_url=receiver.url, allow_private_network=True
    )
    delivery = WebhookDeliveryFactory(
        subscription=subscription, status=WebhookDelivery.Status.FAILED, attempt_count=6
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = rep_client.post(reverse("webhooks:delivery_redeliver", args=[delivery.pk]))

    # then a new delivery of the same event was sent
    again = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert response.url == reverse("webhooks:delivery_detail", args=[again.pk])
    assert again.event_id == delivery.event_id
    assert again.status == WebhookDelivery.Status.SUCCEEDED
    assert len(receiver.requests) == 1


def test_switching_a_disabled_webhook_on_again(rep, rep_client):
    # given a webhook switched off after failures
    subscription = WebhookSubscriptionFactory(
        owner=rep, is_active=False, consecutive_failures=10, disabled_reason="10 failed"
    )

    # when
    rep_client.post(reverse("webhooks:subscription_enable", args=[subscription.pk]))

    # then
    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.consecutive_failures) == (True, 0)


def test_deleting_a_webhook_asks_first(rep, rep_client):
    # given
    subscription = WebhookSubscriptionFactory(owner=rep)
    url = reverse("webhooks:subscription_delete", args=[subscription.pk])

    # when
    confirm = rep_client.get(url)
    deleted = rep_client.post(url)

    # then
    assert confirm.status_code == 200
    assert deleted.url == reverse("webhooks:subscription_list")
    assert not WebhookSubscription.objects.exists()


def test_the_profile_links_to_the_webhooks(rep_client):
    # given  # when
    response = rep_client.get(reverse("accounts:profile"))

    # then
    assert reverse("webhooks:subscription_list") in response.content.decode()
