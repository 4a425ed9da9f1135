"""The outcome of every row, the counts, and the report CSV that lists them.

Every row of a file ends in exactly one outcome: created, updated (something was filled in),
unchanged (it matched a customer that already had everything it said), merged (a later row of
the same file that is the same customer as an earlier one; its values went to that row's
customer) or rejected (with the column and the reason).
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import BinaryIO, Protocol

from django.core.files.base import ContentFile
from django.core.files.storage import Storage

from customers.services.export import spreadsheet_safe

# Not translated: programs read the report, and a resumed import reads its own.
REPORT_COLUMNS = [
    "row",
    "outcome",
    "customer_id",
    "merged_into_row",
    "column",
    "reason",
    "changed_fields",
    "notes",
]


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    MERGED = "merged"
    REJECTED = "rejected"


@dataclass
class RowResult:
    number: int
    outcome: Outcome
    customer_id: int | None = None
    merged_into: int | None = None
    column: str = ""
    reason: str = ""
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    matched_on: str = ""  # the identifying field that found the customer, if one did


@dataclass
class ImportCounts:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    rejected: int = 0

    def add(self, outcome: Outcome) -> None:
        self.rows += 1
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)

    def __iadd__(self, other: "ImportCounts") -> "ImportCounts":
        for name in ("rows", "created", "updated", "unchanged", "merged", "rejected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


def report_line(result: RowResult) -> list[str]:
    # Columns, reasons and notes quote the file, so a cell may hold what a spreadsheet would run.
    return [
        str(result.number),
        result.outcome.value,
        str(result.customer_id or ""),
        str(result.merged_into or ""),
        spreadsheet_safe(result.column),
        spreadsheet_safe(result.reason),
        " ".join(result.changes),
        spreadsheet_safe("; ".join(result.notes)),
    ]


def _csv_text(lines: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(lines)
    return buffer.getvalue()


class ReportSink(Protocol):
    """Where a run sends the results of each batch."""

    def write(self, results: list[RowResult]) -> None: ...


class DiscardedReport:
    def write(self, results: list[RowResult]) -> None:
        return None


class StreamReport:
    """The report written straight to a text stream (the command's --report on a dry run)."""

    def __init__(self, stream):
        self._writer = csv.writer(stream, lineterminator="\r\n")
        self._writer.writerow(REPORT_COLUMNS)

    def write(self, results: list[RowResult]) -> None:
        self._writer.writerows(report_line(result) for result in results)


@dataclass(frozen=True)
class JournalEntry:
    number: int
    outcome: Outcome
    customer_id: int | None
    merged_into: int | None


class PartedReport:
    """The report of a stored import, one file per batch under `folder` in `storage`.

    A batch's part is saved inside the batch's transaction, just before it commits, so the parts
    always cover at least the rows the job counts as processed; on a resumed run, parts beyond
    that point are discarded and written again, and the parts already there tell the resumed run
    what the earlier rows became (`journal`). `assemble` joins the parts into the final report.
    """

    def __init__(self, *, storage: Storage, folder: str):
        self._storage = storage
        self._folder = folder.rstrip("/")

    def _part_names(self) -> list[str]:
        # Listed, not asked whether it exists: a bucket has no folders, only names with slashes.
        try:
            _folders, files = self._storage.listdir(self._folder)
        except FileNotFoundError:
            return []
        return [f"{self._folder}/{name}" for name in sorted(files) if name.endswith(".csv")]

    @staticmethod
    def _first_row(name: str) -> int:
        return int(name.rsplit("/", 1)[-1].removesuffix(".csv"))

    def write(self, results: list[RowResult]) -> None:
        if not results:
            return
        name = f"{self._folder}/{results[0].number:010d}.csv"
        if self._storage.exists(name):
            self._storage.delete(name)
        content = _csv_text(report_line(result) for result in results)
        self._storage.save(name, ContentFile(content.encode()))

    def discard_from(self, number: int) -> None:
        for name in self._part_names():
            if self._first_row(name) >= number:
                self._storage.delete(name)

    def journal(self) -> Iterator[JournalEntry]:
        for name in self._part_names():
            with self._storage.open(name, "rb") as part:
                for line in csv.reader(io.TextIOWrapper(part, encoding="utf-8", newline="")):
                    yield JournalEntry(
                        number=int(line[0]),
                        outcome=Outcome(line[1]),
                        customer_id=int(line[2]) if line[2] else None,
                        merged_into=int(line[3]) if line[3] else None,
                    )

    def assemble(self, target: BinaryIO) -> None:
        """Write the whole report (with a byte-order mark, for spreadsheets) to `target`."""
        target.write(("\ufeff" + _csv_text([REPORT_COLUMNS])).encode())
        for name in self._part_names():
            with self._storage.open(name, "rb") as part:
                while chunk := part.read(1 << 20):
                    target.write(chunk)

    def delete(self) -> None:
        for name in self._part_names():
            self._storage.delete(name)
