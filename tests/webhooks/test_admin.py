"""Webhooks in the admin: where an admin allows a private target, through the services."""

import pytest
from django.urls import reverse

from crm.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.webhooks.factories import WebhookDeliveryFactory, WebhookSubscriptionFactory

pytestmark = pytest.mark.django_db


def test_an_admin_allows_a_private_target(admin_user, rep, client_for):
    # given
    client = client_for(admin_user)

    # when
    response = client.post(
        reverse("admin:webhooks_webhooksubscription_add"),
        {
            "owner": rep.pk,
            "name": "Intranet",
            "target_url": "http://10.0.0.7/hook",
            "events": ["deal.won"],
            "is_active": "on",
            "allow_private_network": "on",
        },
    )

    # then
    assert response.status_code == 302, response.context and response.context["errors"]
    subscription = WebhookSubscription.objects.get()
    assert (subscription.owner, subscription.allow_private_network) == (rep, True)
    assert len(subscription.secret) == 64


def test_the_admin_refuses_a_private_target_without_the_leave(admin_user, rep, client_for):
    # given a subscription to a public address
    subscription = WebhookSubscriptionFactory(owner=rep, target_url="http://93.184.215.14/")
    client = client_for(admin_user)
    url = reverse("admin:webhooks_webhooksubscription_change", args=[subscription.pk])

    # when the admin points it at a private address without allowing it
    response = client.post(
        url,
        {
            "name": subscription.name,
            "target_url": "http://10.0.0.7/hook",
            "events": ["customer.created"],
            "is_active": "on",
        },
        follow=True,
    )

    # then the page says why and nothing changed
    assert any("non-public" in str(message) for message in response.context["messages"])
    subscription.refresh_from_db()
    assert subscription.target_url == "http://93.184.215.14/"


def test_the_enable_action(admin_user, client_for):
    # given
    subscription = WebhookSubscriptionFactory(is_active=False, consecutive_failures=10)

    # when
    client_for(admin_user).post(
        reverse("admin:webhooks_webhooksubscription_changelist"),
        {"action": "enable", "_selected_action": [subscription.pk]},
    )

    # then
    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.consecutive_failures) == (True, 0)


def test_the_redeliver_action(admin_user, client_for, django_capture_on_commit_callbacks):
    # given
    delivery = WebhookDeliveryFactory(status=WebhookDelivery.Status.FAILED)

    # when
    client_for(admin_user).post(
        reverse("admin:webhooks_webhookdelivery_changelist"),
        {"action": "redeliver", "_selected_action": [delivery.pk]},
    )

    # then
    assert WebhookDelivery.objects.filter(event_id=delivery.event_id).count() == 2


def test_the_delivery_log_is_read_only(admin_user, client_for):
    # given
    delivery = WebhookDeliveryFactory()

    # when
    response = client_for(admin_user).get(
        reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk])
    )

    # then
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
