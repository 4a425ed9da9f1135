"""The ticket list's queues (mine, my team's, unassigned, breaching soon, all), its filters and
sorts, each through the visibility rule, at a cost that does not grow with the tickets."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from service.models import Ticket
from service.selectors.queues import (
    QUEUE_ALL,
    QUEUE_BREACHING,
    QUEUE_MINE,
    QUEUE_TEAM,
    QUEUE_UNASSIGNED,
    SORT_DUE,
    SORT_PRIORITY,
    ticket_queue,
    ticket_queue_counts,
    tickets_sorted,
)
from tests.customers.factories import CustomerFactory
from tests.service.factories import TicketFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("service:ticket_list")


def numbers(tickets) -> set[str]:
    return {ticket.number for ticket in tickets}


@pytest.fixture
def tickets(agent, agent_teammate, other_team_agent, team, other_team):
    """One ticket per situation an agent of `team` meets."""
    return {
        "mine": TicketFactory(number="T-MINE", assignee=agent, team=team),
        "teammate": TicketFactory(number="T-MATE", assignee=agent_teammate, team=team),
        "unassigned": TicketFactory(number="T-FREE", assignee=None, team=team),
        "other": TicketFactory(number="T-OTHER", assignee=other_team_agent, team=other_team),
        "other_unassigned": TicketFactory(number="T-OTHER-FREE", assignee=None, team=other_team),
    }


def test_mine_team_unassigned_and_all_queues_hold_the_right_tickets(agent, tickets):
    # Given tickets of the agent, a teammate, the team's pool and another team
    # When each queue is read
    # Then each holds its own, and none holds the other team's
    assert numbers(ticket_queue(user=agent, queue=QUEUE_MINE)) == {"T-MINE"}
    assert numbers(ticket_queue(user=agent, queue=QUEUE_TEAM)) == {"T-MINE", "T-MATE", "T-FREE"}
    assert numbers(ticket_queue(user=agent, queue=QUEUE_UNASSIGNED)) == {"T-FREE"}
    assert numbers(ticket_queue(user=agent, queue=QUEUE_ALL)) == {"T-MINE", "T-MATE", "T-FREE"}


def test_breaching_soon_holds_open_unpaused_tickets_due_within_two_hours_or_overdue(agent, team):
    now = timezone.now()

    def make(number, **values):
        values.setdefault("status", Ticket.Status.OPEN)
        return TicketFactory(number=number, team=team, **values)

    make("T-RESP-SOON", first_response_due_at=now + timedelta(minutes=90))
    make("T-RESP-LATE", first_response_due_at=now + timedelta(hours=3))
    make("T-RESP-PAST", first_response_due_at=now - timedelta(hours=5))
    make(
        "T-RESPONDED",
        first_response_due_at=now - timedelta(hours=1),
        first_responded_at=now - timedelta(hours=2),
        resolution_due_at=now + timedelta(days=1),
    )
    make("T-RESOLVE-SOON", resolution_due_at=now + timedelta(minutes=30))
    make(
        "T-PAUSED",
        status=Ticket.Status.PENDING,
        sla_paused_at=now - timedelta(hours=1),
        resolution_due_at=now + timedelta(minutes=30),
    )
    TicketFactory(
        number="T-RESOLVED",
        team=team,
        status=Ticket.Status.RESOLVED,
        resolution_due_at=now - timedelta(hours=1),
    )

    breaching = ticket_queue(user=agent, queue=QUEUE_BREACHING, now=now)

    assert numbers(breaching) == {"T-RESP-SOON", "T-RESP-PAST", "T-RESOLVE-SOON"}


def test_queue_counts_count_open_tickets_in_one_aggregate(
    agent, tickets, django_assert_max_num_queries
):
    Ticket.objects.filter(number="T-MATE").update(status=Ticket.Status.CLOSED)

    # The aggregate, plus the user's role, teams and permissions (read once per request).
    with django_assert_max_num_queries(7):
        counts = ticket_queue_counts(user=agent)

    assert counts[QUEUE_MINE] == 1
    assert counts[QUEUE_TEAM] == 2
    assert counts[QUEUE_UNASSIGNED] == 1
    assert counts[QUEUE_ALL] == 3


def test_list_page_shows_the_chosen_queue_and_never_another_teams_ticket(agent_client, tickets):
    response = agent_client.get(LIST_URL, {"queue": QUEUE_TEAM})

    assert response.status_code == 200
    shown = numbers(response.context["page"])
    assert shown == {"T-MINE", "T-MATE", "T-FREE"}
    assert b"T-OTHER" not in response.content


def test_list_defaults_to_my_tickets(agent_client, tickets):
    response = agent_client.get(LIST_URL)

    assert numbers(response.context["page"]) == {"T-MINE"}


def test_filters_by_number_subject_customer_name_and_status(agent_client, agent, team):
    ada = CustomerFactory(name="Ada Lovelace")
    TicketFactory(number="T-0000001", subject="Printer on fire", assignee=agent, customer=ada)
    TicketFactory(
        number="T-0000002",
        subject="Refund",
        assignee=agent,
        status=Ticket.Status.PENDING,
    )

    def shown(**params):
        response = agent_client.get(LIST_URL, {"queue": QUEUE_ALL, **params})
        assert response.status_code == 200
        return numbers(response.context["page"])

    assert shown(q="t-0000002") == {"T-0000002"}
    assert shown(q="printer") == {"T-0000001"}
    assert shown(q="lovelace") == {"T-0000001"}
    assert shown(status=Ticket.Status.PENDING) == {"T-0000002"}
    assert shown(customer=ada.pk) == {"T-0000001"}


def test_sort_by_due_soonest_and_by_priority(agent):
    now = timezone.now()
    later = TicketFactory(
        number="T-LATER", assignee=agent, resolution_due_at=now + timedelta(hours=5)
    )
    sooner = TicketFactory(
        number="T-SOONER",
        assignee=agent,
        first_response_due_at=now + timedelta(hours=1),
        resolution_due_at=now + timedelta(hours=9),
    )
    undated = TicketFactory(number="T-UNDATED", assignee=agent, priority=Ticket.Priority.URGENT)
    mine = ticket_queue(user=agent, queue=QUEUE_MINE)

    by_due = list(tickets_sorted(tickets=mine, sort=SORT_DUE))
    by_priority = list(tickets_sorted(tickets=mine, sort=SORT_PRIORITY))

    assert by_due == [sooner, later, undated]
    assert by_priority[0] == undated


def test_list_query_count_does_not_grow_with_tickets(agent_client, agent, team):
    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = agent_client.get(LIST_URL, {"queue": QUEUE_TEAM})
        assert response.status_code == 200
        return len(captured)

    TicketFactory.create_batch(2, assignee=agent, team=team)
    few = queries_for_list()
    TicketFactory.create_batch(40, assignee=agent, team=team, customer=CustomerFactory())
    many = queries_for_list()

    assert many == few
    assert many <= 20


def test_list_pages_fifty_at_a_time(agent_client, agent):
    TicketFactory.create_batch(51, assignee=agent)

    response = agent_client.get(LIST_URL)

    assert len(response.context["page"]) == 50
    assert response.context["page"].has_next()


def test_sales_rep_cannot_open_the_list(rep_client):
    assert rep_client.get(LIST_URL).status_code == 403
