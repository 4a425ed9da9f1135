from datetime import datetime

from celery import shared_task
from django.utils import timezone

from collaboration.services.calendar import events_log_meetings, events_send_reminders
from collaboration.services.notifications import notifications_send_digests
from collaboration.services.tasks import tasks_flag_overdue, tasks_send_reminders


@shared_task(name="collaboration.tasks_remind_task")
def tasks_remind_task(now: str | None = None) -> dict[str, int]:
    """Send the task reminders and overdue notices that are due (crm/celery.py runs this every
    five minutes). `now`, an ISO 8601 time (without an offset, in the server's time zone),
    stands in for the clock.

    Overdue notices go first so that a task already late hears once that it is late, not also
    that it is due.
    """
    moment = datetime.fromisoformat(now) if now else None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    overdue = tasks_flag_overdue(now=moment)
    reminded = tasks_send_reminders(now=moment)
    return {"overdue": overdue, "reminded": reminded}


def _moment(now: str | None) -> datetime | None:
    moment = datetime.fromisoformat(now) if now else None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


@shared_task(name="collaboration.events_send_reminders_task")
def events_send_reminders_task(now: str | None = None) -> int:
    """Remind organisers and attendees of the events starting soon (every five minutes; `now`
    as for tasks_remind_task). Returns how many events were reminded of."""
    return events_send_reminders(now=_moment(now))


@shared_task(name="collaboration.events_log_meetings_task")
def events_log_meetings_task(now: str | None = None) -> int:
    """Log the meetings that have ended on their customers' timelines (every five minutes).
    Returns how many meetings were logged."""
    return events_log_meetings(now=_moment(now))


@shared_task(name="collaboration.notifications_send_digests_task")
def notifications_send_digests_task(now: str | None = None) -> int:
    """Email each user the digest of their notifications waiting for it (daily at 07:00; `now`
    as for tasks_remind_task). Returns how many emails were sent."""
    return notifications_send_digests(now=_moment(now))
