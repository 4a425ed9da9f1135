"""Reading an uploaded CSV file as a stream: its encoding, its delimiter, its header, its rows.

UTF-8 (with or without a byte-order mark) is tried first and GB18030 (a superset of GBK and
GB2312, what Excel writes on a Chinese Windows) second; a UTF-16 file is recognised by its
byte-order mark. The delimiter is whichever of comma, semicolon, tab or bar splits the header
into the most columns. Quoted fields may hold delimiters and line breaks.

A file is checked from end to end (`CsvFile.scan`) before anything is imported, so a file that
cannot be read is refused whole, with the line where reading failed, and nothing is written.
Memory stays bounded: the file is read through a text stream, never loaded whole.
"""

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.utils.translation import gettext as _

from customers.cleaning import fold_whitespace

UTF8 = "utf-8-sig"  # reads files with and without the byte-order mark alike
GB18030 = "gb18030"
ENCODINGS = (UTF8, GB18030, "utf-16")
DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
_BINARY_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook or another zip file",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook",
    b"%PDF": "a PDF document",
}


class FileUnreadable(ValueError):
    """The file cannot be read as CSV; the message says why, for the person who uploaded it."""


class WrongEncoding(FileUnreadable):
    """A line of the file is not text in the encoding it was read in."""


@dataclass(frozen=True)
class CsvFormat:
    encoding: str
    delimiter: str


def _decodes(sample: bytes, encoding: str) -> bool:
    # Incremental, so a character cut in two at the end of the sample does not count as an error.
    try:
        codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _guess_encoding(sample: bytes) -> str:
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for signature, kind in _BINARY_SIGNATURES.items():
        if sample.startswith(signature):
            raise FileUnreadable(
                _("This looks like %(kind)s, not a CSV file; save it as CSV first.")
                % {"kind": kind}
            )
    if b"\x00" in sample:
        raise FileUnreadable(_("This is a binary file, not a CSV file."))
    for encoding in (UTF8, GB18030):
        if _decodes(sample, encoding):
            return encoding
    raise FileUnreadable(_("The file is neither UTF-8 nor GB18030/GBK text."))


def _guess_delimiter(first_line: str) -> str:
    def columns(delimiter: str) -> int:
        try:
            return len(next(csv.reader([first_line], delimiter=delimiter), []))
        except csv.Error:
            return 0

    best = max(DELIMITERS, key=columns)
    return best if columns(best) > 1 else ","


def unique_headers(raw: list[str]) -> list[str]:
    """Folded header names, with blanks named by position and repeats numbered."""
    headers: list[str] = []
    seen: set[str] = set()
    for position, name in enumerate(raw, start=1):
        header = fold_whitespace(name.lstrip("\ufeff")) or _("Column %(n)s") % {"n": position}
        candidate, repeat = header, 1
        while candidate.casefold() in seen:
            repeat += 1
            candidate = f"{header} ({repeat})"
        seen.add(candidate.casefold())
        headers.append(candidate)
    return headers


class CsvFile:
    """A CSV file opened afresh by `opener` for each pass (the check, then the import)."""

    def __init__(self, opener: Callable[[], BinaryIO], *, csv_format: CsvFormat | None = None):
        self._opener = opener
        self._sample_is_ascii = False
        self.format = csv_format or self._sniff()

    def _sniff(self) -> CsvFormat:
        with self._opener() as stream:
            sample = stream.read(SAMPLE_BYTES)
        if not sample.strip():
            raise FileUnreadable(_("The file is empty."))
        self._sample_is_ascii = sample.isascii()
        encoding = _guess_encoding(sample)
        text = codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        first_line = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
        return CsvFormat(encoding=encoding, delimiter=_guess_delimiter(first_line))

    def _lines(self, stream: BinaryIO) -> Iterator[str]:
        """The file's lines as text, decoded one by one so a bad byte is found on its line.

        Splitting the bytes at b"\n" is safe in UTF-8 and GB18030, where that byte is never part
        of a longer character; UTF-16 is decoded as a stream instead.
        """
        if self.format.encoding == "utf-16":
            yield from io.TextIOWrapper(stream, encoding="utf-16", newline="")
            return
        decoder = codecs.getincrementaldecoder(self.format.encoding)()
        rest = b""
        number = 0
        try:
            while chunk := stream.read(CHUNK_BYTES):
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    number += 1
                    yield decoder.decode(line + b"\n")
            if rest:
                number += 1
                yield decoder.decode(rest, final=True)
        except UnicodeDecodeError as exc:
            raise WrongEncoding(
                _("Line %(line)s of the file is not %(encoding)s text.")
                % {"line": number, "encoding": self.encoding_label}
            ) from exc

    def _records(self) -> Iterator[list[str]]:
        """Every record of the file, the header first."""
        with self._opener() as stream:
            reader = csv.reader(self._lines(stream), delimiter=self.format.delimiter, strict=True)
            try:
                yield from reader
            except csv.Error as exc:
                raise FileUnreadable(
                    _("The file is not valid CSV near line %(line)s: %(error)s.")
                    % {"line": reader.line_num, "error": exc}
                ) from exc

    @property
    def encoding_label(self) -> str:
        return {UTF8: "UTF-8", GB18030: "GB18030/GBK", "utf-16": "UTF-16"}.get(
            self.format.encoding, self.format.encoding
        )

    def header(self) -> list[str]:
        values = next(self._records(), [])
        if not any(value.strip() for value in values):
            raise FileUnreadable(_("The first line of the file must name the columns."))
        return unique_headers(values)

    def scan(self) -> int:
        """Read the whole file and return how many rows follow the header.

        A UTF-8 guess made from an all-ASCII start of the file is revised to GB18030 when a later
        part turns out not to be UTF-8. A file that mixes the two encodings is refused.
        """
        try:
            return self._count()
        except WrongEncoding as not_utf8:
            if self.format.encoding != UTF8 or not self._sample_is_ascii:
                raise
            utf8 = self.format
            self.format = CsvFormat(encoding=GB18030, delimiter=utf8.delimiter)
            try:
                return self._count()
            except WrongEncoding:
                self.format = utf8
                raise not_utf8 from None

    def _count(self) -> int:
        self.header()
        return sum(1 for _row in self.rows())

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, values) for every row after the header; the header is row 1."""
        records = self._records()
        next(records, None)
        yield from enumerate(records, start=2)
