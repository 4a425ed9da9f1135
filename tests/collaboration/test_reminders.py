"""Task reminders and overdue notices, sent by the beat's `collaboration.tasks_remind_task`: once
per task, only when due, again after the due time changes. Time is passed in as `now`."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from collaboration.models import Notification, Task
from collaboration.services import tasks as services
from collaboration.tasks import tasks_remind_task
from crm.celery import app as celery_app
from tests.collaboration.factories import TaskFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

NOW = timezone.now().replace(microsecond=0)


def run_beat(at):
    """The beat's task, queued as the beat does (eager in the test settings)."""
    return tasks_remind_task.delay(now=at.isoformat()).get()


def notices(user, kind):
    return Notification.objects.filter(recipient=user, kind=kind)


def test_the_beat_schedules_the_task_by_its_registered_name():
    names = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert "collaboration.tasks_remind_task" in names
    assert tasks_remind_task.name == "collaboration.tasks_remind_task"


def test_a_reminder_goes_out_once_when_its_time_has_come(rep, team):
    # given a task due in an hour with a reminder 30 minutes ahead
    task = TaskFactory(
        assignee=rep, team=team, title="Call Mr Wang", due_at=NOW + timedelta(hours=1)
    )

    # when the beat runs 45 minutes early, then 25 minutes early, then again
    early = run_beat(NOW)
    on_time = run_beat(NOW + timedelta(minutes=35))
    again = run_beat(NOW + timedelta(minutes=40))

    # then one reminder went out, at the second run, linking to the task
    assert early == {"overdue": 0, "reminded": 0}
    assert on_time == {"overdue": 0, "reminded": 1}
    assert again == {"overdue": 0, "reminded": 0}
    reminders = list(notices(rep, Notification.Kind.TASK_REMINDER))
    assert len(reminders) == 1
    assert "Call Mr Wang" in reminders[0].title
    assert reminders[0].url == f"/collaboration/tasks/{task.pk}/"
    task.refresh_from_db()
    assert task.reminded_at == NOW + timedelta(minutes=35)


@pytest.mark.parametrize(
    "values",
    [
        {"remind_minutes_before": 0},
        {"due_at": None},
        {"status": Task.Status.DONE, "completed_at": NOW},
        {"status": Task.Status.CANCELLED},
        {"assignee": None},
    ],
    ids=["no reminder wanted", "no due time", "done", "cancelled", "nobody assigned"],
)
def test_no_reminder_for_tasks_that_do_not_need_one(rep, team, values):
    fields = {"assignee": rep, "team": team, "due_at": NOW + timedelta(minutes=10), **values}
    TaskFactory(**fields)

    assert services.tasks_send_reminders(now=NOW) == 0
    assert not Notification.objects.exists()


def test_a_task_past_due_is_flagged_overdue_once(rep, team):
    # given a task that was due an hour ago and whose reminder went out
    task = TaskFactory(
        assignee=rep,
        team=team,
        title="Send the contract",
        due_at=NOW - timedelta(hours=1),
        reminded_at=NOW - timedelta(hours=2),
    )

    # when the beat runs twice
    first = run_beat(NOW)
    second = run_beat(NOW + timedelta(minutes=5))

    # then one overdue notice
    assert first == {"overdue": 1, "reminded": 0}
    assert second == {"overdue": 0, "reminded": 0}
    overdue = list(notices(rep, Notification.Kind.TASK_OVERDUE))
    assert len(overdue) == 1
    assert "Send the contract" in overdue[0].title
    task.refresh_from_db()
    assert task.overdue_notified_at == NOW


def test_a_task_already_late_hears_it_is_late_not_also_that_it_is_due(rep, team):
    TaskFactory(assignee=rep, team=team, due_at=NOW - timedelta(minutes=1))

    assert run_beat(NOW) == {"overdue": 1, "reminded": 0}
    assert notices(rep, Notification.Kind.TASK_REMINDER).count() == 0


def test_a_task_done_before_its_due_time_is_never_flagged(rep, team):
    task = TaskFactory(assignee=rep, team=team, due_at=NOW + timedelta(hours=1))
    services.task_complete(actor=rep, task=task)

    assert run_beat(NOW + timedelta(days=1)) == {"overdue": 0, "reminded": 0}


def test_moving_the_due_time_re_arms_the_reminder_and_the_overdue_notice(rep, team):
    # given a task that was reminded of and flagged overdue
    task = TaskFactory(assignee=rep, team=team, due_at=NOW + timedelta(minutes=10))
    assert run_beat(NOW) == {"overdue": 0, "reminded": 1}
    assert run_beat(NOW + timedelta(minutes=15)) == {"overdue": 1, "reminded": 0}

    # when the rep moves it to tomorrow
    task.refresh_from_db()
    services.task_update(actor=rep, task=task, version=task.version, due_at=NOW + timedelta(days=1))

    # then tomorrow brings a new reminder, and a new overdue notice after it
    tomorrow = NOW + timedelta(days=1)
    assert run_beat(tomorrow - timedelta(hours=1)) == {"overdue": 0, "reminded": 0}
    assert run_beat(tomorrow - timedelta(minutes=20)) == {"overdue": 0, "reminded": 1}
    assert run_beat(tomorrow + timedelta(minutes=1)) == {"overdue": 1, "reminded": 0}
    assert notices(rep, Notification.Kind.TASK_REMINDER).count() == 2
    assert notices(rep, Notification.Kind.TASK_OVERDUE).count() == 2


def test_a_task_claimed_by_a_concurrent_run_is_not_reminded_of_again(rep, team, monkeypatch):
    # given another run claimed the task after this run read it
    task = TaskFactory(assignee=rep, team=team, due_at=NOW + timedelta(minutes=10))
    read_before_the_claim = Task.objects.filter(pk=task.pk).select_related("assignee")
    monkeypatch.setattr(services, "tasks_reminder_due", lambda now: read_before_the_claim)
    Task.objects.filter(pk=task.pk).update(reminded_at=NOW)

    # when this run goes on with what it read
    sent = services.tasks_send_reminders(now=NOW)

    # then its conditional update claims nothing and no second reminder is written
    assert sent == 0
    assert not Notification.objects.exists()


def test_an_overdue_task_claimed_by_a_concurrent_run_is_not_flagged_again(rep, team, monkeypatch):
    task = TaskFactory(assignee=rep, team=team, due_at=NOW - timedelta(minutes=10))
    read_before_the_claim = Task.objects.filter(pk=task.pk).select_related("assignee")
    monkeypatch.setattr(services, "tasks_overdue_unnotified", lambda now: read_before_the_claim)
    Task.objects.filter(pk=task.pk).update(overdue_notified_at=NOW)

    assert services.tasks_flag_overdue(now=NOW) == 0
    assert not Notification.objects.exists()


def test_reminders_are_sent_in_chunks_one_per_task(rep, team, monkeypatch):
    # given more due tasks than one chunk holds
    monkeypatch.setattr(services, "NOTICE_CHUNK_SIZE", 3)
    TaskFactory.create_batch(7, assignee=rep, team=team, due_at=NOW + timedelta(minutes=5))

    # when
    sent = services.tasks_send_reminders(now=NOW)

    # then every task was reminded of exactly once
    assert sent == 7
    assert notices(rep, Notification.Kind.TASK_REMINDER).count() == 7
    assert not Task.objects.filter(reminded_at__isnull=True).exists()


def test_a_reminder_is_written_in_the_assignees_language_and_time_zone(rep, team):
    rep.language = "zh-hans"
    rep.time_zone = "Asia/Shanghai"
    rep.save(update_fields=["language", "time_zone"])
    due = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
    TaskFactory(assignee=rep, team=team, title="Call", due_at=due)

    services.tasks_send_reminders(now=due - timedelta(minutes=10))

    title = notices(rep, Notification.Kind.TASK_REMINDER).get().title
    # 01:30 UTC is 09:30 in Shanghai
    assert "09:30" in title or "9:30" in title
