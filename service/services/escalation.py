"""The SLA watch, run every few minutes by Celery: warn before a target is missed, escalate
once when it is.

Each warning and each escalation is claimed with a conditional UPDATE (`… WHERE *_warned_at IS
NULL`, `… WHERE *_escalated_at IS NULL`) in the transaction that sends its notices, so two runs
at once, or one run repeated, warn and escalate each ticket once: the run whose UPDATE matched the
row does the work, the other sees no row.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collaboration.models import Notification
from collaboration.services.notifications import notification_send
from crm.accounts.models import User
from crm.activity.models import ActivityEvent
from crm.activity.services import activity_record
from crm.webhooks.events import event_publish
from service.business_hours import add_business_seconds
from service.locks import tickets_lock
from service.models import SlaPolicy, Ticket
from service.services.sla import schedule_for
from service.services.tickets import PRIORITY_ORDER, ticket_url

CHUNK_SIZE = 200
# Tickets whose policy was deleted keep their due times; they are warned this long before.
DEFAULT_WARN_BEFORE = timedelta(minutes=60)


@dataclass(frozen=True)
class Target:
    key: str
    due: str
    met: str
    warned: str
    breached: str
    escalated: str
    label: str  # lazily translated


FIRST_RESPONSE = Target(
    key="first_response",
    due="first_response_due_at",
    met="first_responded_at",
    warned="first_response_warned_at",
    breached="first_response_breached",
    escalated="first_response_escalated_at",
    label=gettext_lazy("first response"),
)
RESOLUTION = Target(
    key="resolution",
    due="resolution_due_at",
    met="resolved_at",
    warned="resolution_warned_at",
    breached="resolution_breached",
    escalated="resolution_escalated_at",
    label=gettext_lazy("resolution"),
)
TARGETS = (FIRST_RESPONSE, RESOLUTION)


def _running(target: Target) -> Q:
    """Tickets whose clock for `target` is running: open, not waiting on the customer, target
    not met."""
    return Q(
        status__in=Ticket.OPEN_STATUSES,
        sla_paused_at__isnull=True,
        **{f"{target.met}__isnull": True, f"{target.due}__isnull": False},
    )


def _chunks(queryset: QuerySet[Ticket], target: Target) -> Iterator[list[Ticket]]:
    """The tickets in due order, a bounded chunk per query (keyset on due time and id)."""
    queryset = queryset.select_related("assignee", "team__manager").order_by(target.due, "pk")
    after: tuple[datetime, int] | None = None
    while True:
        page = queryset
        if after is not None:
            due, pk = after
            page = page.filter(
                Q(**{f"{target.due}__gt": due}) | Q(**{target.due: due, "pk__gt": pk})
            )
        chunk = list(page[:CHUNK_SIZE])
        if not chunk:
            return
        yield chunk
        last = chunk[-1]
        after = (getattr(last, target.due), last.pk)


def _send(recipients: list[User | None], ticket: Ticket, *, title: str, body: str) -> int:
    sent = 0
    seen: set[int] = set()
    for recipient in recipients:
        if recipient is None or recipient.pk in seen or not recipient.is_active:
            continue
        seen.add(recipient.pk)
        notification_send(
            recipient=recipient,
            kind=Notification.Kind.SLA_WARNING,
            title=title,
            body=body,
            url=ticket_url(ticket),
            related=ticket,
        )
        sent += 1
    return sent


# Warnings ----------------------------------------------------------------------------------------


def _warn_horizons(now: datetime) -> list[tuple[Q, datetime]]:
    """Tickets inside their policy's warning window. warn_before_minutes are business minutes,
    so on Friday evening a target due on Monday morning is already near; the window of each
    policy is the moment that many business minutes from now."""
    horizons = [(Q(sla_policy__isnull=True), now + DEFAULT_WARN_BEFORE)]
    policies = (
        SlaPolicy.objects.filter(warn_before_minutes__gt=0)
        .select_related("calendar")
        .prefetch_related("calendar__holidays")
    )
    for policy in policies:
        schedule = schedule_for(policy.calendar)
        horizon = add_business_seconds(schedule, now, policy.warn_before_minutes * 60)
        horizons.append((Q(sla_policy=policy), horizon))
    return horizons


def _warn(target: Target, now: datetime, horizons: list[tuple[Q, datetime]]) -> int:
    within = Q()
    for scope, horizon in horizons:
        within |= scope & Q(**{f"{target.due}__lte": horizon})
    due = Ticket.objects.filter(
        _running(target),
        within,
        **{
            f"{target.warned}__isnull": True,
            f"{target.due}__gte": now,
            f"{target.due}__lte": max(horizon for _scope, horizon in horizons),
        },
    )
    warned = 0
    for chunk in _chunks(due, target):
        for ticket in chunk:
            warned += _warn_ticket(ticket, target, now)
    return warned


def _warn_ticket(ticket: Ticket, target: Target, now: datetime) -> int:
    with transaction.atomic():
        # Pinned to the due time read, so a ticket re-timed meanwhile is judged again next run.
        claimed = Ticket.objects.filter(
            _running(target),
            pk=ticket.pk,
            **{f"{target.warned}__isnull": True, target.due: getattr(ticket, target.due)},
        ).update(**{target.warned: now})
        if not claimed:
            return 0
        manager = ticket.team.manager if ticket.team else None
        _send(
            [ticket.assignee or manager],
            ticket,
            title=_("%(number)s: %(target)s due soon")
            % {"number": ticket.number, "target": target.label},
            body=_("“%(subject)s” is due for %(target)s at %(due)s.")
            % {
                "subject": ticket.subject,
                "target": target.label,
                "due": timezone.localtime(getattr(ticket, target.due)).strftime("%Y-%m-%d %H:%M"),
            },
        )
    return 1


# Breaches ----------------------------------------------------------------------------------------


def _breach(target: Target, now: datetime) -> int:
    overdue = Ticket.objects.filter(
        _running(target), **{f"{target.escalated}__isnull": True, f"{target.due}__lt": now}
    )
    escalated = 0
    for chunk in _chunks(overdue, target):
        for ticket in chunk:
            escalated += _escalate(ticket, target, now)
    return escalated


def _escalate(ticket: Ticket, target: Target, now: datetime) -> int:
    """Mark the breach and act on the policy: raise the priority a step, hand the ticket to the
    team manager. The due times stay as they were: the priority is raised to move the ticket up
    the queues, not to set it a new target it has already missed."""
    with transaction.atomic():
        claimed = Ticket.objects.filter(
            _running(target),
            pk=ticket.pk,
            **{f"{target.escalated}__isnull": True, f"{target.due}__lt": now},
        ).update(
            **{target.breached: True, target.escalated: now},
            version=F("version") + 1,
            updated_at=now,
        )
        if not claimed:
            return 0
        locked = tickets_lock(ticket_ids=[ticket.pk])[ticket.pk]
        previous_assignee = locked.assignee
        manager = locked.team.manager if locked.team_id else None
        policy = locked.sla_policy
        changed = []
        if policy is not None and policy.escalate_raise_priority:
            step = PRIORITY_ORDER.index(locked.priority)
            if step + 1 < len(PRIORITY_ORDER):
                locked.priority = PRIORITY_ORDER[step + 1]
                changed.append("priority")
        if (
            policy is not None
            and policy.escalate_to_manager
            and manager is not None
            and manager.is_active
            and locked.assignee_id != manager.pk
        ):
            locked.assignee = manager
            changed.append("assignee")
        if changed:
            locked.save(update_fields=changed)
        event_publish(
            event="ticket.sla_breached",
            record=locked,
            extra={"target": target.key, "changed_fields": changed},
        )
        activity_record(
            verb=ActivityEvent.Verb.TICKET_ESCALATED,
            summary=_("%(number)s %(subject)s missed its %(target)s target and was escalated")
            % {"number": locked.number, "subject": locked.subject, "target": target.label},
            team=locked.team,
            target=locked,
            url=ticket_url(locked),
            data={"target": target.key, "assignee": locked.assignee_id},
        )
        _send(
            [previous_assignee, manager],
            locked,
            title=_("%(number)s: %(target)s overdue")
            % {"number": locked.number, "target": target.label},
            body=_("“%(subject)s” missed its %(target)s target (due %(due)s).")
            % {
                "subject": locked.subject,
                "target": target.label,
                "due": timezone.localtime(getattr(locked, target.due)).strftime("%Y-%m-%d %H:%M"),
            },
        )
    return 1


def tickets_check_sla(*, now: datetime | None = None) -> dict[str, int]:
    """Warn of targets coming due and escalate the ones missed; safe to run twice, or twice at
    once. Returns how many warnings and escalations this run made."""
    now = now or timezone.now()
    escalated = sum(_breach(target, now) for target in TARGETS)
    horizons = _warn_horizons(now)
    warned = sum(_warn(target, now, horizons) for target in TARGETS)
    return {"warned": warned, "escalated": escalated}
