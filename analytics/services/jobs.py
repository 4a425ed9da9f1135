"""The bookkeeping every batch run shares (training runs and the graph and recommendation jobs):
saving progress, starting an AnalyticsJob only when no other of its kind is under way, and
running one to its end (done or failed)."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.models import AnalyticsJob
from crm.accounts.models import User
from crm.queueing import BROKER_UNREACHABLE_MESSAGE, task_send_on_commit

logger = logging.getLogger(__name__)

ACTIVE_STATUSES = (AnalyticsJob.Status.QUEUED, AnalyticsJob.Status.RUNNING)
# One PostgreSQL advisory lock per kind serialises two requests that arrive together (with no
# earlier job there is no row to lock); other databases serialise writes anyway.
_LOCK_KEYS = {AnalyticsJob.Kind.GRAPH: 7_302_114, AnalyticsJob.Kind.RECOMMENDATIONS: 7_302_115}


class JobBusy(Exception):
    """A run of this kind is already queued or running."""


def stale_before(*, time_limit: int | None = None) -> datetime:
    """Work last touched before this moment belonged to a worker that died: the hard time limit
    of its task (Celery's default unless the task sets its own) has passed."""
    return timezone.now() - timedelta(seconds=time_limit or settings.CELERY_TASK_TIME_LIMIT)


def progress_save(run: Model, *, progress: int, stage: str, **fields) -> None:
    """Save how far a run (a ModelVersion or an AnalyticsJob) is, with any other fields given."""
    run.progress = progress
    run.stage = stage
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(update_fields=["progress", "stage", "updated_at", *fields])


def analytics_job_start(
    *, kind: str, trigger: str, user: User | None, busy: JobBusy, time_limit: int | None = None
) -> AnalyticsJob:
    """Create a queued job of `kind`, or raise `busy` while another one is queued or running.
    A job that has not moved since `stale_before(time_limit)` is marked failed first."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEYS[kind]])
        active = AnalyticsJob.objects.filter(kind=kind, status__in=ACTIVE_STATUSES)
        active.filter(updated_at__lt=stale_before(time_limit=time_limit)).update(
            status=AnalyticsJob.Status.FAILED,
            error=_("The worker stopped before this run finished."),
            finished_at=timezone.now(),
        )
        if active.exists():
            raise busy
        return AnalyticsJob.objects.create(
            kind=kind, trigger=trigger, started_by=user, stage=_("Waiting for a worker")
        )


def analytics_job_queue(*, job: AnalyticsJob, task) -> None:
    """Send `task` for `job` once the transaction commits; when the broker cannot be reached the
    job fails at once with a message saying so, rather than waiting for a worker for ever."""

    def unsent() -> None:
        AnalyticsJob.objects.filter(pk=job.pk, status=AnalyticsJob.Status.QUEUED).update(
            status=AnalyticsJob.Status.FAILED,
            error=str(BROKER_UNREACHABLE_MESSAGE),
            stage="",
            finished_at=timezone.now(),
        )

    task_send_on_commit(task=task, args=(job.pk,), on_unsent=unsent)


def analytics_job_run(
    *,
    job_id: int,
    kind: str,
    work: Callable[[AnalyticsJob], dict],
    expected: tuple[type[Exception], ...] = (),
) -> AnalyticsJob:
    """Claim the queued job `job_id` of `kind`, run `work` on it and record the end: done with the
    figures `work` returns, or failed with its error (logged unless it is one of `expected`).
    Safe to run twice: a job no longer queued is left alone."""
    started = timezone.now()
    taken = AnalyticsJob.objects.filter(
        pk=job_id, kind=kind, status=AnalyticsJob.Status.QUEUED
    ).update(
        status=AnalyticsJob.Status.RUNNING,
        started_at=started,
        progress=1,
        stage=_("Reading the data"),
        updated_at=started,
    )
    job = AnalyticsJob.objects.get(pk=job_id)
    if not taken:
        return job
    try:
        stats = work(job)
    except Exception as error:
        if not isinstance(error, expected):
            logger.exception("%s job %s failed", kind, job.pk)
        progress_save(
            job,
            progress=job.progress,
            stage="",
            status=AnalyticsJob.Status.FAILED,
            error=str(error) or error.__class__.__name__,
            finished_at=timezone.now(),
        )
    else:
        progress_save(
            job,
            progress=100,
            stage="",
            status=AnalyticsJob.Status.DONE,
            stats=stats,
            finished_at=timezone.now(),
        )
    return job
