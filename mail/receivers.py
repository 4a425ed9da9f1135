"""Mail the providers post to /mail/anymail/<provider>/inbound/, taken in like polled mail.

Securing those webhooks: django-anymail checks each post against ANYMAIL["WEBHOOK_SECRET"]
(CRM_ANYMAIL_WEBHOOK_SECRET, "user:password" given to the provider as HTTP basic auth in the
webhook URL) and answers 400 when it is wrong; Mailgun's posts are also checked against
ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"]. Left unset, anymail only warns
(AnymailInsecureWebhookWarning) and takes posts from anyone, so production settings turn that
warning into an error: without the secret, every provider whose sole protection is basic auth
refuses every post (a server error the provider logs), and the deploy check says why.
"""

from anymail.signals import AnymailTrackingEvent, EventType

from mail.selectors import mailbox_for_addresses
from mail.services.delivery_events import email_event_record
from mail.services.inbound import inbound_accept

# Provider fields that carry our own Message-ID beside the provider's id (SendGrid's smtp-id).
OUR_MESSAGE_ID_FIELDS = ("smtp-id",)
# Bounces a provider reports as temporary though anymail files them as bounced (Postmark's soft
# bounce: a full mailbox, a server busy): the address is not suppressed for one of these.
TEMPORARY_BOUNCES = {"Type": {"SoftBounce"}}


def _is_temporary_bounce(raw: dict) -> bool:
    return any(raw.get(field) in values for field, values in TEMPORARY_BOUNCES.items())


def inbound_received(sender, event, esp_name: str, **kwargs) -> None:
    message = event.message
    recipients = [
        message.envelope_recipient,
        *(address.addr_spec for address in [*message.to, *message.cc]),
    ]
    inbound_accept(
        raw=message.as_bytes(),
        source=f"anymail:{esp_name.lower()}",
        mailbox=mailbox_for_addresses(recipients),
    )


def tracking_received(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    """A delivery or engagement event (bounce, complaint, open...): see delivery_events."""
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    event_type = event.event_type
    if event_type == EventType.BOUNCED and _is_temporary_bounce(raw):
        event_type = EventType.DEFERRED
    email_event_record(
        event_type=event_type,
        message_id=event.message_id,
        recipient=event.recipient,
        esp_name=esp_name,
        event_id=event.event_id,
        description=event.description or event.mta_response,
        metadata=event.metadata if isinstance(event.metadata, dict) else None,
        occurred_at=event.timestamp,
        message_ids=[str(raw[name]) for name in OUR_MESSAGE_ID_FIELDS if raw.get(name)],
    )
