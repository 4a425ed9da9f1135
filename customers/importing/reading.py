"""Reading an uploaded CSV file as a stream: its encoding, its delimiter, its header, its rows.

A UTF-16 file is recognised by its byte-order mark. Otherwise a strict UTF-8 decode (with or
without a byte-order mark) is tried first; a file that is not UTF-8 was written by Excel in the
legacy encoding of its Windows: GB18030 (a superset of GBK and GB2312) on a Chinese one,
Windows-1252 (a superset of Latin-1's letters) on a Western European one. Almost any bytes decode
as either, so the one chosen is the one whose text is plausible (see `_legacy_encoding`). The
delimiter is whichever of comma, semicolon, tab or bar splits the header
into the most columns. Quoted fields may hold delimiters and line breaks.

A file is checked from end to end (`CsvFile.scan`) before anything is imported, so a file that
cannot be read is refused whole, with the line where reading failed, and nothing is written.
Memory stays bounded: the file is read through a text stream, never loaded whole.
"""

import codecs
import csv
import io
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.utils.translation import gettext as _

from customers.cleaning import fold_whitespace

UTF8 = "utf-8-sig"  # reads files with and without the byte-order mark alike
GB18030 = "gb18030"
CP1252 = "cp1252"
DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
PLAUSIBLE_CHINESE_SHARE = 0.5
PLAUSIBLE_WESTERN_SHARE = 0.9
WESTERN_PUNCTUATION = frozenset("‘’‚“”„–—…«»¡¿°ºª·×÷€£¥¢§¶©®™")
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
    if _decoded(sample, UTF8) is not None:
        return UTF8
    return _legacy_encoding(sample)


def _decoded(sample: bytes, encoding: str) -> str | None:
    # Incremental, so a character cut in two at the end of the sample does not count as an error.
    try:
        return codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError:
        return None


def _share(text: str, plausible: Callable[[str], bool]) -> float:
    beyond_ascii = [character for character in text if not character.isascii()]
    return sum(map(plausible, beyond_ascii)) / len(beyond_ascii) if beyond_ascii else 1.0


def _common_chinese(character: str) -> bool:
    # GB2312's 6,763 characters cover almost all Chinese text written (99.99 % by frequency).
    try:
        character.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _western(character: str) -> bool:
    return unicodedata.category(character)[0] in "LZ" or character in WESTERN_PUNCTUATION


def _legacy_encoding(sample: bytes) -> str:
    """GB18030 or Windows-1252, for bytes that are not UTF-8, by which reads as real text.

    Chinese text in GBK is made of common characters. A Western European file read as GB18030
    pairs each accented letter with the letter after it into a rare character of GBK's extension
    areas ("Crème" becomes "Cr鑝e"), and read as Windows-1252 it is letters; UTF-8 or Chinese read
    as Windows-1252 is a run of symbols ("çŽ‹"). A file that reads as neither is refused.
    """
    chinese = _decoded(sample, GB18030)
    if chinese is not None and _share(chinese, _common_chinese) > PLAUSIBLE_CHINESE_SHARE:
        return GB18030
    western = _decoded(sample, CP1252)
    if western is not None and _share(western, _western) >= PLAUSIBLE_WESTERN_SHARE:
        return CP1252
    if chinese is not None and western is None:
        return GB18030
    raise FileUnreadable(
        _("The file is neither UTF-8, GB18030/GBK nor Windows-1252 (Western European) text.")
    )


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

        Splitting the bytes at b"\n" is safe in UTF-8, GB18030 and Windows-1252, where that byte is
        never part of a longer character; UTF-16 is decoded as a stream instead.
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
        return {
            UTF8: "UTF-8",
            GB18030: "GB18030/GBK",
            CP1252: "Windows-1252",
            "utf-16": "UTF-16",
        }.get(self.format.encoding, self.format.encoding)

    def header(self) -> list[str]:
        values = next(self._records(), [])
        if not any(value.strip() for value in values):
            raise FileUnreadable(_("The first line of the file must name the columns."))
        return unique_headers(values)

    def scan(self) -> int:
        """Read the whole file and return how many rows follow the header.

        A UTF-8 guess made from an all-ASCII start of the file is revised, from the lines that
        are not ASCII, when a later part turns out not to be UTF-8. A file that mixes encodings
        is refused.
        """
        try:
            return self._count()
        except WrongEncoding as not_utf8:
            if self.format.encoding != UTF8 or not self._sample_is_ascii:
                raise
            utf8 = self.format
            self.format = CsvFormat(
                encoding=_legacy_encoding(self._beyond_ascii_sample()), delimiter=utf8.delimiter
            )
            try:
                return self._count()
            except WrongEncoding:
                self.format = utf8
                raise not_utf8 from None

    def _beyond_ascii_sample(self) -> bytes:
        """Up to SAMPLE_BYTES of the file's lines that hold more than ASCII."""
        sample = bytearray()
        with self._opener() as stream:
            # Lines read at most SAMPLE_BYTES at a time, so a file without line breaks is no
            # burden on memory.
            while line := stream.readline(SAMPLE_BYTES):
                if not line.isascii():
                    sample += line
                    if len(sample) >= SAMPLE_BYTES:
                        break
        return bytes(sample[:SAMPLE_BYTES])

    def _count(self) -> int:
        self.header()
        return sum(1 for _row in self.rows())

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, values) for every row after the header; the header is row 1."""
        records = self._records()
        next(records, None)
        yield from enumerate(records, start=2)
