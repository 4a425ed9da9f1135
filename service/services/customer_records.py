"""What service holds about one customer, for the customers app's merge, data export and erasure.

Registered with customers.registry from ServiceConfig.ready(); customers never imports this.
"""

from datetime import datetime

from customers.models import Customer
from service.models import Ticket, TicketAttachment, TicketMessage


def customer_tickets_merge(merged: Customer, kept: Customer) -> int:
    """Move the merged customer's tickets (with their threads and surveys) to the kept one."""
    return Ticket.objects.filter(customer=merged).update(customer=kept)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def customer_tickets_export(customer: Customer) -> list[dict]:
    """Each ticket with the messages exchanged with the customer (internal notes stay out:
    they are the team's working notes, not data given by or sent to the person)."""
    tickets = Ticket.objects.filter(customer=customer).order_by("created_at", "pk")
    messages = (
        TicketMessage.objects.filter(ticket__customer=customer)
        .exclude(kind=TicketMessage.Kind.NOTE)
        .order_by("created_at", "pk")
        .values("ticket_id", "kind", "body", "created_at")
    )
    by_ticket: dict[int, list[dict]] = {}
    for message in messages:
        by_ticket.setdefault(message["ticket_id"], []).append(
            {
                "kind": message["kind"],
                "text": message["body"],
                "at": _iso(message["created_at"]),
            }
        )
    return [
        {
            "number": ticket.number,
            "subject": ticket.subject,
            "type": ticket.type,
            "channel": ticket.channel,
            "status": ticket.status,
            "created_at": _iso(ticket.created_at),
            "resolved_at": _iso(ticket.resolved_at),
            "messages": by_ticket.get(ticket.pk, []),
        }
        for ticket in tickets
    ]


def customer_tickets_erase(customer: Customer) -> None:
    """Remove what the person wrote or sent: ticket descriptions, their messages and every
    attachment, from the tickets and from their earlier versions. The tickets stay, with their
    timings, for the service figures."""
    Ticket.objects.filter(customer=customer).update(description="")
    Ticket.history.filter(customer_id=customer.pk).update(description="", satisfaction_comment="")
    TicketMessage.objects.filter(
        ticket__customer=customer, kind=TicketMessage.Kind.CUSTOMER
    ).update(body="")
    for attachment in TicketAttachment.objects.filter(message__ticket__customer=customer):
        attachment.file.delete(save=False)
        attachment.delete()
