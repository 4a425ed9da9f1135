"""The bookkeeping every batch run shares (training runs and the graph and recommendation jobs):
saving progress, and starting an AnalyticsJob only when no other of its kind is under way."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.models import AnalyticsJob
from crm.accounts.models import User

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
