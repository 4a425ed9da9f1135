"""Customer imports from CSV: the one service behind the browser, the API, the command and the
Celery task.

An import is an ImportJob: the stored file, its column mapping and options, its progress and
counts, and at the end its report. The browser creates the job when the file is uploaded and
starts it once the columns are mapped; the API creates and starts it in one call; the command
creates it and runs it in its own process; the task runs it on a worker (eagerly, in the web
process, on the embedded default). A job waiting for its mapping is PENDING with an empty
mapping; a job queued to run is PENDING with a mapping.

Visibility. Matching against the database considers every customer, whoever owns it, so an
import never creates a second copy of a customer just because the importing person cannot see
the first. A row that matches a customer the importing person cannot change (one they cannot
see, or see only through a view-only share or "see all") is rejected: that customer is neither
updated nor shown. The report then says only that the row "matches an existing customer you
cannot change" and names the column it matched on; it gives no id, name or
value of that customer, and likely duplicates are reported only among customers the person can
see. Admins, and operators running the command, see every customer.

Ownership. New customers (and new companies) belong to the importing person, or to the
command's --owner, with that person's first team, as customer_create does.

Events. A finished import, completed or failed, is announced once (import.finished, with its
counts). The rows are written in bulk, so no customer.created or customer.updated is announced
per row: an integrator hears of the import and lists the customers it wants to know about.
"""

import logging
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.accounts.models import Team, User
from crm.accounts.selectors import user_default_team_id
from crm.activity.models import ActivityEvent
from crm.activity.services import activity_record
from crm.queueing import BROKER_UNREACHABLE_MESSAGE, task_send_on_commit
from crm.run_locks import IMPORT_RUN, run_lock, run_locks_supported
from crm.webhooks.events import event_publish
from customers.importing.mapping import mapping_errors, mapping_suggest
from customers.importing.pipeline import CustomerImport, ImportOptions, ImportRefused
from customers.importing.reading import CsvFile, FileUnreadable
from customers.importing.report import DiscardedReport, ImportCounts, PartedReport, ReportSink
from customers.importing.rows import DAY_FIRST, MONTH_FIRST, default_date_order
from customers.models import ImportJob

logger = logging.getLogger(__name__)

# Where the database has no run locks, a running job whose progress has not moved for this long
# is taken to have lost its worker, and the next run of its task resumes it after the last
# committed batch.
IMPORT_LEASE = timedelta(minutes=10)
MAX_IMPORT_BYTES = 1024 * 1024 * 1024
OPTION_NAMES = {"keep_extra_columns", "overwrite", "date_order", "dry_run"}
DATE_ORDERS = (DAY_FIRST, MONTH_FIRST)


@dataclass
class ImportSummary:
    """What a run did: the counts (unchanged rows apart from updated ones) and unused columns."""

    counts: ImportCounts
    ignored_columns: list[str]


IMPORT_PERMISSION = "customers.import_customer"


def import_options_clean(*, options: dict | None) -> dict:
    """The options of an import with their defaults; refuses names and values it does not know.

    keep_extra_columns: keep columns that map to no field as custom attributes (default no)
    overwrite: let matching rows replace values a customer already has (default no: only blank
        fields are filled in)
    date_order: "dmy" or "mdy", how 03/02/1985 is read (default "mdy" when
        CRM_DEFAULT_PHONE_REGION is US, "dmy" otherwise)
    dry_run: go through the whole file and report, but write no customer (default no)
    """
    options = dict(options or {})
    errors = [
        _("“%(name)s” is not an import option.") % {"name": name}
        for name in sorted(set(options) - OPTION_NAMES)
    ]
    cleaned = {
        "keep_extra_columns": False,
        "overwrite": False,
        "date_order": default_date_order(),
        "dry_run": False,
    }
    for name in ("keep_extra_columns", "overwrite", "dry_run"):
        if name in options:
            if not isinstance(options[name], bool):
                errors.append(_("“%(name)s” must be true or false.") % {"name": name})
            cleaned[name] = options[name]
    if "date_order" in options:
        if options["date_order"] not in DATE_ORDERS:
            errors.append(_("“date_order” must be “dmy” or “mdy”."))
        cleaned["date_order"] = options["date_order"]
    if errors:
        raise ValidationError({"options": errors})
    return cleaned


def _csv_file(job: ImportJob) -> CsvFile:
    return CsvFile(lambda: job.file.storage.open(job.file.name, "rb"))


def import_job_create(
    *,
    actor: User | None,
    file: File,
    original_name: str = "",
    mapping: dict | None = None,
    options: dict | None = None,
    await_mapping: bool = False,
    start: bool = False,
    owner: User | None = None,
) -> ImportJob:
    """Store a file as an import; refuse it whole if it cannot be read as CSV.

    With `await_mapping` the job waits for its columns to be mapped (import_job_start);
    otherwise it takes `mapping`, or the automatic guess, and is ready to run: on a worker once
    the transaction commits when `start` is set, or by calling import_job_run. `owner` (for the
    command's operators only) owns the customers created instead of `actor`. A person (not the
    command, which has no actor) needs the import permission.
    """
    if actor is not None and not actor.has_perm(IMPORT_PERMISSION):
        raise PermissionDenied(_("You may not import customers."))
    cleaned_options = import_options_clean(options=options)
    if owner is not None:
        cleaned_options["owner_id"] = owner.pk
    if actor is None:
        cleaned_options["by_operator"] = True
    if file.size is not None and file.size > MAX_IMPORT_BYTES:
        raise ValidationError({"file": [_("The file is larger than 1 GB.")]})
    name = Path(original_name or file.name or "import.csv").name
    job = ImportJob(
        owner=actor,
        team_id=user_default_team_id(actor),
        original_name=name[:255],
        options=cleaned_options,
    )
    job.file.save(name, file, save=False)
    try:
        headers = _csv_file(job).header()
        if not await_mapping:
            job.mapping = mapping if mapping is not None else mapping_suggest(headers)
            errors = mapping_errors(headers=headers, mapping=job.mapping)
            if errors:
                raise ValidationError({"mapping": errors})
        job.save()
    except FileUnreadable as exc:
        job.file.delete(save=False)
        raise ValidationError({"file": [str(exc)]}) from exc
    except ValidationError:
        job.file.delete(save=False)
        raise
    if start and not await_mapping:
        _queue(job)
    return job


def import_job_start(*, job: ImportJob, mapping: dict, options: dict | None = None) -> ImportJob:
    """Fix a waiting job's mapping and options and queue it to run (once, however often the
    form is sent)."""
    headers = _csv_file(job).header()
    errors = mapping_errors(headers=headers, mapping=mapping)
    if errors:
        raise ValidationError({"mapping": errors})
    cleaned_options = import_options_clean(options=options)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportJob.Status.PENDING or job.mapping:
            raise ValidationError(_("This import has already been started."))
        job.mapping = mapping
        job.options = {**cleaned_options, **_internal_options(job)}
        job.save(update_fields=["mapping", "options", "updated_at"])
        _queue(job)
    return job


def _internal_options(job: ImportJob) -> dict:
    return {name: job.options[name] for name in ("owner_id", "by_operator") if name in job.options}


def _queue(job: ImportJob) -> None:
    """Run the job on a worker once the current transaction commits."""
    # Imported here: the task module imports this one to call import_job_run.
    from customers.tasks import import_customers_task

    task_send_on_commit(
        task=import_customers_task,
        args=(job.pk,),
        on_unsent=lambda: _finish(
            job, status=ImportJob.Status.FAILED, error=str(BROKER_UNREACHABLE_MESSAGE)
        ),
    )


def _claim(job_id: int) -> tuple[ImportJob | None, int]:
    """Take a job to run: (job, first row to import), or (None, 0) when there is nothing to do.

    A queued job starts from its first row. A running job lost its worker (the broker
    delivers the task again) when the caller holds the job's run lock, or, where the database
    has no run locks, when its progress is older than the lease: it resumes after its last
    committed batch. Any other job is finished, or being run by another worker.
    """
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None, 0
        now = timezone.now()
        if job.status == ImportJob.Status.PENDING and job.mapping:
            job.status = ImportJob.Status.RUNNING
            job.started_at = now
            job.save(update_fields=["status", "started_at", "updated_at"])
            return job, 0
        worker_lost = run_locks_supported() or job.updated_at < now - IMPORT_LEASE
        if job.status == ImportJob.Status.RUNNING and worker_lost:
            job.save(update_fields=["updated_at"])
            return job, 2 + job.processed_rows
    return None, 0


def _parts(job: ImportJob) -> PartedReport:
    return PartedReport(storage=job.report.storage, folder=f"imports/reports/parts/{job.pk}")


def _record_progress(job: ImportJob, counts: ImportCounts) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=F("processed_rows") + counts.rows,
        created_count=F("created_count") + counts.created,
        updated_count=F("updated_count") + counts.updated + counts.unchanged,
        merged_count=F("merged_count") + counts.merged,
        rejected_count=F("rejected_count") + counts.rejected,
        updated_at=timezone.now(),
    )


def _record_total(job: ImportJob, total: int) -> None:
    ImportJob.objects.filter(pk=job.pk).update(total_rows=total, updated_at=timezone.now())


def _attach_report(job: ImportJob, parts: PartedReport) -> None:
    with tempfile.TemporaryFile() as assembled:
        parts.assemble(assembled)
        assembled.seek(0)
        job.report.save(f"import-{job.pk}-report.csv", File(assembled), save=False)
    parts.delete()


def _finish(job: ImportJob, *, status: str, error: str = "") -> None:
    job.refresh_from_db(
        fields=[
            "total_rows",
            "processed_rows",
            "created_count",
            "updated_count",
            "merged_count",
            "rejected_count",
        ]
    )
    job.status = status
    job.error = error
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at", "report", "updated_at"])
    event_publish(event="import.finished", record=job)


def import_job_run(*, job_id: int) -> ImportSummary | None:
    """Run a queued import, or resume one whose worker was lost; None when there is nothing to
    do. Safe to call twice: a finished job, or one another worker is running, is left alone.

    Rows are written in transactions of a batch each, together with the job's progress, so
    what the job reports as imported is committed. A file that cannot be read, or a mapping
    that does not fit it, fails the job before anything is written. The run holds the job's
    run lock throughout, so a delivery of the task after its worker died resumes at once.
    """
    with run_lock(kind=IMPORT_RUN, pk=job_id) as ours:
        return _run(job_id) if ours else None


def _run(job_id: int) -> ImportSummary | None:
    job, resume_from = _claim(job_id)
    if job is None:
        return None
    actor = job.owner
    if actor is None and not job.options.get("by_operator"):
        error = _("The person who started this import no longer has an account.")
        _finish(job, status=ImportJob.Status.FAILED, error=error)
        return None
    owner_id = job.options.get("owner_id")
    owner = User.objects.filter(pk=owner_id).first() if owner_id else actor
    parts = _parts(job)
    parts.discard_from(resume_from)
    language = (actor.language if actor else "") or settings.LANGUAGE_CODE
    with translation.override(language):
        run = CustomerImport(
            csv_file=_csv_file(job),
            mapping=job.mapping,
            options=_import_options(job.options),
            actor=actor,
            owner=owner,
            report=parts,
            on_start=lambda total: _record_total(job, total),
            on_batch=lambda counts: _record_progress(job, counts),
            resume_from=resume_from,
            journal=parts.journal() if resume_from else None,
        )
        try:
            counts = run.run()
        except (FileUnreadable, ImportRefused) as exc:
            parts.delete()
            _finish(job, status=ImportJob.Status.FAILED, error=_nothing_imported(exc))
            return None
        except Exception as exc:
            logger.exception("customer import %s stopped", job.pk)
            # The part of a batch that failed after writing its report part never committed.
            job.refresh_from_db(fields=["processed_rows"])
            parts.discard_from(2 + job.processed_rows)
            _attach_report(job, parts)
            _finish(
                job,
                status=ImportJob.Status.FAILED,
                error=_(
                    "The import stopped: %(error)s. The rows counted as processed were "
                    "imported; the report lists them."
                )
                % {"error": exc},
            )
            return None
        _attach_report(job, parts)
        with transaction.atomic():
            _finish(job, status=ImportJob.Status.COMPLETED)
            if not job.options.get("dry_run"):
                _activity_imported(job, actor=actor)
    return ImportSummary(counts=counts, ignored_columns=run.ignored_headers)


def _activity_imported(job: ImportJob, *, actor: User | None) -> None:
    """Log a finished import in the importer's team's feed, with its counts."""
    counts = {
        "created": job.created_count,
        "updated": job.updated_count,
        "merged": job.merged_count,
        "rejected": job.rejected_count,
    }
    activity_record(
        verb=ActivityEvent.Verb.CUSTOMERS_IMPORTED,
        summary=_(
            "%(actor)s imported %(file)s: %(created)d new, %(updated)d updated, "
            "%(rejected)d rejected"
        )
        % {"actor": actor or _("An operator"), "file": job.original_name or "CSV", **counts},
        actor=actor,
        team=Team.objects.filter(pk=user_default_team_id(actor)).first() if actor else None,
        target=job,
        url=reverse("customers:import_detail", args=[job.pk]),
        data={**counts, "rows": job.processed_rows},
    )


def _nothing_imported(exc: Exception) -> str:
    return _("%(error)s Nothing was imported.") % {"error": exc}


def _import_options(options: dict) -> ImportOptions:
    return ImportOptions(
        keep_extra_columns=options.get("keep_extra_columns", False),
        overwrite=options.get("overwrite", False),
        date_order=options.get("date_order", default_date_order()),
        dry_run=options.get("dry_run", False),
    )


def import_file_dry_run(
    *,
    path: Path,
    owner: User | None,
    mapping: dict | None = None,
    options: dict | None = None,
    report: ReportSink | None = None,
) -> ImportSummary:
    """Go through a file as an operator's import would, and write nothing at all (not even a
    job): the counts, and the report if a sink is given, say what the import would do."""
    cleaned = import_options_clean(options={**(options or {}), "dry_run": True})
    csv_file = CsvFile(lambda: path.open("rb"))
    try:
        headers = csv_file.header()
        run = CustomerImport(
            csv_file=csv_file,
            mapping=mapping if mapping is not None else mapping_suggest(headers),
            options=_import_options(cleaned),
            actor=None,
            owner=owner,
            report=report or DiscardedReport(),
        )
        counts = run.run()
    except (FileUnreadable, ImportRefused) as exc:
        raise ValidationError(_nothing_imported(exc)) from exc
    return ImportSummary(counts=counts, ignored_columns=run.ignored_headers)
