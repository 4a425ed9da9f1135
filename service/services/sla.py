"""SLA clocks on tickets: which policy applies, when first response and resolution are due, and
how waiting on the customer pauses them. All times are counted in the policy calendar's business
hours (service.business_hours).

The ticket services call these inside their transaction on the locked ticket; they set fields
and leave saving to the caller.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Case, IntegerField, Q, Value, When

from service.business_hours import Schedule, add_business_seconds, business_seconds_between
from service.models import BusinessCalendar, SlaPolicy, Ticket


def schedule_for(calendar: BusinessCalendar) -> Schedule:
    return Schedule(
        zone=ZoneInfo(calendar.time_zone),
        working_days=frozenset(int(day) for day in calendar.working_days),
        starts=calendar.day_starts_at,
        ends=calendar.day_ends_at,
        # all() rather than values_list(), so a prefetch of the holidays is used.
        holidays=frozenset(holiday.date for holiday in calendar.holidays.all()),
    )


def sla_policy_for(*, tier: str, priority: str) -> SlaPolicy | None:
    """The most specific active policy: tier and priority, then tier only, then priority only,
    then the catch-all (both blank)."""
    candidates = SlaPolicy.objects.filter(
        Q(tier=tier) | Q(tier=""), Q(priority=priority) | Q(priority=""), is_active=True
    ).select_related("calendar")
    specificity = Case(
        When(~Q(tier="") & ~Q(priority=""), then=Value(0)),
        When(~Q(tier=""), then=Value(1)),
        When(~Q(priority=""), then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    return candidates.annotate(specificity=specificity).order_by("specificity", "pk").first()


def _due(ticket: Ticket, schedule: Schedule, minutes: int) -> datetime:
    return add_business_seconds(
        schedule, ticket.created_at, minutes * 60 + ticket.sla_paused_seconds
    )


def ticket_sla_apply(ticket: Ticket) -> None:
    """Set the policy and the due times from the ticket's tier and priority (on creation, and
    again when the priority changes). Needs the ticket's created_at. A target not met yet gets
    a fresh warning for its new due time; breaches and escalations already recorded stay."""
    policy = sla_policy_for(tier=ticket.customer.tier, priority=ticket.priority)
    ticket.sla_policy = policy
    if ticket.first_responded_at is None and ticket.first_response_escalated_at is None:
        ticket.first_response_warned_at = None
    if ticket.resolved_at is None and ticket.resolution_escalated_at is None:
        ticket.resolution_warned_at = None
    if policy is None:
        ticket.first_response_due_at = None
        ticket.resolution_due_at = None
        return
    schedule = schedule_for(policy.calendar)
    ticket.first_response_due_at = _due(ticket, schedule, policy.first_response_minutes)
    ticket.resolution_due_at = _due(ticket, schedule, policy.resolution_minutes)


def _schedule_of(ticket: Ticket) -> Schedule | None:
    return schedule_for(ticket.sla_policy.calendar) if ticket.sla_policy_id else None


def _business_seconds(schedule: Schedule | None, start: datetime, end: datetime) -> int:
    if schedule is None:
        return max(0, int((end - start).total_seconds()))
    return business_seconds_between(schedule, start, end)


def ticket_sla_pause(ticket: Ticket, *, at: datetime) -> None:
    """The ticket waits on the customer: its clocks stop."""
    if ticket.sla_paused_at is None:
        ticket.sla_paused_at = at


def ticket_sla_resume(ticket: Ticket, *, at: datetime) -> None:
    """The customer answered (or the agent took the ticket back): the clocks run again, and the
    due dates move back by the business time spent waiting."""
    if ticket.sla_paused_at is None:
        return
    schedule = _schedule_of(ticket)
    paused = _business_seconds(schedule, ticket.sla_paused_at, at)
    ticket.sla_paused_at = None
    ticket.sla_paused_seconds += paused
    if schedule is None or not paused:
        return
    if ticket.first_responded_at is None and ticket.first_response_due_at is not None:
        ticket.first_response_due_at = add_business_seconds(
            schedule, ticket.first_response_due_at, paused
        )
    if ticket.resolution_due_at is not None:
        ticket.resolution_due_at = add_business_seconds(schedule, ticket.resolution_due_at, paused)


def _elapsed(ticket: Ticket, at: datetime) -> int:
    """Business seconds from the ticket's creation to `at`, without the time it waited."""
    schedule = _schedule_of(ticket)
    waited = ticket.sla_paused_seconds
    if ticket.sla_paused_at is not None:
        waited += _business_seconds(schedule, ticket.sla_paused_at, at)
    return max(0, _business_seconds(schedule, ticket.created_at, at) - waited)


def ticket_sla_first_response(ticket: Ticket, *, at: datetime) -> None:
    """The first public reply: the first-response clock stops for good."""
    if ticket.first_responded_at is not None:
        return
    ticket.first_responded_at = at
    ticket.first_response_seconds = _elapsed(ticket, at)


def ticket_sla_resolved(ticket: Ticket, *, at: datetime) -> None:
    ticket.resolution_seconds = _elapsed(ticket, at)
