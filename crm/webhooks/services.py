"""Writes of webhooks: subscriptions, the deliveries an event makes, and sending them.

Sending. A delivery is sent by a Celery task queued when it is made. To send, a worker first
claims the delivery: under a row lock it checks the delivery still waits and is due, counts the
attempt and pushes `next_attempt_at` past the time a send can take. A second task for the same
delivery (a redelivered Celery message, the sweep) then finds it not due and does nothing, and
a worker that dies mid-send leaves a delivery the sweep picks up once that time has passed.
Nothing is held locked while the request is out.

After a failed attempt the delivery waits `BACKOFF_BASE_SECONDS · 2^(attempt-1)` (with up to a
fifth more at random, so retries of many deliveries spread out) and is tried again, up to
`CRM_WEBHOOK_MAX_ATTEMPTS` times; then it has failed. Each failed delivery counts toward its
subscription's failures in a row (a delivered one resets them), and at
`CRM_WEBHOOK_DISABLE_AFTER` the subscription is switched off and its owner told, through
`crm.signals.webhook_subscription_disabled`.
"""

import json
import random
import secrets
import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.accounts.field_security import field_access, secured_field_name
from crm.accounts.models import User
from crm.accounts.selectors import user_is_admin
from crm.signals import webhook_subscription_disabled
from crm.webhooks import selectors, ssrf, transport
from crm.webhooks.events import EVENTS, record_type_for
from crm.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

PING = "ping"
SUBSCRIPTION_EDITABLE_FIELDS = (
    "name",
    "target_url",
    "events",
    "is_active",
    "allow_private_network",
)
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 6 * 60 * 60
BACKOFF_JITTER = 0.2
WAITING = (WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING)


def _acts_as_admin(actor: User | None) -> bool:
    # No actor: the system itself (a command, a data migration).
    return actor is None or user_is_admin(actor)


def _json_ready(value: dict) -> dict:
    """What the JSON column stores and the receiver gets: dates as ISO text, decimals as text."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


# Subscriptions -----------------------------------------------------------------------------------


def _events_clean(events) -> list[str]:
    if not isinstance(events, list | tuple) or not events:
        raise ValidationError({"events": [_("Choose at least one event.")]})
    unknown = sorted({str(name) for name in events if name not in EVENTS})
    if unknown:
        raise ValidationError(
            {"events": [_("Unknown events: %(names)s.") % {"names": ", ".join(unknown)}]}
        )
    return list(dict.fromkeys(events))


def _target_check(*, target_url: str, allow_private_network: bool) -> None:
    try:
        URLValidator(schemes=list(ssrf.ALLOWED_SCHEMES))(target_url)
    except ValidationError as exc:
        raise ValidationError(
            {"target_url": [_("Enter a full http:// or https:// address.")]}
        ) from exc
    if len(target_url) > WebhookSubscription._meta.get_field("target_url").max_length:
        raise ValidationError({"target_url": [_("The address is too long.")]})
    try:
        ssrf.target_check(url=target_url, allow_private_network=allow_private_network)
    except ssrf.UnsafeTarget as exc:
        raise ValidationError({"target_url": [str(exc)]}) from exc


def _subscription_check(
    *, name: str, target_url: str, events, allow_private_network: bool
) -> list[str]:
    """The events, cleaned, once everything is found in order; a ValidationError naming every
    field that is not."""
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = [_("Give the subscription a name.")]
    cleaned: list[str] = []
    try:
        cleaned = _events_clean(events)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        _target_check(target_url=target_url, allow_private_network=allow_private_network)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _private_network_refused() -> ValidationError:
    return ValidationError(
        {
            "allow_private_network": [
                _("Only an administrator may let a webhook call private addresses.")
            ]
        }
    )


def webhook_subscription_create(
    *,
    actor: User,
    name: str,
    target_url: str,
    events: list[str],
    is_active: bool = True,
    allow_private_network: bool = False,
    owner: User | None = None,
) -> WebhookSubscription:
    """A subscription owned by `owner` (the actor unless an admin names someone else), with a
    new signing secret. Only an admin may allow private target addresses."""
    owner = owner or actor
    if not _acts_as_admin(actor):
        if allow_private_network:
            raise _private_network_refused()
        if owner != actor:
            raise ValidationError({"owner": [_("You may only create your own webhooks.")]})
    events = _subscription_check(
        name=name,
        target_url=target_url,
        events=events,
        allow_private_network=allow_private_network,
    )
    return WebhookSubscription.objects.create(
        owner=owner,
        name=name.strip(),
        target_url=target_url,
        secret=secrets.token_hex(32),
        events=events,
        is_active=is_active,
        allow_private_network=allow_private_network,
    )


def webhook_subscription_update(
    *, actor: User, subscription: WebhookSubscription, **changes
) -> WebhookSubscription:
    """Change the fields in SUBSCRIPTION_EDITABLE_FIELDS. An admin's leave to call private
    addresses covers the address the admin saw: when anyone else changes the address, the leave
    goes. Switching a subscription back on clears its failures, as enabling does."""
    unknown = set(changes) - set(SUBSCRIPTION_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    values = {name: getattr(subscription, name) for name in SUBSCRIPTION_EDITABLE_FIELDS}
    values |= changes
    if not _acts_as_admin(actor):
        url_changed = values["target_url"] != subscription.target_url
        if values["allow_private_network"] and (
            not subscription.allow_private_network
            or (url_changed and "allow_private_network" in changes)
        ):
            raise _private_network_refused()
        if url_changed:
            values["allow_private_network"] = False
    values["events"] = _subscription_check(
        name=values["name"],
        target_url=values["target_url"],
        events=values["events"],
        allow_private_network=values["allow_private_network"],
    )
    values["name"] = values["name"].strip()
    switched_on = values["is_active"] and not subscription.is_active
    for name, value in values.items():
        setattr(subscription, name, value)
    fields = [*SUBSCRIPTION_EDITABLE_FIELDS, "updated_at"]
    if switched_on:
        _failures_clear(subscription)
        fields += ["consecutive_failures", "disabled_at", "disabled_reason"]
    subscription.save(update_fields=fields)
    return subscription


def webhook_subscription_delete(*, actor: User, subscription: WebhookSubscription) -> None:
    """Delete the subscription with its delivery log."""
    subscription.delete()


def _failures_clear(subscription: WebhookSubscription) -> None:
    subscription.consecutive_failures = 0
    subscription.disabled_at = None
    subscription.disabled_reason = ""


def webhook_subscription_enable(
    *, actor: User, subscription: WebhookSubscription
) -> WebhookSubscription:
    """Switch the subscription on again, its count of failures in a row back to nought."""
    subscription.is_active = True
    _failures_clear(subscription)
    subscription.save(
        update_fields=[
            "is_active",
            "consecutive_failures",
            "disabled_at",
            "disabled_reason",
            "updated_at",
        ]
    )
    return subscription


def webhook_secret_rotate(*, actor: User, subscription: WebhookSubscription) -> WebhookSubscription:
    """A new signing secret; requests are signed with it from now on (retries included)."""
    subscription.secret = secrets.token_hex(32)
    subscription.save(update_fields=["secret", "updated_at"])
    return subscription


# Deliveries --------------------------------------------------------------------------------------


def _send_queue(delivery_id: int, *, countdown: float | None = None) -> None:
    # Imported here: the task module imports this one.
    from crm.webhooks.tasks import webhook_delivery_send_task

    # On commit: the worker must find the delivery (and its new state) when the task runs.
    transaction.on_commit(
        lambda: webhook_delivery_send_task.apply_async(args=[delivery_id], countdown=countdown)
    )


def _payload_for(payload: dict, *, owner: User, model: type[Model]) -> dict:
    """The payload without the record's fields hidden from the subscription's owner, as the
    API would answer them (crm.accounts.field_security)."""
    hidden_fields = record_type_for(model).hidden_fields
    hidden = hidden_fields(owner) if hidden_fields else field_access(user=owner, model=model).hidden
    data = payload["data"]
    if not hidden or not isinstance(data, dict):
        return payload

    def shown(name: str) -> bool:
        return secured_field_name(model, name) not in hidden

    changes = payload["changes"]
    if isinstance(changes.get("changed_fields"), list):
        changes = {**changes, "changed_fields": list(filter(shown, changes["changed_fields"]))}
    return {
        **payload,
        "data": {name: value for name, value in data.items() if shown(name)},
        "changes": changes,
    }


def _event_payload(*, event_id: uuid.UUID, event: str, data: dict, changes: dict) -> dict:
    return _json_ready(
        {
            "id": str(event_id),
            "event": event,
            "occurred_at": timezone.now().isoformat(),
            "data": data,
            "changes": changes,
        }
    )


def webhook_deliveries_create(*, event: str, record: Model, extra: dict) -> list[WebhookDelivery]:
    """One delivery per active subscription to `event` whose owner may see `record`, each
    queued for sending. Called on commit by `event_publish`."""
    return webhook_deliveries_create_many(event=event, announcements=[(record, extra)])


def webhook_deliveries_create_many(
    *, event: str, announcements: list[tuple[Model, dict]]
) -> list[WebhookDelivery]:
    """`webhook_deliveries_create` for many records of one model at once (a bulk upsert): one
    query for the subscriptions and one per subscription for what its owner may see, however
    many records; nothing more when nobody listens.

    Every delivery of one record's event carries the same payload and event id:
    `{"id", "event", "occurred_at", "data": <the record>, "changes": <extra>}`."""
    subscriptions = selectors.webhook_subscriptions_for_event(event=event)
    if not subscriptions or not announcements:
        return []
    record_type = record_type_for(type(announcements[0][0]))
    ids = [record.pk for record, _extra in announcements]
    seen_by = {
        subscription.pk: set(
            record_type.visible(user=subscription.owner)
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )
        for subscription in subscriptions
    }
    deliveries = []
    for record, extra in announcements:
        listeners = [s for s in subscriptions if record.pk in seen_by[s.pk]]
        if not listeners:
            continue
        event_id = uuid.uuid4()
        payload = _event_payload(
            event_id=event_id, event=event, data=record_type.payload(record), changes=extra or {}
        )
        deliveries += [
            WebhookDelivery(
                subscription=subscription,
                event=event,
                event_id=event_id,
                payload=_payload_for(payload, owner=subscription.owner, model=type(record)),
            )
            for subscription in listeners
        ]
    if not deliveries:
        return []
    with transaction.atomic():
        deliveries = WebhookDelivery.objects.bulk_create(deliveries)
        for delivery in deliveries:
            _send_queue(delivery.pk)
    return deliveries


def webhook_record_send_refusal(*, subscription: WebhookSubscription, record: Model) -> str:
    """Why an event about `record` may not be sent to `subscription` ("" when it may): the
    subscription is switched off, or its owner may not see the record."""
    if not subscription.is_active:
        return _("The webhook %(name)s is switched off.") % {"name": subscription.name}
    visible = record_type_for(type(record)).visible(user=subscription.owner)
    if not visible.filter(pk=record.pk).exists():
        return _("The owner of the webhook %(name)s may not see this record.") % {
            "name": subscription.name
        }
    return ""


def webhook_record_send(
    *, subscription: WebhookSubscription, event: str, record: Model, extra: dict
) -> WebhookDelivery:
    """Send one event about `record` to one subscription whatever events it listens to (a
    workflow rule calling a webhook), signed and retried like any delivery, with the fields its
    owner may not see left out."""
    refusal = webhook_record_send_refusal(subscription=subscription, record=record)
    if refusal:
        raise ValidationError({"subscription": refusal})
    event_id = uuid.uuid4()
    payload = _event_payload(
        event_id=event_id,
        event=event,
        data=record_type_for(type(record)).payload(record),
        changes=extra,
    )
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            subscription=subscription,
            event=event,
            event_id=event_id,
            payload=_payload_for(payload, owner=subscription.owner, model=type(record)),
        )
        _send_queue(delivery.pk)
    return delivery


def webhook_test_ping(*, actor: User, subscription: WebhookSubscription) -> WebhookDelivery:
    """Send a `ping` event, to check the receiver and its signature check. A ping is tried
    once, is sent even to a subscription that is switched off, and does not count toward its
    failures in a row."""
    event_id = uuid.uuid4()
    payload = _event_payload(
        event_id=event_id,
        event=PING,
        data={
            "subscription": {
                "id": subscription.pk,
                "name": subscription.name,
                "events": subscription.events,
            }
        },
        changes={},
    )
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            subscription=subscription, event=PING, event_id=event_id, payload=payload
        )
        _send_queue(delivery.pk)
    return delivery


def webhook_delivery_redeliver(*, actor: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the delivery's event again, as a new delivery with the same event id and payload
    (so a receiver that already has it can tell)."""
    if not delivery.subscription.is_active and delivery.event != PING:
        raise ValidationError(
            _("The subscription is switched off; switch it on before redelivering.")
        )
    with transaction.atomic():
        again = WebhookDelivery.objects.create(
            subscription=delivery.subscription,
            event=delivery.event,
            event_id=delivery.event_id,
            payload=delivery.payload,
        )
        _send_queue(again.pk)
    return again


def webhook_backoff_seconds(*, attempt: int) -> float:
    """How long to wait after failed attempt number `attempt` (1, 2, …)."""
    delay = min(BACKOFF_BASE_SECONDS * 2 ** (attempt - 1), BACKOFF_MAX_SECONDS)
    return delay * (1 + BACKOFF_JITTER * random.random())


def _lease() -> timedelta:
    # Longer than a send can take: connecting, sending and reading each wait up to the timeout.
    return timedelta(seconds=3 * settings.CRM_WEBHOOK_TIMEOUT_SECONDS + 60)


def _delivery_claim(*, delivery_id: int, now: datetime) -> WebhookDelivery | None:
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status not in WAITING:
            return None
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return None
        delivery.attempt_count += 1
        delivery.next_attempt_at = now + _lease()
        delivery.save(update_fields=["attempt_count", "next_attempt_at"])
    return delivery


def _request_body(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


def _attempt_outcome(delivery: WebhookDelivery) -> transport.Outcome:
    subscription = delivery.subscription
    if not subscription.is_active and delivery.event != PING:
        return transport.Outcome(
            status_code=None,
            error=_("The subscription is switched off; nothing was sent."),
            excerpt="",
            duration_ms=0,
        )
    try:
        addresses = ssrf.target_check(
            url=subscription.target_url,
            allow_private_network=subscription.allow_private_network,
        )
    except ssrf.UnsafeTarget as exc:
        return transport.Outcome(status_code=None, error=str(exc)[:500], excerpt="", duration_ms=0)
    body = _request_body(delivery)
    timestamp = int(time.time())
    return transport.post_signed(
        url=subscription.target_url,
        addresses=addresses,
        body=body,
        headers={
            transport.EVENT_HEADER: delivery.event,
            transport.DELIVERY_HEADER: str(delivery.pk),
            transport.TIMESTAMP_HEADER: str(timestamp),
            transport.SIGNATURE_HEADER: transport.signature_for(
                secret=subscription.secret, timestamp=timestamp, body=body
            ),
        },
        timeout=settings.CRM_WEBHOOK_TIMEOUT_SECONDS,
    )


def webhook_delivery_send(
    *, delivery: WebhookDelivery, now: datetime | None = None
) -> WebhookDelivery:
    """Make the delivery's next attempt if it waits and is due (`now`, by default the present,
    decides); a delivered or failed one, or one not yet due, is left alone. Returns the delivery
    as it stands afterwards."""
    now = now or timezone.now()
    claimed = _delivery_claim(delivery_id=delivery.pk, now=now)
    if claimed is None:
        return WebhookDelivery.objects.filter(pk=delivery.pk).first() or delivery
    outcome = _attempt_outcome(claimed)
    return _attempt_record(delivery=claimed, outcome=outcome, now=now)


def _attempt_record(
    *, delivery: WebhookDelivery, outcome: transport.Outcome, now: datetime
) -> WebhookDelivery:
    number = delivery.attempt_count
    with transaction.atomic():
        # Subscription before delivery, the order every writer of both takes.
        subscription = (
            WebhookSubscription.objects.select_for_update()
            .select_related("owner")
            .get(pk=delivery.subscription_id)
        )
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            status_code=outcome.status_code,
            error=outcome.error[:500],
            response_excerpt=outcome.excerpt[:1000],
            duration_ms=outcome.duration_ms,
        )
        delivery.last_status_code = outcome.status_code
        is_ping = delivery.event == PING
        switched_off = not subscription.is_active and not is_ping
        if outcome.succeeded:
            delivery.status = WebhookDelivery.Status.SUCCEEDED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
            if not is_ping and subscription.consecutive_failures:
                subscription.consecutive_failures = 0
                subscription.save(update_fields=["consecutive_failures", "updated_at"])
        elif is_ping or switched_off or number >= settings.CRM_WEBHOOK_MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
            if not (is_ping or switched_off):
                _failure_count(subscription=subscription, outcome=outcome, now=now)
        else:
            delay = webhook_backoff_seconds(attempt=number)
            delivery.status = WebhookDelivery.Status.RETRYING
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            _send_queue(delivery.pk, countdown=delay)
        delivery.save(
            update_fields=["status", "last_status_code", "next_attempt_at", "delivered_at"]
        )
    return delivery


def _answer_text(outcome: transport.Outcome) -> str:
    if outcome.status_code is not None:
        return _("HTTP %(code)s") % {"code": outcome.status_code}
    return outcome.error


def _failure_count(
    *, subscription: WebhookSubscription, outcome: transport.Outcome, now: datetime
) -> None:
    subscription.consecutive_failures += 1
    fields = ["consecutive_failures", "updated_at"]
    if subscription.is_active and (
        subscription.consecutive_failures >= settings.CRM_WEBHOOK_DISABLE_AFTER
    ):
        subscription.is_active = False
        subscription.disabled_at = now
        subscription.disabled_reason = (
            _("%(count)d deliveries in a row failed; the last answer: %(answer)s")
            % {"count": subscription.consecutive_failures, "answer": _answer_text(outcome)}
        )[:300]
        fields += ["is_active", "disabled_at", "disabled_reason"]
        # On commit: the owner hears of it only once it is so.
        transaction.on_commit(
            lambda: webhook_subscription_disabled.send(
                sender=WebhookSubscription,
                subscription_id=subscription.pk,
                name=subscription.name,
                owner=subscription.owner,
                reason=subscription.disabled_reason,
                url=reverse("webhooks:subscription_detail", args=[subscription.pk]),
            )
        )
    subscription.save(update_fields=fields)


def webhook_deliveries_queue_due(*, now: datetime | None = None) -> int:
    """Queue a send for every delivery whose time has come but that no task is sending (see
    the module's docstring); returns how many were queued."""
    due = selectors.webhook_deliveries_due(now=now or timezone.now())
    for delivery_id in due:
        _send_queue(delivery_id)
    return len(due)


def webhook_deliveries_purge(*, now: datetime | None = None) -> int:
    """Delete the deliveries (with their attempts) that finished more than
    CRM_WEBHOOK_LOG_DAYS ago; returns how many. Deliveries still being tried are kept however
    old they are."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CRM_WEBHOOK_LOG_DAYS)
    finished = WebhookDelivery.objects.filter(
        created_at__lt=cutoff,
        status__in=[WebhookDelivery.Status.SUCCEEDED, WebhookDelivery.Status.FAILED],
    )
    deleted, _by_model = finished.delete()
    return deleted
