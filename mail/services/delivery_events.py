"""What the email provider reports about mail it delivered for us (through django-anymail's
tracking webhooks): bounces, rejections, spam complaints, unsubscribes, opens and clicks.

Which message an event is about. The provider names mail by its own id, which we do not store.
So, in order:
1. the `crm_email_id` metadata `message_build` gives every message (anymail passes it to the
   provider, which sends it back with each event: Postmark's Metadata, Mailgun's user-variables,
   SendGrid's custom args);
2. our Message-ID, which some providers report (Mailgun's message-id header, SendGrid's smtp-id);
3. else the latest mail we sent to the event's recipient.
Either of the first two must also have been sent to the recipient, so a report can only touch
mail that went to the address it is about. A bounce marks the whole message bounced even when it
had other recipients: the model keeps one status per message.

Bounces, rejections and complaints suppress the address whether or not a message is found. An
event the provider sends twice leaves the same state: suppressions and consent are set, not
toggled, and an event id seen in the last week is not counted again.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.webhooks.events import event_publish
from customers.locks import customers_lock
from customers.models import Customer
from mail.models import EmailMessage, SuppressedAddress
from mail.services import engagement
from mail.services.outbound import PROVIDER_METADATA_KEY
from mail.services.suppressions import address_normalize, address_suppress

logger = logging.getLogger(__name__)

SEEN_EVENT_SECONDS = 7 * 24 * 60 * 60
# How many recent messages to a recipient are read to find the latest sent to exactly them.
RECIPIENT_CANDIDATES = 20

BOUNCED = "bounced"
REJECTED = "rejected"
COMPLAINED = "complained"
UNSUBSCRIBED = "unsubscribed"
OPENED = "opened"
CLICKED = "clicked"
SUPPRESSING = {
    BOUNCED: SuppressedAddress.Reason.BOUNCED,
    REJECTED: SuppressedAddress.Reason.REJECTED,
    COMPLAINED: SuppressedAddress.Reason.COMPLAINED,
}


def _sent_to(message: EmailMessage, recipient: str) -> bool:
    addresses = [*message.to_addresses, *message.cc_addresses]
    return not recipient or recipient in {address_normalize(a) for a in addresses}


def _outbound() -> QuerySet[EmailMessage]:
    return EmailMessage.objects.filter(direction=EmailMessage.Direction.OUTBOUND)


def email_for_event(
    *, recipient: str, metadata: dict | None = None, message_ids: list[str] = ()
) -> EmailMessage | None:
    """The message a provider's event is about, found as the module says; None when none is."""
    recipient = address_normalize(recipient)
    candidates = []
    pk = str((metadata or {}).get(PROVIDER_METADATA_KEY) or "")
    if pk.isdigit():
        candidates.append(_outbound().filter(pk=int(pk)).first())
    ids = {value.strip() for value in message_ids if value and value.strip()}
    ids |= {f"<{value.strip('<>')}>" for value in ids}
    if ids:
        candidates.extend(_outbound().filter(message_id__in=ids))
    for message in candidates:
        if message is not None and _sent_to(message, recipient):
            return message
    if not recipient:
        return None
    recent = (
        _outbound()
        .exclude(sent_at=None)
        .filter(to_addresses__icontains=recipient)
        .order_by("-sent_at", "-id")[:RECIPIENT_CANDIDATES]
    )
    return next((message for message in recent if _sent_to(message, recipient)), None)


def _customers_of(message: EmailMessage | None, recipient: str) -> list[int]:
    if message is not None and message.customer_id is not None:
        return [message.customer_id]
    if not recipient:
        return []
    return list(
        Customer.objects.filter(email__iexact=recipient, erased_at=None)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _bounced(message: EmailMessage, at: datetime) -> None:
    changed = (
        _outbound()
        .filter(pk=message.pk)
        .exclude(status=EmailMessage.Status.BOUNCED)
        .update(
            status=EmailMessage.Status.BOUNCED,
            bounced_at=Coalesce("bounced_at", Value(at)),
            next_attempt_at=None,
        )
    )
    if changed:
        message.refresh_from_db(fields=["status", "bounced_at", "next_attempt_at"])
        engagement.engagement_listeners_tell(message=message, event=engagement.BOUNCED)
        event_publish(event="email.bounced", record=message)


def _complained(message: EmailMessage | None, customer_ids: list[int]) -> None:
    # Written for the staff who read the timeline, in the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Marked our email as spam")
        summary = (
            _("The email provider reported a spam complaint about “%(subject)s”.")
            % {"subject": message.subject}
            if message is not None and message.subject
            else _("The email provider reported a spam complaint.")
        )
    customers = customers_lock(customer_ids=customer_ids)
    withdrawn = False
    for customer in customers.values():
        withdrawn |= engagement.customer_consent_withdraw(
            customer=customer, subject=subject, summary=summary
        )
    if withdrawn and message is not None:
        engagement.engagement_listeners_tell(message=message, event=engagement.COMPLAINED)


def email_event_record(
    *,
    event_type: str,
    message_id: str | None = None,
    recipient: str | None = None,
    esp_name: str = "",
    event_id: str | None = None,
    description: str | None = None,
    metadata: dict | None = None,
    occurred_at: datetime | None = None,
    message_ids: list[str] = (),
) -> EmailMessage | None:
    """Act on one event the provider reported (anymail's normalized `event_type`); returns the
    message it was found to be about, if any. `message_ids` are further ids the event carries
    besides the provider's `message_id`."""
    recipient = address_normalize(recipient or "")
    seen_key = f"mail:provider-event:{esp_name}:{event_id}" if event_id else ""
    if seen_key and not cache.add(seen_key, True, SEEN_EVENT_SECONDS):
        logger.info("%s event %s already taken in", esp_name, event_id)
        return None
    try:
        return _record(
            event_type=event_type,
            recipient=recipient,
            esp_name=esp_name,
            event_id=event_id or "",
            description=description or "",
            metadata=metadata,
            occurred_at=occurred_at or timezone.now(),
            message_ids=[message_id or "", *message_ids],
        )
    except BaseException:
        if seen_key:
            cache.delete(seen_key)
        raise


def _record(
    *,
    event_type: str,
    recipient: str,
    esp_name: str,
    event_id: str,
    description: str,
    metadata: dict | None,
    occurred_at: datetime,
    message_ids: list[str],
) -> EmailMessage | None:
    known = {*SUPPRESSING, UNSUBSCRIBED, OPENED, CLICKED}
    if event_type not in known:
        logger.debug("%s reported %s for %s", esp_name, event_type, recipient)
        return None
    message = email_for_event(recipient=recipient, metadata=metadata, message_ids=message_ids)
    if event_type == OPENED:
        if message is not None:
            engagement.email_open_record(message_id=message.pk)
        return message
    if event_type == CLICKED:
        if message is not None:
            engagement.email_click_record(message_id=message.pk)
        return message
    customer_ids = _customers_of(message, recipient)
    if event_type == UNSUBSCRIBED:
        for customer_id in customer_ids:
            engagement.customer_unsubscribe(
                customer_id=customer_id,
                message_id=message.pk if message is not None else None,
                source=engagement.UnsubscribeSource.PROVIDER,
            )
        return message
    with transaction.atomic():
        if recipient:
            address_suppress(
                actor=None,
                address=recipient,
                reason=SUPPRESSING[event_type],
                detail=description,
                provider=esp_name,
                event_id=event_id,
            )
        else:
            logger.warning("%s reported %s without a recipient", esp_name, event_type)
        if event_type == COMPLAINED:
            _complained(message, customer_ids)
        elif message is not None:
            _bounced(message, occurred_at)
    return message
