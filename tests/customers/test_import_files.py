"""Reading import files: encodings, delimiters, quoted fields, and files refused whole."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from customers.importing import pipeline
from customers.models import Company, Customer, ImportJob
from customers.services import importing

pytestmark = pytest.mark.django_db

HEADER = "Name,Email,Mobile,City\n"


def upload(content: bytes, **options) -> ImportJob:
    return importing.import_job_create(
        actor=None, file=ContentFile(content, name="customers.csv"), options=options
    )


def run(job: ImportJob) -> tuple[ImportJob, list[dict]]:
    importing.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    if not job.report:
        return job, []
    with job.report.open("rb") as report:
        return job, list(csv.DictReader(io.TextIOWrapper(report, encoding="utf-8-sig")))


def import_bytes(content: bytes, **options) -> tuple[ImportJob, list[dict]]:
    return run(upload(content, **options))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_reads_utf8_with_and_without_bom_and_gb18030(encoding):
    # given a file with Chinese headers and values in the encoding
    text = "姓名,邮箱,手机,城市,公司\n王芳,wang.fang@example.cn,13800138000,上海,华信科技有限公司\n"

    # when
    job, report = import_bytes(text.encode(encoding))

    # then the values arrive intact, whatever the encoding
    assert job.status == ImportJob.Status.COMPLETED
    assert [row["outcome"] for row in report] == ["created"]
    customer = Customer.objects.get()
    assert (customer.name, customer.city, customer.company.name) == (
        "王芳",
        "上海",
        "华信科技有限公司",
    )
    assert customer.phone == "+8613800138000"


def test_gb18030_file_whose_first_lines_are_ascii_is_still_read(monkeypatch):
    # given a GBK file whose Chinese text comes only after the part read to guess the encoding
    monkeypatch.setattr("customers.importing.reading.SAMPLE_BYTES", 40)
    text = HEADER + "Ann Lee,ann@example.com,13800138001,Shanghai\n李娜,li.na@example.cn,,北京\n"

    # when
    job, _report = import_bytes(text.encode("gbk"))

    # then
    assert job.status == ImportJob.Status.COMPLETED
    assert Customer.objects.filter(name="李娜", city="北京").exists()


def test_semicolon_delimiter_and_quoted_fields_with_newlines_and_delimiters():
    # given a semicolon-separated file (as European Excel writes it) with quoted multi-line notes
    text = (
        "Name;Email;Notes;Annual Income\n"
        '"Smith; John";john@example.com;"Met at the fair.\nCall back in May.";"1.234,50 €"\n'
        "Jane Doe;jane@example.com;;\n"
    )

    # when
    _job, report = import_bytes(text.encode())

    # then each quoted field is one value and the row numbers count records, not lines
    assert [(row["row"], row["outcome"]) for row in report] == [("2", "created"), ("3", "created")]
    john = Customer.objects.get(email="john@example.com")
    assert john.name == "Smith; John"
    assert john.notes == "Met at the fair.\nCall back in May."
    assert (str(john.annual_income), john.income_currency) == ("1234.50", "EUR")


def test_tab_separated_utf16_file_from_excel():
    # given Excel's "Unicode text": UTF-16 with a byte-order mark, tab separated
    text = "Name\tEmail\nAnn Lee\tann@example.com\n"

    # when
    _job, _report = import_bytes(text.encode("utf-16"))

    # then
    assert Customer.objects.filter(name="Ann Lee", email="ann@example.com").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"PK\x03\x04\x14\x00\x06\x00rest-of-a-workbook", "Excel workbook"),
        (b"Name,Email\x00\x01\x02\n", "binary file"),
        (b"Name,Email\n" + "王芳".encode() + b"\xff\xfe\xfa\n", "neither UTF-8"),
        (b"\n\nName,Email\n", "must name the columns"),
    ],
)
def test_unreadable_file_is_refused_at_upload(content, message):
    # when  # then the upload is refused with a reason and no job or file is kept
    with pytest.raises(ValidationError) as refused:
        upload(content)
    assert message in " ".join(refused.value.message_dict["file"])
    assert not ImportJob.objects.exists()


def test_file_that_breaks_after_the_first_batch_is_refused_whole(monkeypatch):
    # given batches of two rows and a file whose fifth row has a stray quote
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 2)
    rows = [f"Person {n},p{n}@example.com,,Shanghai\n" for n in range(4)]
    text = HEADER + "".join(rows) + '"Broken" quote,x@example.com,,Shanghai\n' + rows[0]

    # when
    job, _report = import_bytes(text.encode())

    # then the file is rejected with the line, and not one row was written
    assert job.status == ImportJob.Status.FAILED
    assert "line 6" in job.error
    assert "Nothing was imported" in job.error
    assert Customer.objects.count() == 0
    assert job.processed_rows == 0
    assert not job.report


def test_file_that_changes_encoding_midway_is_refused_whole(monkeypatch):
    # given a UTF-8 file (with Chinese in the part used to guess) that turns into GBK later
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 1)
    head = (HEADER + "王芳,wf@example.cn,,上海\n").encode()
    tail = "李娜,ln@example.cn,,北京\n".encode("gbk")
    monkeypatch.setattr("customers.importing.reading.SAMPLE_BYTES", len(head))

    # when
    job, _report = import_bytes(head + tail)

    # then
    assert job.status == ImportJob.Status.FAILED
    assert "Line 3 of the file is not UTF-8 text." in job.error
    assert Customer.objects.count() == 0


def test_row_with_more_values_than_the_header_is_rejected_alone():
    # given
    text = HEADER + "Ann Lee,ann@example.com,,Shanghai,surprise\nBo Li,bo@example.com,,Beijing\n"

    # when
    _job, report = import_bytes(text.encode())

    # then
    assert [row["outcome"] for row in report] == ["rejected", "created"]
    assert "5 values but the header has 4 columns" in report[0]["reason"]


def test_blank_and_repeated_headers_get_names_of_their_own():
    # given a header with a repeated and a blank column name, kept as custom attributes
    text = "Name,Email,Phone,Phone,\nAnn Lee,ann@example.com,13800138000,010-12345678,VIP\n"

    # when
    _job, _report = import_bytes(text.encode(), keep_extra_columns=True)

    # then
    customer = Customer.objects.get()
    assert customer.phone == "+8613800138000"
    assert customer.custom_attributes == {"Phone (2)": "010-12345678", "Column 5": "VIP"}
    assert Company.objects.count() == 0
