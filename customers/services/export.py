"""Exports of a customer list to CSV and Excel, with the list's filters, under the visibility rule.

Both formats are made during the request, up to EXPORT_ROW_LIMIT rows; a larger list is refused
before anything is written, with a message asking to narrow the filters (ExportTooLarge). At
the limit a CSV streams in about 15 seconds and a workbook is ready in about 25 (figures in
benchmarks/results/customer_list_search.md), which a request can afford, so exports need no
background task; lists larger than that are better narrowed than downloaded whole.

The CSV streams from a server-side cursor (StreamingHttpResponse), through an asynchronous
iterator under ASGI so the server does not collect it in memory first. The workbook is written
by openpyxl in write-only mode to a temporary file, then sent.

Formula injection: text that starts with =, +, -, @, a tab or a carriage return is prefixed with
an apostrophe, so a spreadsheet shows it instead of evaluating it (OWASP's advice). E.164 phone
numbers start with + and carry the apostrophe too. Numbers and dates are written by us, as
numbers and dates, and need none.
"""

import csv
import itertools
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from crm.accounts.field_security import field_access
from crm.accounts.models import User
from crm.audit.models import AuditEvent
from crm.audit.services import audit_event_record
from customers.models import Customer
from customers.selectors.customers import CustomerFilter, customer_list_visible

EXPORT_ROW_LIMIT = 50_000
CHUNK_SIZE = 2_000
STREAM_BATCH_LINES = 500
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

EXPORT_PERMISSION = "customers.export_customer"


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


def customer_export_csv_lines(
    customers: QuerySet[Customer], *, hidden: frozenset[str] = frozenset()
) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A byte order mark, so Excel opens the UTF-8 (and the Chinese in it) correctly.
    yield "\ufeff"
    for row in customer_export_rows(customers, hidden=hidden):
        yield writer.writerow([_csv_cell(value) for value in row])


async def _in_batches(lines: Iterator[str]) -> AsyncIterator[str]:
    # Each batch is read on the thread that holds the request's database connection.
    next_batch = sync_to_async(lambda: "".join(itertools.islice(lines, STREAM_BATCH_LINES)))
    while batch := await next_batch():
        yield batch


def customer_export_xlsx(
    customers: QuerySet[Customer], file, *, hidden: frozenset[str] = frozenset()
) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(gettext_lazy("Customers")))
    for row in customer_export_rows(customers, hidden=hidden):
        sheet.append(row)
    workbook.save(file)


def _filename(file_format: str) -> str:
    return f"customers-{timezone.localtime():%Y%m%d-%H%M}.{file_format}"


def customer_export_response(
    *,
    user: User,
    filters: CustomerFilter,
    ordering: str,
    file_format: str,
    asynchronous: bool = False,
) -> StreamingHttpResponse:
    """The export as a download; `asynchronous` when the server speaks ASGI."""
    customers = customer_export_queryset(user=user, filters=filters, ordering=ordering)
    hidden = field_access(user=user, model=Customer).hidden
    audit_event_record(
        kind=AuditEvent.Kind.EXPORT,
        actor=user,
        details={
            "what": "customers",
            "format": file_format,
            "rows": customers.order_by().count(),
            "filters": filters.to_json(),
        },
    )
    if file_format == XLSX:
        # FileResponse closes the file once sent, and a TemporaryFile is deleted on close.
        file = tempfile.TemporaryFile()  # noqa: SIM115
        customer_export_xlsx(customers, file, hidden=hidden)
        file.seek(0)
        return FileResponse(
            file, as_attachment=True, filename=_filename(XLSX), content_type=XLSX_CONTENT_TYPE
        )
    lines = customer_export_csv_lines(customers, hidden=hidden)
    response = StreamingHttpResponse(
        _in_batches(lines) if asynchronous else lines, content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(CSV)}"'
    return response
