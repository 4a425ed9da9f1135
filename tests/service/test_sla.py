"""SLA clocks on tickets, driven through the ticket services with a frozen clock."""

from datetime import UTC, datetime, time
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest

from customers.models import Customer
from service.models import SlaPolicy, Ticket
from service.services import tickets
from service.services.sla import sla_policy_for
from tests.customers.factories import CustomerFactory
from tests.service.factories import BusinessCalendarFactory, HolidayFactory, SlaPolicyFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = 3600
Status = Ticket.Status


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
    """The data migration's policies step aside so each test sets the targets it checks."""
    SlaPolicy.objects.update(is_active=False)


@pytest.fixture
def office():
    return BusinessCalendarFactory(
        time_zone="Asia/Shanghai",
        working_days=[1, 2, 3, 4, 5],
        day_starts_at=time(9),
        day_ends_at=time(18),
    )


@pytest.fixture
def policy(office):
    """Normal priority: first response within 2 business hours, resolution within 8."""
    return SlaPolicyFactory(
        is_active=True,
        priority=Ticket.Priority.NORMAL,
        first_response_minutes=120,
        resolution_minutes=480,
        calendar=office,
    )


@pytest.fixture
def customer(team):
    return CustomerFactory(team=team)


def open_ticket(clock, *, actor, customer, moment, **values):
    clock.moment = moment
    return tickets.ticket_create(actor=actor, customer=customer, subject="Broken", **values)


def reply(clock, ticket, *, actor, moment, kind="reply", status=None):
    clock.moment = moment
    tickets.ticket_reply(actor=actor, ticket=ticket, body="Hello", kind=kind, status=status)
    ticket.refresh_from_db()
    return ticket


def move(clock, ticket, *, actor, moment, status):
    clock.moment = moment
    return tickets.ticket_change_status(
        actor=actor, ticket=ticket, status=status, version=ticket.version
    )


# Which policy applies ----------------------------------------------------------------------------


def test_the_most_specific_active_policy_applies(office):
    catch_all = SlaPolicyFactory(is_active=True, calendar=office)
    urgent = SlaPolicyFactory(is_active=True, priority="urgent", calendar=office)
    vip = SlaPolicyFactory(is_active=True, tier="vip", calendar=office)
    vip_urgent = SlaPolicyFactory(is_active=True, tier="vip", priority="urgent", calendar=office)
    SlaPolicyFactory(is_active=False, tier="premium", priority="low", calendar=office)

    assert sla_policy_for(tier="vip", priority="urgent") == vip_urgent
    assert sla_policy_for(tier="vip", priority="low") == vip
    assert sla_policy_for(tier="normal", priority="urgent") == urgent
    assert sla_policy_for(tier="normal", priority="low") == catch_all
    assert sla_policy_for(tier="premium", priority="low") == catch_all

    vip_urgent.is_active = False
    vip_urgent.save()
    assert sla_policy_for(tier="vip", priority="urgent") == vip


def test_no_active_policy_means_no_due_times(clock, agent, customer):
    ticket = open_ticket(clock, actor=agent, customer=customer, moment=shanghai(2, 10))

    assert ticket.sla_policy is None
    assert ticket.first_response_due_at is None
    assert ticket.resolution_due_at is None


def test_the_customer_tier_picks_the_policy(clock, agent, team, office):
    SlaPolicyFactory(is_active=True, tier="vip", first_response_minutes=30, calendar=office)
    vip = CustomerFactory(team=team, tier=Customer.Tier.VIP)

    ticket = open_ticket(clock, actor=agent, customer=vip, moment=shanghai(2, 10))

    assert ticket.first_response_due_at == shanghai(2, 10, 30)


# Due times ---------------------------------------------------------------------------------------


def test_a_ticket_opened_on_friday_evening_is_due_on_monday(clock, agent, customer, policy):
    ticket = open_ticket(clock, actor=agent, customer=customer, moment=shanghai(6, 17))

    ticket.refresh_from_db()
    assert ticket.sla_policy == policy
    assert ticket.first_response_due_at == shanghai(9, 10)
    assert ticket.resolution_due_at == shanghai(9, 16)


def test_holidays_on_the_policy_calendar_push_the_due_time(clock, agent, customer, policy):
    HolidayFactory(calendar=policy.calendar, date=datetime(2026, 3, 9).date())

    ticket = open_ticket(clock, actor=agent, customer=customer, moment=shanghai(6, 17))

    assert ticket.first_response_due_at == shanghai(10, 10)


def test_utc_creation_times_are_read_in_the_calendar_zone(clock, agent, customer, policy):
    # 09:00 UTC on Friday is 17:00 in Shanghai.
    ticket = open_ticket(
        clock, actor=agent, customer=customer, moment=datetime(2026, 3, 6, 9, tzinfo=UTC)
    )

    assert ticket.first_response_due_at == shanghai(9, 10)


# Pausing while pending on the customer -----------------------------------------------------------


def test_waiting_on_the_customer_pushes_the_due_times_by_business_time_waited(
    clock, agent, customer, policy
):
    ticket = open_ticket(clock, actor=agent, customer=customer, moment=shanghai(2, 10))
    assert ticket.resolution_due_at == shanghai(2, 18)

    ticket = reply(clock, ticket, actor=agent, moment=shanghai(2, 10, 30), status=Status.PENDING)
    assert ticket.sla_paused_at == shanghai(2, 10, 30)
    ticket = reply(clock, ticket, actor=None, moment=shanghai(2, 14, 30), kind="customer")

    assert ticket.status == Status.OPEN
    assert ticket.sla_paused_at is None
    assert ticket.sla_paused_seconds == 4 * HOUR
    assert ticket.resolution_due_at == shanghai(3, 13)
    # Met before the pause, so the first response's target does not move.
    assert ticket.first_response_due_at == shanghai(2, 12)
    assert ticket.first_response_seconds == 30 * 60

    ticket = move(clock, ticket, actor=agent, moment=shanghai(3, 10), status=Status.RESOLVED)

    # Monday 10–18 and Tuesday 9–10 make 9 business hours, 4 of them spent waiting.
    assert ticket.resolution_seconds == 5 * HOUR


def test_waiting_over_a_weekend_adds_only_the_working_time_waited(clock, agent, customer, policy):
    ticket = open_ticket(clock, actor=agent, customer=customer, moment=shanghai(6, 17))
    ticket = move(clock, ticket, actor=agent, moment=shanghai(6, 17, 30), status=Status.PENDING)
    ticket = reply(clock, ticket, actor=None, moment=shanghai(9, 9), kind="customer")

    assert ticket.sla_paused_seconds == 30 * 60
    assert ticket.first_response_due_at == shanghai(9, 10, 30)
    assert ticket.resolution_due_at == shanghai(9, 16, 30)

    ticket = reply(clock, ticket, actor=agent, moment=shanghai(9, 11))

    # Friday 17–18 and Monday 9–11, less the half hour waiting.
    assert ticket.first_response_seconds == 2.5 * HOUR


def test_a_whole_weekend_pending_changes_nothing(clock, agent, customer, policy):
    ticket = open_ticket(clock, actor=agent, customer=customer, moment=shanghai(6, 16))
    due = ticket.first_response_due_at, ticket.resolution_due_at
    ticket = move(clock, ticket, actor=agent, moment=shanghai(6, 19), status=Status.PENDING)
    ticket = move(clock, ticket, actor=agent, moment=shanghai(8, 20), status=Status.OPEN)

    assert ticket.sla_paused_seconds == 0
    assert (ticket.first_response_due_at, ticket.resolution_due_at) == due


def test_resolving_while_pending_leaves_the_wait_out_of_the_resolution_time(
    clock, agent, customer, policy
):
    ticket = open_ticket(clock, actor=agent, customer=customer, moment=shanghai(2, 9))
    ticket = move(clock, ticket, actor=agent, moment=shanghai(2, 10), status=Status.PENDING)
    ticket = move(clock, ticket, actor=agent, moment=shanghai(2, 15), status=Status.RESOLVED)

    # The clock stays stopped while the ticket is resolved.
    assert ticket.sla_paused_at == shanghai(2, 15)
    assert ticket.sla_paused_seconds == 5 * HOUR
    assert ticket.resolution_seconds == HOUR


def test_a_reopened_ticket_is_not_charged_for_the_time_it_was_resolved(
    clock, agent, customer, policy
):
    ticket = open_ticket(clock, actor=agent, customer=customer, moment=shanghai(2, 9))
    assert ticket.resolution_due_at == shanghai(2, 17)
    ticket = move(clock, ticket, actor=agent, moment=shanghai(2, 10), status=Status.RESOLVED)
    ticket = move(clock, ticket, actor=agent, moment=shanghai(2, 13), status=Status.OPEN)

    # Three business hours later: the rest of Monday, then Tuesday from nine.
    assert ticket.sla_paused_at is None
    assert ticket.resolution_due_at == shanghai(3, 11)


def test_first_response_while_pending_leaves_the_wait_out(clock, agent, customer, policy):
    ticket = open_ticket(clock, actor=agent, customer=customer, moment=shanghai(2, 9))
    ticket = move(clock, ticket, actor=agent, moment=shanghai(2, 9, 15), status=Status.PENDING)
    ticket = reply(clock, ticket, actor=agent, moment=shanghai(2, 11), status=Status.PENDING)

    assert ticket.first_response_seconds == 15 * 60


# Re-timing ---------------------------------------------------------------------------------------


def test_a_new_priority_re_times_the_ticket(clock, agent, customer, policy, office):
    urgent = SlaPolicyFactory(
        is_active=True,
        priority=Ticket.Priority.URGENT,
        first_response_minutes=30,
        resolution_minutes=120,
        calendar=office,
    )
    ticket = open_ticket(clock, actor=agent, customer=customer, moment=shanghai(2, 10))
    Ticket.objects.filter(pk=ticket.pk).update(first_response_warned_at=shanghai(2, 11))
    ticket.refresh_from_db()

    clock.moment = shanghai(2, 11)
    ticket = tickets.ticket_update(
        actor=agent, ticket=ticket, version=ticket.version, priority=Ticket.Priority.URGENT
    )

    ticket.refresh_from_db()
    assert ticket.sla_policy == urgent
    assert ticket.first_response_due_at == shanghai(2, 10, 30)
    assert ticket.resolution_due_at == shanghai(2, 12)
    # A new due time deserves its own warning.
    assert ticket.first_response_warned_at is None


def test_re_timing_keeps_the_time_already_spent_waiting(clock, agent, customer, policy, office):
    SlaPolicyFactory(
        is_active=True,
        priority=Ticket.Priority.HIGH,
        first_response_minutes=60,
        resolution_minutes=240,
        calendar=office,
    )
    ticket = open_ticket(clock, actor=agent, customer=customer, moment=shanghai(2, 9))
    ticket = move(clock, ticket, actor=agent, moment=shanghai(2, 9, 30), status=Status.PENDING)
    ticket = move(clock, ticket, actor=agent, moment=shanghai(2, 10, 30), status=Status.OPEN)

    ticket = tickets.ticket_update(
        actor=agent, ticket=ticket, version=ticket.version, priority=Ticket.Priority.HIGH
    )

    assert ticket.first_response_due_at == shanghai(2, 11)
    assert ticket.resolution_due_at == shanghai(2, 14)
