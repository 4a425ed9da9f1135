"""Reads of webhooks. A user sees their own subscriptions and what was sent for them; an admin
sees every subscription."""

import json
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from crm.accounts.models import User
from crm.accounts.selectors import user_is_admin
from crm.webhooks.events import EVENTS
from crm.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

# Deliveries a sweep hands to the workers at once; the next sweep takes the rest.
DUE_BATCH = 500
# A new delivery's task is queued as it is created; the sweep only takes it up once this long
# has passed without it being sent (the broker was down, say).
NEW_DELIVERY_GRACE = timedelta(minutes=2)


def webhook_subscription_list_visible(*, user: User) -> QuerySet[WebhookSubscription]:
    subscriptions = WebhookSubscription.objects.select_related("owner")
    if user_is_admin(user):
        return subscriptions
    return subscriptions.filter(owner_id=user.pk)


def webhook_subscription_get_visible(*, user: User, pk: int) -> WebhookSubscription:
    """Raises WebhookSubscription.DoesNotExist for one the user may not see."""
    return webhook_subscription_list_visible(user=user).get(pk=pk)


def webhook_delivery_list_visible(
    *, user: User, subscription: WebhookSubscription | None = None
) -> QuerySet[WebhookDelivery]:
    """Newest first, with their subscription."""
    deliveries = WebhookDelivery.objects.select_related("subscription", "subscription__owner")
    if not user_is_admin(user):
        deliveries = deliveries.filter(subscription__owner_id=user.pk)
    if subscription is not None:
        deliveries = deliveries.filter(subscription=subscription)
    return deliveries.order_by("-created_at", "-id")


def webhook_delivery_get_visible(*, user: User, pk: int) -> WebhookDelivery:
    """Raises WebhookDelivery.DoesNotExist for one the user may not see."""
    return webhook_delivery_list_visible(user=user).get(pk=pk)


def webhook_attempt_list(*, delivery: WebhookDelivery) -> QuerySet[WebhookAttempt]:
    return delivery.attempts.order_by("number")


def webhook_event_catalogue() -> list[dict[str, str]]:
    """Every event a subscription may listen to: its name and what it means."""
    return [{"name": name, "description": str(label)} for name, label in EVENTS.items()]


def webhook_subscriptions_for_event(*, event: str) -> list[WebhookSubscription]:
    """The active subscriptions listening to `event`, with their owners.

    `events` is a JSON list, which SQLite cannot search inside; the active subscriptions are few,
    so they are read in one query and picked here."""
    active = WebhookSubscription.objects.filter(is_active=True, owner__is_active=True)
    return [
        subscription
        for subscription in active.select_related("owner").order_by("pk")
        if event in subscription.events
    ]


def webhook_deliveries_due(*, now: datetime) -> list[int]:
    """Ids of deliveries waiting to be sent whose time has come: a retry whose task was lost
    with its worker, a send whose worker died before it finished, a new delivery whose task
    never ran."""
    waiting = Q(status=WebhookDelivery.Status.PENDING) | Q(status=WebhookDelivery.Status.RETRYING)
    due = Q(next_attempt_at__lte=now) | Q(
        next_attempt_at__isnull=True, created_at__lte=now - NEW_DELIVERY_GRACE
    )
    return list(
        WebhookDelivery.objects.filter(waiting, due)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:DUE_BATCH]
    )


def webhook_delivery_get(*, pk: int) -> WebhookDelivery | None:
    """For the worker, which acts for nobody: the delivery, or None when it is gone."""
    return WebhookDelivery.objects.filter(pk=pk).first()


def webhook_event_labels(*, names: list[str]) -> list[str]:
    """The descriptions of the named events, for people."""
    return [str(EVENTS.get(name, name)) for name in names]


def webhook_delivery_payload_text(*, delivery: WebhookDelivery) -> str:
    """The payload as indented JSON, for reading on the delivery's page."""
    return json.dumps(delivery.payload, indent=2, ensure_ascii=False, sort_keys=True)
