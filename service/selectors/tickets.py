"""Reads of tickets, every one through the visibility rule (the assignee counts as the owner;
a team's unassigned tickets are visible to the team)."""

from django.db.models import QuerySet

from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from service.models import Ticket, TicketMessage


def ticket_list_visible(*, user: User) -> QuerySet[Ticket]:
    return records_visible_to(user=user, queryset=Ticket.objects.all()).select_related(
        "customer", "assignee", "team", "category", "sla_policy"
    )


def ticket_get_visible(*, user: User, pk: int) -> Ticket:
    """The ticket if `user` may see it; Ticket.DoesNotExist otherwise."""
    return ticket_list_visible(user=user).get(pk=pk)


def ticket_thread(*, ticket: Ticket) -> QuerySet[TicketMessage]:
    return ticket.messages.select_related("author").prefetch_related("attachments")
