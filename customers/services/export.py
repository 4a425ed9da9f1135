"""Exports of a customer list to CSV and Excel, with the list's filters, under the visibility rule.

The browser and POST /api/v1/customer-exports/ start an ExportJob: a worker writes the file in
batches, recording its progress so the job's page can follow it, and keeps it for the person who
asked, who alone may download it. GET /api/v1/customers/export/ still streams a CSV within the
request, for scripts that want the rows at once. Either way a list of more than
EXPORT_ROW_LIMIT rows is refused before anything is written, with a message asking to narrow the
filters (ExportTooLarge).

The streamed CSV comes from a server-side cursor (StreamingHttpResponse), through an
asynchronous iterator under ASGI so the server does not collect it in memory first. Workbooks
are written by openpyxl in write-only mode.

Formula injection: text that starts with =, +, -, @, a tab or a carriage return is prefixed with
an apostrophe, so a spreadsheet shows it instead of evaluating it (OWASP's advice). E.164 phone
numbers start with + and carry the apostrophe too. Numbers and dates are written by us, as
numbers and dates, and need none.
"""

import csv
import itertools
import logging
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from crm.accounts.field_security import field_access
from crm.accounts.models import User
from crm.accounts.selectors import user_time_zone
from crm.audit.models import AuditEvent
from crm.audit.services import audit_event_record
from crm.queueing import BROKER_UNREACHABLE_MESSAGE, task_send_on_commit
from crm.replicas import replica_alias
from customers.models import Customer, ExportJob
from customers.selectors.customers import CustomerFilter, customer_list_visible

EXPORT_ROW_LIMIT = 50_000
CHUNK_SIZE = 2_000
STREAM_BATCH_LINES = 500
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {CSV: "text/csv; charset=utf-8", XLSX: XLSX_CONTENT_TYPE}

EXPORT_PERMISSION = "customers.export_customer"
# How many rows a job writes between two records of its progress.
PROGRESS_EVERY = 500
# A running job whose progress has not moved for this long lost its worker; a new delivery of
# its task writes the file again from the start.
EXPORT_LEASE = timedelta(minutes=10)

logger = logging.getLogger(__name__)


class ExportTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            _(
                "This list has more than %(limit)s customers, more than one export may hold. "
                "Narrow it with the filters and export again."
            )
            % {"limit": f"{limit:,}"}
        )


def spreadsheet_safe(value: Any) -> Any:
    """The value, with text that a spreadsheet would read as a formula made plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return f"'{value}"
    return value


def _local(moment: datetime | None) -> datetime | None:
    # Spreadsheets know no time zones: write the wall-clock time of the server's zone.
    return None if moment is None else timezone.localtime(moment).replace(tzinfo=None)


def _choice_labels(field_name: str) -> dict[str, str]:
    return {value: str(label) for value, label in Customer._meta.get_field(field_name).flatchoices}


def _columns(hidden: frozenset[str]) -> list[tuple[str, Callable[[Customer], Any]]]:
    """(heading, value) of each column the user may see, in the active language; labels are
    translated once per export rather than once per cell."""
    gender, source, status, tier = map(_choice_labels, ("gender", "source", "status", "tier"))
    yes, no = _("yes"), _("no")
    # (heading, the securable field it shows or None, value)
    columns = [
        (_("ID"), None, lambda customer: customer.pk),
        (_("Name"), None, lambda customer: customer.name),
        (_("Gender"), "gender", lambda customer: gender.get(customer.gender, customer.gender)),
        (_("Birthday"), "birthday", lambda customer: customer.birthday),
        (_("Age"), "birthday", lambda customer: customer.age),
        (_("Email"), "email", lambda customer: customer.email),
        (_("Phone"), "phone", lambda customer: customer.phone),
        (_("Street"), "street", lambda customer: customer.street),
        (_("City"), "city", lambda customer: customer.city),
        (_("Province/state"), "province", lambda customer: customer.province),
        (_("Postcode"), "postcode", lambda customer: customer.postcode),
        (_("Country"), "country", lambda customer: customer.country),
        (_("Company"), None, lambda customer: customer.company.name if customer.company else ""),
        (_("Job title"), "job_title", lambda customer: customer.job_title),
        (_("Source"), "source", lambda customer: source.get(customer.source, customer.source)),
        (
            _("Lifecycle status"),
            None,
            lambda customer: status.get(customer.status, customer.status),
        ),
        (_("Service tier"), None, lambda customer: tier.get(customer.tier, customer.tier)),
        (_("Owner"), None, lambda customer: str(customer.owner) if customer.owner else ""),
        (_("Team"), None, lambda customer: str(customer.team) if customer.team else ""),
        (_("Tags"), None, lambda customer: ", ".join(tag.name for tag in customer.tags.all())),
        (_("Marketing consent"), None, lambda customer: yes if customer.marketing_consent else no),
        (_("Orders"), None, lambda customer: customer.order_count),
        (_("Total spend"), None, lambda customer: customer.total_spend),
        (_("Last contact"), None, lambda customer: _local(customer.last_contact_at)),
        (_("External ID"), "external_id", lambda customer: customer.external_id),
        (_("Identity number"), "identity_number", lambda customer: customer.identity_number),
        (_("Private notes"), "private_notes", lambda customer: customer.private_notes),
        (_("Created"), None, lambda customer: _local(customer.created_at)),
    ]
    return [(heading, value) for heading, field, value in columns if field not in hidden]


def customer_export_queryset(
    *, user: User, filters: CustomerFilter, ordering: str
) -> QuerySet[Customer]:
    """The customers to export, in order; ExportTooLarge past EXPORT_ROW_LIMIT."""
    if not user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied(_("You may not export customer lists."))
    customers = customer_list_visible(user=user, filters=filters, ordering=ordering)
    # Chosen now: the rows are read later, while the response streams or the job writes.
    customers = customers.using(replica_alias())
    if customers.order_by().values("pk")[: EXPORT_ROW_LIMIT + 1].count() > EXPORT_ROW_LIMIT:
        raise ExportTooLarge(EXPORT_ROW_LIMIT)
    return customers


def customer_export_rows(
    customers: QuerySet[Customer], *, hidden: frozenset[str] = frozenset()
) -> Iterator[list]:
    """The header, then one row of safe cell values per customer, without the `hidden` fields."""
    columns = _columns(hidden)
    yield [heading for heading, _value in columns]
    values = [value for _heading, value in columns]
    for customer in customers.prefetch_related("tags").iterator(chunk_size=CHUNK_SIZE):
        yield [spreadsheet_safe(value(customer)) for value in values]


class _Echo:
    """A file that hands back what is written to it, so csv.writer makes one line at a time."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    return value


def customer_export_csv_lines(rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A byte order mark, so Excel opens the UTF-8 (and the Chinese in it) correctly.
    yield "\ufeff"
    for row in rows:
        yield writer.writerow([_csv_cell(value) for value in row])


async def _in_batches(lines: Iterator[str]) -> AsyncIterator[str]:
    # Each batch is read on the thread that holds the request's database connection.
    next_batch = sync_to_async(lambda: "".join(itertools.islice(lines, STREAM_BATCH_LINES)))
    while batch := await next_batch():
        yield batch


def customer_export_xlsx(rows: Iterable[list], file) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(gettext_lazy("Customers")))
    for row in rows:
        sheet.append(row)
    workbook.save(file)


def _audit(*, user: User, file_format: str, rows: int, filters: CustomerFilter) -> None:
    audit_event_record(
        kind=AuditEvent.Kind.EXPORT,
        actor=user,
        details={
            "what": "customers",
            "format": file_format,
            "rows": rows,
            "filters": filters.to_json(),
        },
    )


def _filename(file_format: str) -> str:
    return f"customers-{timezone.localtime():%Y%m%d-%H%M}.{file_format}"


def customer_export_response(
    *, user: User, filters: CustomerFilter, ordering: str, asynchronous: bool = False
) -> StreamingHttpResponse:
    """The export as a CSV streamed within the request; `asynchronous` when the server speaks
    ASGI."""
    customers = customer_export_queryset(user=user, filters=filters, ordering=ordering)
    hidden = field_access(user=user, model=Customer).hidden
    _audit(user=user, file_format=CSV, rows=customers.order_by().count(), filters=filters)
    lines = customer_export_csv_lines(customer_export_rows(customers, hidden=hidden))
    response = StreamingHttpResponse(
        _in_batches(lines) if asynchronous else lines, content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(CSV)}"'
    return response


def export_job_filename(job: ExportJob) -> str:
    """The name a finished export is downloaded under."""
    return f"customers-{timezone.localtime(job.created_at):%Y%m%d-%H%M}-{job.pk}.{job.file_format}"


def customer_export_job_start(
    *, user: User, filters: CustomerFilter, ordering: str, file_format: str
) -> ExportJob:
    """Queue an export of the list for a worker; PermissionDenied without the export permission,
    ExportTooLarge past EXPORT_ROW_LIMIT, both before any job is stored."""
    if file_format not in FORMATS:
        raise ValueError(f"unknown export format {file_format!r}")
    customer_export_queryset(user=user, filters=filters, ordering=ordering)
    job = ExportJob.objects.create(
        requested_by=user,
        file_format=file_format,
        filters=filters.to_json(),
        ordering=ordering,
        language=translation.get_language() or "",
    )
    # Imported here: the task module imports this one to call customer_export_job_run.
    from customers.tasks import customer_export_task

    task_send_on_commit(
        task=customer_export_task,
        args=(job.pk,),
        on_unsent=lambda: _finish(
            job, status=ExportJob.Status.FAILED, error=str(BROKER_UNREACHABLE_MESSAGE)
        ),
    )
    return job


def _claim(job_id: int) -> ExportJob | None:
    """The job to run: a queued one, or a running one whose worker was lost; None otherwise."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        now = timezone.now()
        lost = job.status == ExportJob.Status.RUNNING and job.updated_at < now - EXPORT_LEASE
        if job.status != ExportJob.Status.QUEUED and not lost:
            return None
        job.status = ExportJob.Status.RUNNING
        job.started_at = now
        job.rows_done = 0
        job.progress = 0
        job.save(update_fields=["status", "started_at", "rows_done", "progress", "updated_at"])
    return job


def _record_progress(job: ExportJob, rows_done: int) -> None:
    progress = min(100, 100 * rows_done // job.rows_total) if job.rows_total else 0
    ExportJob.objects.filter(pk=job.pk).update(
        rows_done=rows_done, progress=progress, updated_at=timezone.now()
    )


def _counted(rows: Iterator[list], job: ExportJob) -> Iterator[list]:
    """The rows, recording the job's progress every PROGRESS_EVERY customers."""
    for written, row in enumerate(rows):
        # The first row is the header.
        if written and written % PROGRESS_EVERY == 0:
            _record_progress(job, written)
        yield row


def _write(job: ExportJob, customers: QuerySet[Customer], file, hidden: frozenset[str]) -> None:
    rows = _counted(customer_export_rows(customers, hidden=hidden), job)
    if job.file_format == XLSX:
        customer_export_xlsx(rows, file)
        return
    for line in customer_export_csv_lines(rows):
        file.write(line.encode("utf-8"))


def _finish(job: ExportJob, *, status: str, error: str = "") -> None:
    job.status = status
    job.error = error
    job.finished_at = timezone.now()
    fields = ["status", "error", "finished_at", "file", "updated_at"]
    if status == ExportJob.Status.DONE:
        job.rows_done = job.rows_total or 0
        job.progress = 100
        fields += ["rows_done", "progress"]
    job.save(update_fields=fields)


def customer_export_job_run(*, job_id: int) -> ExportJob | None:
    """Write a queued export's file; None when there is nothing to do. Safe to call twice: a
    finished job, or one another worker is running, is left alone.

    The customers are those the requester may see now, without the fields they may not see, in
    the language they asked in; the export is recorded in the audit log as it is written.
    """
    job = _claim(job_id)
    if job is None:
        return None
    user = job.requested_by
    # In the language of the page (or API call) that asked for it, times in the requester's zone
    # as the page would show them.
    with (
        translation.override(job.language or user.language or settings.LANGUAGE_CODE),
        timezone.override(user_time_zone(user)),
    ):
        try:
            filters = CustomerFilter.from_json(job.filters)
            customers = customer_export_queryset(user=user, filters=filters, ordering=job.ordering)
            job.rows_total = customers.order_by().count()
            ExportJob.objects.filter(pk=job.pk).update(rows_total=job.rows_total)
            _audit(user=user, file_format=job.file_format, rows=job.rows_total, filters=filters)
            with tempfile.TemporaryFile() as file:
                _write(job, customers, file, field_access(user=user, model=Customer).hidden)
                file.seek(0)
                job.file.save(_filename(job.file_format), File(file), save=False)
        except (PermissionDenied, ExportTooLarge) as exc:
            _finish(job, status=ExportJob.Status.FAILED, error=str(exc))
            return job
        except Exception as exc:
            logger.exception("customer export %s stopped", job.pk)
            error = _("The export stopped: %(error)s. Try again, or narrow the list.")
            _finish(job, status=ExportJob.Status.FAILED, error=error % {"error": exc})
            return job
    _finish(job, status=ExportJob.Status.DONE)
    return job
