"""The SLA watch: warnings before a target is missed, one escalation when it is."""

import threading
from datetime import datetime, time, timedelta
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from collaboration.models import Notification
from service.models import SlaPolicy, Ticket
from service.services import escalation, tickets
from service.services.escalation import tickets_check_sla
from service.tasks import tickets_check_sla_task
from tests.customers.factories import CustomerFactory
from tests.service.factories import BusinessCalendarFactory, SlaPolicyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
Status = Ticket.Status
Priority = Ticket.Priority


def shanghai(day, hour, minute=0):
    """A moment in March 2026, Shanghai time (2026-03-02 is a Monday, 03-06 a Friday)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


class Clock:
    def __init__(self):
        self.moment = shanghai(2, 9)

    def __call__(self):
        return self.moment


@pytest.fixture
def clock():
    frozen = Clock()
    with patch("django.utils.timezone.now", side_effect=frozen):
        yield frozen


@pytest.fixture(autouse=True)
def only_our_policies(db):
    SlaPolicy.objects.update(is_active=False)


@pytest.fixture
def policy():
    """First response within 2 business hours, resolution within 8, warned an hour before;
    a breach raises the priority and hands the ticket to the team manager."""
    office = BusinessCalendarFactory(
        time_zone="Asia/Shanghai", day_starts_at=time(9), day_ends_at=time(18)
    )
    return SlaPolicyFactory(
        is_active=True,
        first_response_minutes=120,
        resolution_minutes=480,
        warn_before_minutes=60,
        calendar=office,
        escalate_raise_priority=True,
        escalate_to_manager=True,
    )


@pytest.fixture
def customer(team):
    return CustomerFactory(team=team)


@pytest.fixture
def open_ticket(clock, agent, customer, policy):
    def make(moment=None, **values):
        clock.moment = moment or shanghai(2, 10)
        return tickets.ticket_create(actor=agent, customer=customer, subject="Down", **values)

    return make


def notices(user):
    return list(Notification.objects.filter(recipient=user).order_by("id"))


# Warnings ----------------------------------------------------------------------------------------


def test_the_assignee_is_warned_once_when_a_target_comes_near(agent, manager, open_ticket):
    ticket = open_ticket(shanghai(2, 10))

    assert tickets_check_sla(now=shanghai(2, 10, 30)) == {"warned": 0, "escalated": 0}
    assert tickets_check_sla(now=shanghai(2, 11, 10)) == {"warned": 1, "escalated": 0}
    assert tickets_check_sla(now=shanghai(2, 11, 20)) == {"warned": 0, "escalated": 0}

    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.first_response_warned_at == shanghai(2, 11, 10)
    assert stored.resolution_warned_at is None
    assert not stored.first_response_breached
    (warning,) = notices(agent)
    assert ticket.number in warning.title
    assert warning.related_id == ticket.pk
    assert notices(manager) == []


def test_the_warning_window_counts_business_minutes(agent, open_ticket, policy):
    policy.first_response_minutes = 60
    policy.save()
    # Due Monday 09:30: on Friday at 17:45 only 45 business minutes are left.
    ticket = open_ticket(shanghai(6, 17, 30))

    assert tickets_check_sla(now=shanghai(6, 17, 45))["warned"] == 1
    assert Ticket.objects.get(pk=ticket.pk).first_response_warned_at == shanghai(6, 17, 45)


def test_an_unassigned_ticket_warns_the_team_manager(manager, open_ticket):
    ticket = open_ticket(assignee=None)
    assert ticket.team is not None

    tickets_check_sla(now=shanghai(2, 11, 10))

    (warning,) = notices(manager)
    assert ticket.number in warning.title


def test_a_ticket_paused_on_the_customer_is_not_warned(agent, clock, open_ticket):
    ticket = open_ticket()
    clock.moment = shanghai(2, 10, 5)
    tickets.ticket_change_status(
        actor=agent, ticket=ticket, status=Status.PENDING, version=ticket.version
    )

    assert tickets_check_sla(now=shanghai(2, 11, 10))["warned"] == 0


# Breaches ----------------------------------------------------------------------------------------


def test_a_missed_target_escalates_once(agent, manager, open_ticket):
    ticket = open_ticket(shanghai(2, 10))
    tickets_check_sla(now=shanghai(2, 11, 10))
    warnings = len(notices(agent))

    first = tickets_check_sla(now=shanghai(2, 12, 1))
    second = tickets_check_sla(now=shanghai(2, 12, 6))

    assert first == {"warned": 0, "escalated": 1}
    assert second == {"warned": 0, "escalated": 0}
    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.first_response_breached
    assert stored.first_response_escalated_at == shanghai(2, 12, 1)
    assert not stored.resolution_breached
    assert stored.priority == Priority.HIGH
    assert stored.assignee == manager
    assert stored.version == ticket.version + 1
    assert len(notices(agent)) == warnings + 1
    assert len(notices(manager)) == 1
    assert "overdue" in notices(manager)[0].title


def test_the_policy_decides_how_to_escalate(agent, manager, open_ticket, policy):
    policy.escalate_raise_priority = False
    policy.escalate_to_manager = False
    policy.save()
    ticket = open_ticket()

    assert tickets_check_sla(now=shanghai(2, 12, 1))["escalated"] == 1

    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.first_response_breached
    assert (stored.priority, stored.assignee) == (Priority.NORMAL, agent)
    assert len(notices(agent)) == 1
    assert len(notices(manager)) == 1


def test_an_urgent_ticket_stays_urgent_and_a_team_without_manager_keeps_its_assignee(
    agent, open_ticket, team
):
    assert team.manager is None
    ticket = open_ticket(priority=Priority.URGENT)

    tickets_check_sla(now=shanghai(2, 12, 1))

    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.first_response_breached
    assert (stored.priority, stored.assignee) == (Priority.URGENT, agent)
    assert len(notices(agent)) == 1


def test_each_missed_target_escalates_on_its_own(agent, manager, clock, open_ticket):
    ticket = open_ticket(shanghai(2, 10))
    clock.moment = shanghai(2, 11)
    tickets.ticket_reply(actor=agent, ticket=ticket, body="On it")

    assert tickets_check_sla(now=shanghai(2, 12, 1))["escalated"] == 0
    assert tickets_check_sla(now=shanghai(3, 10, 1))["escalated"] == 1

    stored = Ticket.objects.get(pk=ticket.pk)
    assert not stored.first_response_breached
    assert stored.resolution_breached
    assert stored.resolution_escalated_at == shanghai(3, 10, 1)


def test_a_paused_ticket_is_not_breached(agent, clock, open_ticket):
    ticket = open_ticket()
    clock.moment = shanghai(2, 10, 30)
    tickets.ticket_change_status(
        actor=agent, ticket=ticket, status=Status.PENDING, version=ticket.version
    )

    assert tickets_check_sla(now=shanghai(4, 12))["escalated"] == 0

    stored = Ticket.objects.get(pk=ticket.pk)
    assert not stored.first_response_breached
    assert not stored.resolution_breached
    assert notices(agent) == []


def test_a_resolved_ticket_is_not_breached(agent, clock, open_ticket):
    ticket = open_ticket()
    clock.moment = shanghai(2, 11)
    tickets.ticket_resolve(actor=agent, ticket=ticket, version=ticket.version)

    assert tickets_check_sla(now=shanghai(4, 12)) == {"warned": 0, "escalated": 0}

    stored = Ticket.objects.get(pk=ticket.pk)
    assert not stored.first_response_breached
    assert not stored.resolution_breached


def test_every_overdue_ticket_is_reached_chunk_by_chunk(agent, open_ticket, monkeypatch):
    monkeypatch.setattr(escalation, "CHUNK_SIZE", 2)
    made = [open_ticket(shanghai(2, 10) + timedelta(minutes=minute)) for minute in (0, 0, 5, 9, 9)]

    assert tickets_check_sla(now=shanghai(2, 13))["escalated"] == 5

    assert (
        Ticket.objects.filter(pk__in=[t.pk for t in made], first_response_breached=True).count()
        == 5
    )


def test_a_quiet_run_costs_a_few_queries(open_ticket, django_assert_max_num_queries):
    for _ in range(5):
        open_ticket()

    with django_assert_max_num_queries(8):
        tickets_check_sla(now=shanghai(2, 10, 30))


def test_the_celery_task_runs_the_watch(agent, clock, open_ticket):
    ticket = open_ticket(shanghai(2, 10))
    clock.moment = shanghai(2, 12, 1)

    result = tickets_check_sla_task.delay().get()

    assert result == {"warned": 0, "escalated": 1}
    assert Ticket.objects.get(pk=ticket.pk).first_response_breached


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_escalate_once(agent, manager, open_ticket):
    ticket = open_ticket(shanghai(2, 10))
    start = threading.Barrier(2)
    results = []

    def run():
        try:
            start.wait()
            results.append(tickets_check_sla(now=shanghai(2, 12, 1)))
        finally:
            connection.close()

    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()

    assert sorted(result["escalated"] for result in results) == [0, 1]
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.priority, stored.version) == (Priority.HIGH, ticket.version + 1)
    assert len(notices(agent)) == 1
    assert len(notices(manager)) == 1
