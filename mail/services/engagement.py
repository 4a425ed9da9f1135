"""What recipients do with the mail the CRM sends: open it, click its links, unsubscribe from
marketing mail, or mark it as spam.

Opens and clicks come from our own pixel and click links, or from the provider's tracking events;
both count on the message, in SQL so that simultaneous hits all count, and only when tracking is
on (CRM_EMAIL_TRACKING, and the message's own switch). Withdrawing consent goes through the
customers service, so the customer's history records the change, and is logged on their
timeline. The campaign app's engagement listeners are told about campaign mail, within the same
transaction.
"""

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.locks import customers_lock
from customers.models import Customer, Interaction
from customers.services.customers import customer_update
from customers.services.records import interaction_log
from mail import registry
from mail.models import EmailMessage
from mail.selectors import CONSENT_WITHDRAWN_REASON

OPENED = "opened"
CLICKED = "clicked"
BOUNCED = "bounced"
COMPLAINED = "complained"
UNSUBSCRIBED = "unsubscribed"


class UnsubscribeSource:
    LINK = "link"
    ONE_CLICK = "one_click"
    PROVIDER = "provider"

    LABELS = {
        LINK: gettext_lazy("the unsubscribe link in an email"),
        ONE_CLICK: gettext_lazy("the unsubscribe button of their mail program"),
        PROVIDER: gettext_lazy("the email provider's unsubscribe page"),
    }


def engagement_listeners_tell(*, message: EmailMessage, event: str) -> None:
    """Tell the engagement listeners about campaign mail; other mail belongs to no campaign."""
    if message.kind != EmailMessage.Kind.CAMPAIGN:
        return
    for listener in registry.engagement_listeners():
        listener(message, event)


def _tracked_message(message_id: int) -> EmailMessage | None:
    if not settings.CRM_EMAIL_TRACKING:
        return None
    return EmailMessage.objects.filter(
        pk=message_id, direction=EmailMessage.Direction.OUTBOUND, tracking=True
    ).first()


def _count(*, message_id: int, counter: str, first_at: str, event: str) -> bool:
    message = _tracked_message(message_id)
    if message is None:
        return False
    with transaction.atomic():
        EmailMessage.objects.filter(pk=message.pk).update(
            **{
                counter: F(counter) + 1,
                first_at: Coalesce(F(first_at), Value(timezone.now())),
            }
        )
        message.refresh_from_db(fields=[counter, first_at])
        engagement_listeners_tell(message=message, event=event)
    return True


def email_open_record(*, message_id: int) -> bool:
    """Count one open of the email; False (and nothing counted) when it is not tracked."""
    return _count(message_id=message_id, counter="open_count", first_at="opened_at", event=OPENED)


def email_click_record(*, message_id: int) -> bool:
    """Count one click on a link of the email; False when it is not tracked."""
    return _count(
        message_id=message_id, counter="click_count", first_at="clicked_at", event=CLICKED
    )


def customer_consent_withdraw(*, customer: Customer, subject: str, summary: str) -> bool:
    """Withdraw the customer's marketing consent and log why on their timeline; False, and
    nothing written, when they had none. Run inside a transaction holding the customer's lock."""
    if not customer.marketing_consent:
        return False
    # simple-history writes the instance's _change_reason on the history entry of this save.
    customer._change_reason = CONSENT_WITHDRAWN_REASON
    try:
        customer_update(actor=None, customer=customer, marketing_consent=False)
    finally:
        del customer._change_reason
    interaction_log(
        actor=None,
        customer=customer,
        channel=Interaction.Channel.EMAIL,
        direction=Interaction.Direction.INBOUND,
        subject=subject[:200],
        summary=summary,
    )
    return True


def _through(message: EmailMessage | None) -> str:
    if message is None or not message.subject:
        return ""
    return _("It came with the email “%(subject)s”.") % {"subject": message.subject}


def customer_unsubscribe(*, customer_id: int, message_id: int | None = None, source: str) -> bool:
    """The customer no longer wants marketing email: their consent is withdrawn, which every
    later campaign send honours. Doing it again changes nothing; returns whether this call
    withdrew it. Raises Customer.DoesNotExist for a customer who is gone."""
    with transaction.atomic():
        customer = customers_lock(customer_ids=[customer_id]).get(customer_id)
        if customer is None:
            raise Customer.DoesNotExist(customer_id)
        message = (
            EmailMessage.objects.filter(pk=message_id, customer_id=customer_id).first()
            if message_id is not None
            else None
        )
        # Written for the staff who read the timeline, not for the visitor who unsubscribed.
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Unsubscribed from marketing email")
            summary = " ".join(
                part
                for part in (
                    _("Through %(source)s.")
                    % {"source": UnsubscribeSource.LABELS.get(source, source)},
                    _through(message),
                )
                if part
            )
        withdrawn = customer_consent_withdraw(customer=customer, subject=subject, summary=summary)
        if withdrawn and message is not None:
            engagement_listeners_tell(message=message, event=UNSUBSCRIBED)
    return withdrawn
