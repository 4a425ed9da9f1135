"""What the customer 360 page shows of a customer's tickets: each ticket's opening, status changes
and satisfaction rating on the timeline, and the open count and latest ticket on a panel.
Registered from ServiceConfig.ready() through customers.registry, so the customers app never
imports service."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from crm.accounts.field_security import field_access
from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from customers.models import Customer
from customers.registry import TimelineEntry
from customers.selectors.timeline import entry_position
from service.models import Ticket, TicketStatusChange
from service.selectors.tickets import ticket_list_visible


def _sort_key(pk: int) -> str:
    return f"{pk:012d}"


def _status_entries(
    customer: Customer, user: User, before: datetime | None, limit: int
) -> list[TimelineEntry]:
    changes = records_visible_to(
        user=user, queryset=TicketStatusChange.objects.filter(ticket__customer=customer)
    )
    if before is not None:
        changes = changes.filter(changed_at__lt=before)
    changes = changes.select_related("ticket", "changed_by").order_by("-changed_at", "-id")
    access = field_access(user=user, model=Ticket)
    entries = []
    for change in changes[:limit]:
        ticket = change.ticket
        subject = ticket.subject if access.can_see("subject") else ""
        names = {"number": ticket.number, "subject": subject}
        if not change.from_status:
            title = (
                _("Ticket %(number)s opened: %(subject)s") % names
                if subject
                else _("Ticket %(number)s opened") % names
            )
        else:
            title = _("Ticket %(number)s %(from)s → %(to)s") % {
                **names,
                "from": Ticket.Status(change.from_status).label,
                "to": Ticket.Status(change.to_status).label,
            }
        entries.append(
            TimelineEntry(
                at=change.changed_at,
                kind="ticket",
                title=title,
                body=subject if change.from_status else "",
                url=reverse("service:ticket_detail", args=[ticket.pk]),
                actor=str(change.changed_by) if change.changed_by else "",
                badges=(Ticket.Status(change.to_status).label, ticket.get_priority_display())
                if access.can_see("priority")
                else (Ticket.Status(change.to_status).label,),
                sort_key=_sort_key(change.pk),
            )
        )
    return entries


def _rating_entries(
    customer: Customer, user: User, before: datetime | None, limit: int
) -> list[TimelineEntry]:
    if not field_access(user=user, model=Ticket).can_see("satisfaction_rating"):
        return []
    rated = ticket_list_visible(user=user).filter(customer=customer, rated_at__isnull=False)
    if before is not None:
        rated = rated.filter(rated_at__lt=before)
    rated = rated.select_related(None).order_by("-rated_at", "-id")
    can_see_comment = field_access(user=user, model=Ticket).can_see("satisfaction_comment")
    return [
        TimelineEntry(
            at=ticket.rated_at,
            kind="ticket_rating",
            title=_("Ticket %(number)s rated %(rating)d of 5")
            % {"number": ticket.number, "rating": ticket.satisfaction_rating},
            body=ticket.satisfaction_comment if can_see_comment else "",
            url=reverse("service:ticket_detail", args=[ticket.pk]),
            badges=("★" * ticket.satisfaction_rating,),
            sort_key=_sort_key(ticket.pk),
        )
        for ticket in rated[:limit]
    ]


def ticket_timeline_entries(
    customer: Customer, user: User, before: datetime | None, limit: int
) -> list[TimelineEntry]:
    """The opening, status changes and ratings of the customer's tickets the user may see,
    newest first, older than `before` when given: two queries."""
    entries = _status_entries(customer, user, before, limit) + _rating_entries(
        customer, user, before, limit
    )
    entries.sort(key=entry_position, reverse=True)
    return entries[:limit]


@dataclass(frozen=True)
class CustomerTicketSummary:
    open_count: int
    total_count: int
    last_ticket: Ticket | None


def customer_ticket_summary(*, customer: Customer, user: User) -> CustomerTicketSummary:
    """How many of the customer's tickets the user sees (open, and in all), and the latest."""
    tickets = ticket_list_visible(user=user).filter(customer=customer)
    counts = (
        tickets.select_related(None)
        .order_by()
        .aggregate(
            open_count=Count("pk", filter=Q(status__in=Ticket.OPEN_STATUSES)),
            total_count=Count("pk"),
        )
    )
    last = tickets.select_related(None).order_by("-created_at", "-pk").first()
    return CustomerTicketSummary(
        open_count=counts["open_count"], total_count=counts["total_count"], last_ticket=last
    )
