"""The operators' command: `manage.py import_customers FILE [--dry-run] [--report REPORT.csv]
[--owner USERNAME] [--keep-extra-columns] [--overwrite] [--date-order dmy|mdy]`."""

import csv
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from customers.models import Company, Customer, ImportJob
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

FILE = (
    "Full Name,Email Address,Mobile,Mailing City,Account Name,Shoe size\n"
    "Ann Lee,ann@example.com,13800138000,Shanghai,Acme,38\n"
    "Bo Li,bo@example.com,,Beijing,Acme,42\n"
    "Ann Lee,ann@example.com,,,,\n"
    "Cy Wu,broken@,,,,\n"
)


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(FILE, encoding="utf-8-sig")
    return path


def import_customers(*args) -> str:
    out = StringIO()
    call_command("import_customers", *[str(arg) for arg in args], stdout=out)
    return out.getvalue()


def test_prints_the_counts_and_the_ignored_columns(csv_file):
    # when
    output = import_customers(csv_file)

    # then
    assert "rows: 4  created: 2  updated: 0  unchanged: 0  merged: 1  rejected: 1" in output
    assert "Ignored columns: Shoe size" in output
    assert Customer.objects.count() == 2
    job = ImportJob.objects.get()
    assert (job.status, job.owner, job.created_count) == (ImportJob.Status.COMPLETED, None, 2)


def test_a_second_run_creates_nothing(csv_file):
    import_customers(csv_file)
    output = import_customers(csv_file)
    assert "rows: 4  created: 0  updated: 0  unchanged: 2  merged: 1  rejected: 1" in output
    assert Customer.objects.count() == 2


def test_dry_run_writes_nothing(csv_file, tmp_path):
    # given an existing customer the file would update
    CustomerFactory(email="bo@example.com", city="")
    report = tmp_path / "report.csv"

    # when
    output = import_customers(csv_file, "--dry-run", "--report", report)

    # then the counts say what would happen, and not a row or a job was written
    assert "Dry run: nothing was written." in output
    assert "rows: 4  created: 1  updated: 1  unchanged: 0  merged: 1  rejected: 1" in output
    assert Customer.objects.count() == 1
    assert Customer.objects.get().city == ""
    assert not Company.objects.exists()
    assert not ImportJob.objects.exists()
    assert [row["outcome"] for row in csv.DictReader(report.open(encoding="utf-8-sig"))] == [
        "created",
        "updated",
        "merged",
        "rejected",
    ]


def test_report_writes_each_rows_outcome(csv_file, tmp_path):
    report = tmp_path / "report.csv"
    output = import_customers(csv_file, "--report", report)
    rows = list(csv.DictReader(report.open(encoding="utf-8-sig")))
    assert f"Report: {report}" in output
    assert [(row["row"], row["outcome"], row["column"]) for row in rows] == [
        ("2", "created", ""),
        ("3", "created", ""),
        ("4", "merged", ""),
        ("5", "rejected", "Email Address"),
    ]


def test_keep_extra_columns_and_owner(csv_file, rep, team):
    # when
    output = import_customers(csv_file, "--keep-extra-columns", "--owner", "rep")

    # then
    assert "Ignored columns" not in output
    ann = Customer.objects.get(email="ann@example.com")
    assert ann.custom_attributes == {"Shoe size": "38"}
    assert (ann.owner, ann.team) == (rep, team)


def test_overwrite_and_date_order(tmp_path):
    # given
    CustomerFactory(email="ann@example.com", city="Shanghai")
    path = tmp_path / "update.csv"
    path.write_text("Email,City,Birthday\nann@example.com,Beijing,03/02/1985\n")

    # when
    output = import_customers(path, "--overwrite", "--date-order", "mdy")

    # then
    assert "updated: 1" in output
    ann = Customer.objects.get()
    assert (ann.city, ann.birthday.isoformat()) == ("Beijing", "1985-03-02")


def test_refuses_an_unknown_owner_and_an_unreadable_file(csv_file, tmp_path):
    with pytest.raises(CommandError, match="No active user named 'nobody'"):
        import_customers(csv_file, "--owner", "nobody")
    binary = tmp_path / "book.xlsx"
    binary.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(CommandError, match="Excel workbook"):
        import_customers(binary)
    with pytest.raises(CommandError, match="No such file"):
        import_customers(tmp_path / "missing.csv")
    assert not Customer.objects.exists()
