"""The one check every uploaded file passes before it is stored (record attachments, chat files,
ticket attachments).

A file's type is read from its first bytes, never from its name or from what the browser says:
both are chosen by whoever uploads it. The type must be one people actually exchange in a CRM,
and the name's extension must agree with it, so that the file opens as what it claims to be on
the computer that downloads it.
"""

import codecs
import os

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

# Enough for every signature filetype looks at: Office documents name their parts within the
# first 6000 bytes of the zip.
SNIFF_BYTES = 8 * 1024
# Markup is looked for at the start, where a browser would decide a file is a page.
MARKUP_SNIFF_CHARS = 1024

# The content types accepted, each with the file name extensions that agree with it.
# HTML, SVG and XML are left out on purpose: a browser runs the script they may hold, on our
# origin if a file is ever shown inline. Executables, scripts and macro-enabled Office files are
# left out because a download must not be a program.
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    # Photos and screenshots.
    "image/png": ("png",),
    "image/apng": ("png", "apng"),
    "image/jpeg": ("jpg", "jpeg"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    # Quotes, contracts, invoices.
    "application/pdf": ("pdf",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("pptx",),
    "application/vnd.oasis.opendocument.text": ("odt",),
    "application/vnd.oasis.opendocument.spreadsheet": ("ods",),
    "application/vnd.oasis.opendocument.presentation": ("odp",),
    # Older customers still send Office 97-2003 files.
    "application/msword": ("doc",),
    "application/vnd.ms-excel": ("xls",),
    "application/zip": ("zip",),
    # Notes, exports and calendar invitations (checked as text below).
    "text/plain": ("txt", "text", "log"),
    "text/csv": ("csv",),
    "text/markdown": ("md", "markdown"),
    "text/calendar": ("ics",),
    # Call recordings.
    "audio/mpeg": ("mp3",),
    "audio/x-wav": ("wav",),
    "audio/mp4": ("m4a",),
    "video/mp4": ("mp4",),
}

TEXT_TYPES_BY_EXTENSION = {
    extension: content_type
    for content_type, extensions in ALLOWED_TYPES.items()
    if content_type.startswith("text/")
    for extension in extensions
}

# filetype recognises an Office document from the first parts named in its zip; files written by
# some programs order their parts otherwise and sniff as a plain zip. Those are taken for what
# their extension says: the type is still an Office one, and Office opens nothing else.
ZIPPED_DOCUMENT_TYPES_BY_EXTENSION = {
    extensions[0]: content_type
    for content_type, extensions in ALLOWED_TYPES.items()
    if "openxmlformats" in content_type or "opendocument" in content_type
}

MARKUP_MARKERS = ("<html", "<!doctype html", "<script", "<svg", "<?xml")

MEGABYTE = 1024 * 1024


def upload_max_bytes() -> int:
    return settings.CRM_UPLOAD_MAX_BYTES


def megabytes(size: int) -> str:
    """A size in bytes as megabytes for a message: "25", "2.5"."""
    return f"{size / MEGABYTE:.1f}".removesuffix(".0")


def _extension(name: str) -> str:
    return os.path.splitext(name)[1].lstrip(".").lower()


def _head(upload: UploadedFile) -> bytes:
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    return head


def _as_text(head: bytes) -> str | None:
    """The sample decoded, when it is UTF-8 (or UTF-16 with a byte order mark) without NUL
    characters; None for anything binary."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    # Incremental, so a character cut in two by the end of the sample is not taken for bad bytes.
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        text = decoder.decode(head, final=False)
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def _looks_like_markup(text: str) -> bool:
    start = text[:MARKUP_SNIFF_CHARS].lower()
    return any(marker in start for marker in MARKUP_MARKERS)


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def upload_check(upload: UploadedFile, *, max_bytes: int | None = None) -> str:
    """The content type read from the upload's first bytes; ValidationError, naming the file and
    the reason, when the file is empty, larger than `max_bytes` (CRM_UPLOAD_MAX_BYTES unless
    given), of a type not accepted, or named with an extension its content disagrees with."""
    name = os.path.basename(upload.name or "") or _("the file")
    limit = upload_max_bytes() if max_bytes is None else max_bytes
    if not upload.size:
        raise _refuse(_("“%(name)s” is empty.") % {"name": name}, "empty")
    if upload.size > limit:
        raise _refuse(
            _("“%(name)s” is too big: a file may be at most %(mb)s MB.")
            % {"name": name, "mb": megabytes(limit)},
            "too_big",
        )
    head = _head(upload)
    extension = _extension(name)
    kind = filetype.guess(head)
    if kind is not None:
        content_type = kind.mime
        if content_type == "application/zip" and extension in ZIPPED_DOCUMENT_TYPES_BY_EXTENSION:
            content_type = ZIPPED_DOCUMENT_TYPES_BY_EXTENSION[extension]
        if content_type not in ALLOWED_TYPES:
            raise _refuse(
                _("“%(name)s” is a file of a type that cannot be uploaded (%(type)s).")
                % {"name": name, "type": content_type},
                "type_not_allowed",
            )
    else:
        text = _as_text(head)
        if text is None:
            raise _refuse(
                _("“%(name)s” is a file of a type that cannot be uploaded.") % {"name": name},
                "type_not_allowed",
            )
        if _looks_like_markup(text):
            raise _refuse(
                _("“%(name)s” looks like a web page or drawing (HTML, SVG, XML): not allowed.")
                % {"name": name},
                "type_not_allowed",
            )
        content_type = TEXT_TYPES_BY_EXTENSION.get(extension, "text/plain")
    if extension and extension not in ALLOWED_TYPES[content_type]:
        raise _refuse(
            _("“%(name)s” is named .%(extension)s but its content is %(type)s.")
            % {"name": name, "extension": extension, "type": content_type},
            "extension_mismatch",
        )
    return content_type
