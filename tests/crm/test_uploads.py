"""The upload check every stored file passes: its type is read from its bytes, and the name must
agree with it."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.uploads import upload_check

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01"
    b"\x08\x02\x00\x00\x00\x90wS\xde"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x0f" + b"\x00" * 32
HTML = b"<!doctype html>\n<html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def upload(name: str, content: bytes, claimed: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=claimed)


def zipped(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def refusal(file, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        upload_check(file, **kwargs)
    return caught.value


# Accepted ----------------------------------------------------------------------------------------


def test_a_pdf_is_accepted_whatever_the_browser_claims():
    assert upload_check(upload("quote.pdf", PDF, claimed="text/html")) == "application/pdf"


def test_a_png_and_a_jpeg_are_accepted():
    assert upload_check(upload("screen.png", PNG)) == "image/png"
    assert upload_check(upload("photo.JPG", JPEG)) == "image/jpeg"


def test_a_word_document_is_recognised_inside_its_zip():
    docx = zipped("[Content_Types].xml", "_rels/.rels", "word/document.xml")

    content_type = upload_check(upload("contract.docx", docx))

    assert content_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_an_office_file_whose_parts_come_in_another_order_is_taken_for_its_extension():
    xlsx = zipped("docProps/app.xml", "other/a.xml", "other/b.xml", "other/c.xml", "other/d.xml")

    content_type = upload_check(upload("prices.xlsx", xlsx))

    assert content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_plain_zip_is_accepted():
    assert upload_check(upload("export.zip", zipped("a.txt"))) == "application/zip"


def test_a_csv_export_is_accepted_as_csv():
    content = b"name,email\nAda Lovelace,ada@example.com\n"

    assert upload_check(upload("customers.csv", content)) == "text/csv"


def test_chinese_text_in_utf8_is_accepted():
    content = "客户会议纪要：下周二报价。\n".encode()

    assert upload_check(upload("纪要.txt", content)) == "text/plain"


def test_utf16_text_with_a_byte_order_mark_is_accepted():
    content = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".encode("utf-16")

    assert upload_check(upload("invite.ics", content)) == "text/calendar"


def test_a_call_recording_is_accepted():
    assert upload_check(upload("call.mp3", MP3)) == "audio/mpeg"


def test_the_file_can_be_read_from_the_start_after_the_check():
    file = upload("quote.pdf", PDF)

    upload_check(file)

    assert file.read() == PDF


# Refused -----------------------------------------------------------------------------------------


def test_a_program_renamed_pdf_is_refused():
    error = refusal(upload("invoice.pdf", EXE))

    assert error.code == "type_not_allowed"
    assert "invoice.pdf" in error.messages[0]


def test_a_web_page_renamed_png_is_refused():
    error = refusal(upload("cat.png", HTML, claimed="image/png"))

    assert error.code == "type_not_allowed"
    assert "cat.png" in error.messages[0]


def test_an_svg_drawing_is_refused():
    error = refusal(upload("logo.svg", SVG, claimed="image/svg+xml"))

    assert error.code == "type_not_allowed"


def test_an_svg_named_txt_is_refused_too():
    assert refusal(upload("notes.txt", SVG)).code == "type_not_allowed"


def test_a_jpeg_named_png_disagrees_with_its_name():
    error = refusal(upload("photo.png", JPEG))

    assert error.code == "extension_mismatch"
    assert "photo.png" in error.messages[0]


def test_text_named_like_a_program_is_refused():
    assert refusal(upload("run.exe", b"echo hello\n")).code == "extension_mismatch"


def test_binary_content_that_is_no_known_type_is_refused():
    assert refusal(upload("data.txt", b"\x00\x01\x02\x03binary\x00")).code == "type_not_allowed"


def test_an_empty_file_is_refused():
    error = refusal(upload("empty.pdf", b""))

    assert error.code == "empty"
    assert "empty.pdf" in error.messages[0]


def test_a_file_over_the_limit_is_refused_with_the_limit_in_megabytes():
    error = refusal(upload("big.pdf", PDF + b"\x00" * (3 * 1024 * 1024)), max_bytes=3 * 1024 * 1024)

    assert error.code == "too_big"
    assert "big.pdf" in error.messages[0]
    assert "3 MB" in error.messages[0]


def test_the_limit_comes_from_the_settings(settings):
    settings.CRM_UPLOAD_MAX_BYTES = 1024 * 1024 * 3 // 2

    error = refusal(upload("big.pdf", PDF + b"\x00" * (2 * 1024 * 1024)))

    assert "1.5 MB" in error.messages[0]
