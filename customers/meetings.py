"""Meetings held on the shared calendar become interactions of the customers who were guests.

The calendar belongs to collaboration, which customers must not import: collaboration sends
crm.signals.meeting_held and this receiver, connected in CustomersConfig.ready(), logs it.
"""

from django.contrib.contenttypes.models import ContentType

from customers.models import Customer, Interaction
from customers.services.records import interaction_log


def log_meeting_interactions(sender, **kwargs) -> None:
    """Log the meeting once on each guest customer that still exists and is not erased."""
    guest_ids = kwargs.get("guest_ids") or []
    if not guest_ids:
        return
    starts_at, ends_at = kwargs["starts_at"], kwargs["ends_at"]
    duration = int((ends_at - starts_at).total_seconds())
    event_type = ContentType.objects.get_by_natural_key("collaboration", "event")
    customers = Customer.objects.filter(pk__in=guest_ids, erased_at__isnull=True).order_by("pk")
    for customer in customers:
        interaction_log(
            actor=None,
            customer=customer,
            channel=Interaction.Channel.MEETING,
            direction=Interaction.Direction.OUTBOUND,
            occurred_at=starts_at,
            subject=kwargs.get("title", "")[:200],
            summary=kwargs.get("summary", ""),
            duration_seconds=duration or None,
            handled_by=kwargs.get("handled_by"),
            related_type=event_type,
            related_id=kwargs["event_id"],
        )
