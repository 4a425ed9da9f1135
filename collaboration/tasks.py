from datetime import datetime

from celery import shared_task
from django.utils import timezone

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
