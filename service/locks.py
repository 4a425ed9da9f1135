"""The one place the service app takes row locks: tickets, in primary key order."""

from collections.abc import Iterable

from service.models import Ticket


def tickets_lock(*, ticket_ids: Iterable[int]) -> dict[int, Ticket]:
    """Lock these tickets' rows until the transaction ends; returns them by id."""
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("customer", "sla_policy__calendar")
        .filter(pk__in=sorted(set(ticket_ids)))
        .order_by("pk")
    )
    return {ticket.pk: ticket for ticket in locked}
