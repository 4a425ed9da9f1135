"""The ticket status workflow: which moves are allowed, what each one records."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from crm.concurrency import StaleRecordError
from service.models import Ticket, TicketStatusChange
from service.services import tickets
from service.services.tickets import WORKFLOW
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

Status = Ticket.Status
ALLOWED = [(start, end) for start, ends in WORKFLOW.items() for end in ends]
REFUSED = [
    (start, end)
    for start in Status.values
    for end in Status.values
    if end != start and end not in WORKFLOW[start]
]
# The shortest way from a new ticket to each status.
ROUTE = {
    Status.NEW: [],
    Status.OPEN: [Status.OPEN],
    Status.PENDING: [Status.PENDING],
    Status.RESOLVED: [Status.RESOLVED],
    Status.CLOSED: [Status.CLOSED],
}


@pytest.fixture
def customer(team):
    return CustomerFactory(team=team)


@pytest.fixture
def new_ticket(agent, customer):
    return tickets.ticket_create(actor=agent, customer=customer, subject="Printer on fire")


def bring_to(ticket, status, actor):
    for step in ROUTE[status]:
        ticket = tickets.ticket_change_status(
            actor=actor, ticket=ticket, status=step, version=ticket.version
        )
    return ticket


def test_the_workflow_covers_every_status_and_refuses_some_moves():
    assert set(WORKFLOW) == set(Status.values)
    assert REFUSED, "a workflow that allows everything would make the refusal tests vacuous"


@pytest.mark.parametrize(("start", "end"), ALLOWED)
def test_an_allowed_move_changes_the_status_and_is_recorded(agent, new_ticket, start, end):
    ticket = bring_to(new_ticket, start, agent)
    history = TicketStatusChange.objects.filter(ticket=ticket).count()

    moved = tickets.ticket_change_status(
        actor=agent, ticket=ticket, status=end, version=ticket.version
    )

    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.status == end
    assert stored.version == ticket.version + 1 == moved.version
    last = TicketStatusChange.objects.filter(ticket=ticket).latest("id")
    assert TicketStatusChange.objects.filter(ticket=ticket).count() == history + 1
    assert (last.from_status, last.to_status, last.changed_by) == (start, end, agent)


@pytest.mark.parametrize(("start", "end"), REFUSED)
def test_a_refused_move_changes_nothing(agent, new_ticket, start, end):
    ticket = bring_to(new_ticket, start, agent)
    history = TicketStatusChange.objects.filter(ticket=ticket).count()

    with pytest.raises(ValidationError) as refusal:
        tickets.ticket_change_status(actor=agent, ticket=ticket, status=end, version=ticket.version)

    assert "status" in refusal.value.message_dict
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.status, stored.version) == (start, ticket.version)
    assert TicketStatusChange.objects.filter(ticket=ticket).count() == history


def test_an_unknown_status_is_refused(agent, new_ticket):
    with pytest.raises(ValidationError) as refusal:
        tickets.ticket_change_status(
            actor=agent, ticket=new_ticket, status="lost", version=new_ticket.version
        )

    assert "status" in refusal.value.message_dict


def test_creating_a_ticket_records_its_first_status(agent, new_ticket):
    (first,) = TicketStatusChange.objects.filter(ticket=new_ticket)

    assert (first.from_status, first.to_status, first.changed_by) == ("", Status.NEW, agent)


@pytest.mark.parametrize("finished", [Status.RESOLVED, Status.CLOSED])
def test_reopening_counts_and_clears_the_resolution(agent, new_ticket, finished):
    ticket = bring_to(new_ticket, finished, agent)
    assert ticket.resolved_at is not None

    ticket = tickets.ticket_reopen(actor=agent, ticket=ticket, version=ticket.version)

    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.status == Status.OPEN
    assert stored.reopened_count == 1
    assert stored.resolved_at is None
    assert stored.closed_at is None
    assert stored.resolution_seconds is None

    ticket = tickets.ticket_resolve(actor=agent, ticket=stored, version=stored.version)
    ticket = tickets.ticket_reopen(actor=agent, ticket=ticket, version=ticket.version)
    assert Ticket.objects.get(pk=ticket.pk).reopened_count == 2


def test_closing_an_unresolved_ticket_resolves_it_too(agent, new_ticket):
    ticket = tickets.ticket_change_status(
        actor=agent, ticket=new_ticket, status=Status.CLOSED, version=new_ticket.version
    )

    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.closed_at is not None
    assert stored.resolved_at == stored.closed_at
    assert stored.resolution_seconds is not None


def test_closing_a_resolved_ticket_keeps_when_it_was_resolved(agent, new_ticket):
    ticket = tickets.ticket_resolve(actor=agent, ticket=new_ticket, version=new_ticket.version)
    resolved_at = ticket.resolved_at

    ticket = tickets.ticket_change_status(
        actor=agent, ticket=ticket, status=Status.CLOSED, version=ticket.version
    )

    assert Ticket.objects.get(pk=ticket.pk).resolved_at == resolved_at


def test_a_status_change_from_a_stale_version_is_refused(agent, new_ticket):
    stale_version = new_ticket.version
    tickets.ticket_change_status(
        actor=agent, ticket=new_ticket, status=Status.OPEN, version=stale_version
    )

    with pytest.raises(StaleRecordError):
        tickets.ticket_change_status(
            actor=agent, ticket=new_ticket, status=Status.RESOLVED, version=stale_version
        )

    stored = Ticket.objects.get(pk=new_ticket.pk)
    assert (stored.status, stored.version) == (Status.OPEN, stale_version + 1)
    assert stored.resolved_at is None
    assert not TicketStatusChange.objects.filter(
        ticket=new_ticket, to_status=Status.RESOLVED
    ).exists()


def test_someone_who_cannot_change_tickets_cannot_move_them(rep, new_ticket):
    with pytest.raises(PermissionDenied):
        tickets.ticket_change_status(
            actor=rep, ticket=new_ticket, status=Status.OPEN, version=new_ticket.version
        )

    assert Ticket.objects.get(pk=new_ticket.pk).status == Status.NEW
