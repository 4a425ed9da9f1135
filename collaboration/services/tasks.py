"""Creating, changing and completing follow-up tasks, and the reminders and overdue notices sent
about them: the one path the pages, the API and the Celery beat all use.

A change names the `version` it was made from and is refused when the task has moved on
(crm.concurrency). A task may be about one record (a customer, a deal, later a ticket), named
generically by its content type and id; the actor must be able to see that record.
"""

import contextlib
import zoneinfo
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import DateTimeField, F, Model, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from collaboration.models import Notification, Task
from collaboration.selectors.tasks import (
    MAX_REMIND_MINUTES,
    TASK_RELATED_TYPES,
    content_type_label,
    related_record_visible,
    tasks_overdue_unnotified,
    tasks_reminder_due,
)
from collaboration.services.notifications import notification_send
from crm.accounts.models import User
from crm.accounts.selectors import record_is_editable_by, user_default_team_id
from crm.batching import in_pk_chunks
from crm.concurrency import version_check

TASK_EDITABLE_FIELDS = (
    "title",
    "description",
    "kind",
    "status",
    "priority",
    "due_at",
    "remind_minutes_before",
    "assignee",
    "team",
    "related_type",
    "related_id",
)

# The beat sends notices a chunk of tasks at a time, so one run never holds a huge result set.
NOTICE_CHUNK_SIZE = 500


# Checks ------------------------------------------------------------------------------------------


def _refuse_unknown(values: dict[str, Any]) -> None:
    unknown = set(values) - set(TASK_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be set here.") for name in sorted(unknown)}
        )


def _require_perm(actor: User | None, permission: str, task: Task | None = None) -> None:
    """No actor is the system itself (the beat, the demo), which may do anything."""
    if actor is None:
        return
    if not actor.has_perm(permission):
        raise PermissionDenied
    if task is not None and not record_is_editable_by(user=actor, record=task):
        raise PermissionDenied


def _check_related(task: Task, *, actor: User | None) -> None:
    if task.related_type_id is None and task.related_id is None:
        return
    if task.related_type_id is None:
        raise ValidationError({"related_type": _("Say what kind of record the task is about.")})
    if task.related_id is None:
        raise ValidationError({"related_id": _("Say which record the task is about.")})
    if content_type_label(task.related_type) not in TASK_RELATED_TYPES:
        raise ValidationError({"related_type": _("A task cannot be about a record of this kind.")})
    record = related_record_visible(
        user=actor, content_type=task.related_type, record_id=task.related_id
    )
    if record is None:
        raise ValidationError({"related_id": _("No such record.")})


def _check_assignee(task: Task) -> None:
    if task.assignee is not None and not task.assignee.is_active:
        raise ValidationError({"assignee": _("%(user)s is not active.") % {"user": task.assignee}})


def _check_remind(task: Task) -> None:
    if task.remind_minutes_before is not None and task.remind_minutes_before > MAX_REMIND_MINUTES:
        raise ValidationError(
            {
                "remind_minutes_before": _("At most %(max)d minutes (four weeks).")
                % {"max": MAX_REMIND_MINUTES}
            }
        )


def _clean(task: Task, *, actor: User | None) -> None:
    _check_related(task, actor=actor)
    _check_assignee(task)
    _check_remind(task)
    task.full_clean()


def _settle_status(task: Task, *, at: datetime) -> None:
    if task.status == Task.Status.DONE:
        task.completed_at = task.completed_at or at
    else:
        task.completed_at = None


# Notices -----------------------------------------------------------------------------------------


def _task_url(task: Task) -> str:
    return reverse("collaboration:task_detail", args=[task.pk])


def _in_recipients_zone(recipient: User, moment: datetime) -> str:
    zone = timezone.get_current_timezone()
    if recipient.time_zone:
        with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo(recipient.time_zone)
    return formats.date_format(timezone.localtime(moment, zone), "SHORT_DATETIME_FORMAT")


def _notify(task: Task, *, recipient: User, kind: str) -> None:
    # Written in the recipient's language and time zone, not the sender's or the worker's.
    with translation.override(recipient.language or translation.get_language()):
        due = _in_recipients_zone(recipient, task.due_at) if task.due_at else ""
        if kind == Notification.Kind.TASK_ASSIGNED:
            title = _("New task for you: %(title)s") % {"title": task.title}
        elif kind == Notification.Kind.TASK_REMINDER:
            title = _("Reminder: %(title)s is due %(due)s") % {"title": task.title, "due": due}
        else:
            title = _("Overdue: %(title)s was due %(due)s") % {"title": task.title, "due": due}
        notification_send(
            recipient=recipient,
            kind=kind,
            title=title,
            body=task.description[:1000],
            url=_task_url(task),
            related=task,
        )


def _notify_assignee(task: Task, *, actor: User | None) -> None:
    if task.assignee is None or task.assignee == actor:
        return
    _notify(task, recipient=task.assignee, kind=Notification.Kind.TASK_ASSIGNED)


# Writes ------------------------------------------------------------------------------------------


def task_create(*, actor: User | None, **values) -> Task:
    """Create a task, assigned to `actor` and filed under the assignee's first team unless told
    otherwise; the assignee hears of it when it is someone else."""
    _refuse_unknown(values)
    _require_perm(actor, "collaboration.add_task")
    task = Task(**values)
    if "assignee" not in values:
        task.assignee = actor
    if "team" not in values:
        task.team_id = user_default_team_id(task.assignee)
    task.created_by = actor
    _settle_status(task, at=timezone.now())
    _clean(task, actor=actor)
    with transaction.atomic():
        task.save()
        _notify_assignee(task, actor=actor)
    return task


def _task_lock(task: Task) -> Task:
    # Only the task's row: the assignee is read along (nullable, so an outer join PostgreSQL
    # will not lock) but not locked.
    return Task.objects.select_for_update(of=("self",)).select_related("assignee").get(pk=task.pk)


def task_update(*, actor: User | None, task: Task, version: int | str | None, **values) -> Task:
    """Change a task made from `version`. A new due time (or reminder lead time) re-arms the
    reminder, a new due time the overdue notice too; a new assignee hears of it, and the task
    follows them to their first team unless a team is given."""
    _refuse_unknown(values)
    _require_perm(actor, "collaboration.change_task", task)
    with transaction.atomic():
        locked = _task_lock(task)
        version_check(record=locked, given_version=version)
        changed = {name for name, value in values.items() if getattr(locked, name) != value}
        previous_assignee_id = locked.assignee_id
        for name in changed:
            setattr(locked, name, values[name])
        if "assignee" in changed and "team" not in values:
            locked.team_id = user_default_team_id(locked.assignee)
        if "due_at" in changed:
            locked.reminded_at = None
            locked.overdue_notified_at = None
        if "remind_minutes_before" in changed:
            locked.reminded_at = None
        _settle_status(locked, at=timezone.now())
        if changed & {"related_type", "related_id"}:
            _check_related(locked, actor=actor)
        _check_assignee(locked)
        _check_remind(locked)
        locked.full_clean()
        locked.version += 1
        locked.save()
        if locked.assignee_id != previous_assignee_id:
            _notify_assignee(locked, actor=actor)
    return locked


def _set_status(*, actor: User | None, task: Task, version: int | str | None, status: str) -> Task:
    _require_perm(actor, "collaboration.change_task", task)
    with transaction.atomic():
        locked = _task_lock(task)
        if version is not None:
            version_check(record=locked, given_version=version)
        if locked.status == status:
            return locked
        locked.status = status
        _settle_status(locked, at=timezone.now())
        locked.version += 1
        locked.save(update_fields=["status", "completed_at", "version", "updated_at"])
    return locked


def task_complete(*, actor: User | None, task: Task, version: int | str | None = None) -> Task:
    """Mark the task done (now). Completing a done task changes nothing; `version`, when given,
    must be the task's current one."""
    return _set_status(actor=actor, task=task, version=version, status=Task.Status.DONE)


def task_reopen(*, actor: User | None, task: Task, version: int | str | None = None) -> Task:
    """Open a done or cancelled task again."""
    return _set_status(actor=actor, task=task, version=version, status=Task.Status.OPEN)


def task_delete(*, actor: User | None, task: Task) -> None:
    _require_perm(actor, "collaboration.delete_task", task)
    task.delete()


def tasks_relink(*, old: Model, new: Model) -> int:
    """Point the tasks about `old` at `new` (a customer merged into another); returns how many
    moved. Their versions move on, so an edit made before the move is refused, not misfiled."""
    content_type = ContentType.objects.get_for_model(old)
    return Task.objects.filter(related_type=content_type, related_id=old.pk).update(
        related_type=ContentType.objects.get_for_model(new),
        related_id=new.pk,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )


# Reminders and overdue notices (the beat runs these every few minutes) -------------------------


def tasks_send_reminders(*, now: datetime | None = None) -> int:
    """Remind each assignee, once, of their open tasks whose reminder time (due time less the
    task's lead time) has come. Returns how many reminders went out.

    Each task is claimed with a conditional UPDATE before its notice is written, so two runs at
    once (a slow beat overlapping the next) send one reminder, not two.
    """
    now = now or timezone.now()
    sent = 0
    for chunk in in_pk_chunks(tasks_reminder_due(now=now), size=NOTICE_CHUNK_SIZE):
        for task in chunk:
            with transaction.atomic():
                claimed = Task.objects.filter(
                    pk=task.pk,
                    reminded_at__isnull=True,
                    status__in=Task.OPEN_STATUSES,
                    due_at=task.due_at,
                ).update(reminded_at=now)
                if claimed:
                    _notify(task, recipient=task.assignee, kind=Notification.Kind.TASK_REMINDER)
                    sent += 1
    return sent


def tasks_flag_overdue(*, now: datetime | None = None) -> int:
    """Tell each assignee, once, about their open tasks past their due time. Returns how many
    tasks were flagged.

    A task flagged overdue also counts as reminded: a reminder that it is "due" after the notice
    that it is late would only be noise. Claimed the same way as reminders.
    """
    now = now or timezone.now()
    flagged = 0
    for chunk in in_pk_chunks(tasks_overdue_unnotified(now=now), size=NOTICE_CHUNK_SIZE):
        for task in chunk:
            with transaction.atomic():
                claimed = Task.objects.filter(
                    pk=task.pk,
                    overdue_notified_at__isnull=True,
                    status__in=Task.OPEN_STATUSES,
                    due_at=task.due_at,
                ).update(
                    overdue_notified_at=now,
                    reminded_at=Coalesce("reminded_at", Value(now, output_field=DateTimeField())),
                )
                if claimed:
                    _notify(task, recipient=task.assignee, kind=Notification.Kind.TASK_OVERDUE)
                    flagged += 1
    return flagged
