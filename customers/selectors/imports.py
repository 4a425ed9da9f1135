"""Reads of customer imports: whose imports a person sees, a file's columns, and a preview.

A person sees the imports they started; admins see every import.
"""

from dataclasses import dataclass
from itertools import islice

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from crm.accounts.models import User
from crm.accounts.selectors import user_is_admin
from customers.importing.mapping import CUSTOM, IGNORE, TARGETS, mapping_suggest
from customers.importing.reading import CsvFile
from customers.importing.rows import RowCleaner, default_date_order
from customers.models import ImportJob

SAMPLE_ROWS = 3
PREVIEW_ROWS = 10


def import_job_list_visible(*, user: User) -> QuerySet[ImportJob]:
    jobs = ImportJob.objects.select_related("owner").order_by("-created_at", "-id")
    return jobs if user_is_admin(user) else jobs.filter(owner=user)


def import_job_get_visible(*, user: User, pk: int) -> ImportJob:
    return import_job_list_visible(user=user).get(pk=pk)


def _csv_file(job: ImportJob) -> CsvFile:
    return CsvFile(lambda: job.file.storage.open(job.file.name, "rb"))


@dataclass(frozen=True)
class ImportColumn:
    header: str
    samples: list[str]
    suggested: str


def import_job_columns(*, job: ImportJob) -> list[ImportColumn]:
    """The file's columns, a few of their values, and the field each one seems to hold."""
    csv_file = _csv_file(job)
    headers = csv_file.header()
    samples = [cells for _number, cells in islice(csv_file.rows(), SAMPLE_ROWS)]
    suggested = mapping_suggest(headers)
    return [
        ImportColumn(
            header=header,
            samples=[cells[position] for cells in samples if position < len(cells)],
            suggested=suggested.get(header, IGNORE),
        )
        for position, header in enumerate(headers)
    ]


@dataclass(frozen=True)
class PreviewRow:
    number: int
    values: list[str]
    errors: list[str]
    notes: list[str]


@dataclass(frozen=True)
class ImportPreview:
    fields: list[str]
    rows: list[PreviewRow]
    ignored: list[str]


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


def import_job_preview(*, job: ImportJob, mapping: dict, options: dict) -> ImportPreview:
    """The first rows of the file as the import would clean them (nothing is matched or written)."""
    csv_file = _csv_file(job)
    cleaner = RowCleaner(
        headers=csv_file.header(),
        mapping=mapping,
        keep_extra_columns=False,
        date_order=options.get("date_order") or default_date_order(),
    )
    targets = set(mapping.values())
    fields = [name for name in TARGETS if name in targets and name not in ("first_name", "age")]
    if "first_name" in targets or "last_name" in targets:
        fields = ["name", *[name for name in fields if name not in ("name", "last_name")]]
    fields = [name for name in fields if name != "income_currency"]
    show_custom = CUSTOM in targets
    rows = []
    for number, cells in islice(csv_file.rows(), PREVIEW_ROWS):
        row = cleaner.clean(number, cells)
        values = []
        for name in fields:
            if name == "company":
                values.append(row.company)
            elif name == "tags":
                values.append(", ".join(row.tags))
            elif name == "annual_income" and "annual_income" in row.values:
                values.append(f"{row.values['annual_income']} {row.values['income_currency']}")
            else:
                values.append(_shown(row.values.get(name)))
        if show_custom:
            values.append("; ".join(f"{key}: {value}" for key, value in row.custom.items()))
        rows.append(
            PreviewRow(
                number=number,
                values=values,
                errors=[
                    f"{column}: {reason}" if column else reason for column, reason in row.errors
                ],
                notes=row.notes,
            )
        )
    labels = [str(TARGETS[name]) for name in fields]
    if show_custom:
        labels.append(_("Custom attributes"))
    return ImportPreview(fields=labels, rows=rows, ignored=cleaner.ignored_headers)


def import_job_ignored_columns(*, job: ImportJob) -> list[str]:
    """Columns of a started import that went nowhere."""
    headers = _csv_file(job).header()
    keep = job.options.get("keep_extra_columns", False)
    return [
        header
        for header in headers
        if job.mapping.get(header) == IGNORE or (header not in job.mapping and not keep)
    ]
