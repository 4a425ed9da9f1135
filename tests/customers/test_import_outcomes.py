"""Row outcomes, counts and the report; idempotent re-import; batches, crashes and resuming;
the Celery task; bounded queries."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm import run_locks
from customers.importing import pipeline, writing
from customers.importing.report import REPORT_COLUMNS
from customers.models import Company, Customer, ImportJob, Tag
from customers.services import importing
from customers.tasks import import_customers_task
from tests.customers.factories import CompanyFactory, CustomerFactory
from tests.workers import run_lock_held_elsewhere

pytestmark = pytest.mark.django_db

MIXED = (
    "Name,Email,Phone,City,Company,Tags\n"
    "Ann Lee,ann@example.com,13800138000,Shanghai,Acme,newsletter\n"  # 2 created
    "Bo Li,bo@example.com,,Beijing,,\n"  # 3 updates the existing Bo (blank city)
    "Cy Wu,cy@example.com,,Shenzhen,,\n"  # 4 unchanged: Cy already has all of it
    "Ann Lee,ANN@example.com,,,,vip-event\n"  # 5 merged into row 2
    "Di Ma,not-an-email,,,,\n"  # 6 rejected
)


def upload(text: str, **options) -> ImportJob:
    return importing.import_job_create(
        actor=None, file=ContentFile(text.encode(), name="customers.csv"), options=options
    )


def report_of(job: ImportJob) -> list[dict]:
    with job.report.open("rb") as report:
        return list(csv.DictReader(io.TextIOWrapper(report, encoding="utf-8-sig")))


def run(text: str, **options) -> tuple[ImportJob, list[dict]]:
    job = upload(text, **options)
    importing.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job, report_of(job)


def people(count: int, start: int = 0) -> str:
    return "".join(
        f"Person {n},p{n}@example.com,+86138{n:08d},City {n % 7},Company {n % 5},tag-{n % 3}\n"
        for n in range(start, start + count)
    )


@pytest.fixture
def existing():
    CustomerFactory(name="Bo Li", email="bo@example.com", city="")
    CustomerFactory(name="Cy Wu", email="cy@example.com", city="Shenzhen")


def test_every_row_ends_in_exactly_one_outcome(existing):
    # when
    job, report = run(MIXED)

    # then the report lists each row once, in order, with its outcome
    assert list(report[0]) == REPORT_COLUMNS
    assert [(row["row"], row["outcome"]) for row in report] == [
        ("2", "created"),
        ("3", "updated"),
        ("4", "unchanged"),
        ("5", "merged"),
        ("6", "rejected"),
    ]
    ann = Customer.objects.get(email="ann@example.com")
    assert report[0]["customer_id"] == report[3]["customer_id"] == str(ann.pk)
    assert report[3]["merged_into_row"] == "2"
    assert (report[4]["column"], report[4]["reason"]) == (
        "Email",
        "“not-an-email” is not a valid email address.",
    )
    assert sorted(ann.tags.values_list("name", flat=True)) == ["newsletter", "vip-event"]

    # and the job counts them (unchanged rows count with the updated ones)
    assert job.status == ImportJob.Status.COMPLETED
    assert (job.total_rows, job.processed_rows, job.progress_percent) == (5, 5, 100)
    assert (job.created_count, job.updated_count, job.merged_count, job.rejected_count) == (
        1,
        2,
        1,
        1,
    )


def test_importing_the_same_file_twice_creates_nothing_new(existing):
    # given the file imported once
    run(MIXED)
    state = (
        sorted(Customer.objects.values_list("pk", "name", "email", "phone", "city", "company_id")),
        Company.objects.count(),
        Tag.objects.count(),
        Customer.tags.through.objects.count(),
    )

    # when it is imported again
    job, report = run(MIXED)

    # then nothing is created or changed
    assert job.created_count == 0
    assert [row["outcome"] for row in report] == [
        "unchanged",
        "unchanged",
        "unchanged",
        "merged",
        "rejected",
    ]
    assert state == (
        sorted(Customer.objects.values_list("pk", "name", "email", "phone", "city", "company_id")),
        Company.objects.count(),
        Tag.objects.count(),
        Customer.tags.through.objects.count(),
    )


def test_a_dry_run_reports_and_writes_no_customer(existing):
    job, report = run(MIXED, dry_run=True)
    assert [row["outcome"] for row in report] == [
        "created",
        "updated",
        "unchanged",
        "merged",
        "rejected",
    ]
    assert Customer.objects.count() == 2
    assert Company.objects.count() == 0
    assert Customer.objects.get(email="bo@example.com").city == ""
    assert job.status == ImportJob.Status.COMPLETED
    assert (job.processed_rows, job.created_count, job.updated_count) == (5, 1, 2)


def test_report_cells_cannot_run_as_spreadsheet_formulas():
    # given a column whose name is a formula, mapped by hand
    job = importing.import_job_create(
        actor=None,
        file=ContentFile(b"Name,=HYPERLINK(1)\nAnn Lee,not-an-email\n", name="evil.csv"),
        mapping={"Name": "name", "=HYPERLINK(1)": "email"},
    )

    # when
    importing.import_job_run(job_id=job.pk)
    job.refresh_from_db()

    # then
    assert report_of(job)[0]["column"] == "'=HYPERLINK(1)"


def test_progress_is_committed_with_each_batch(monkeypatch):
    # given batches of two rows, and a look at the job each time a batch writes
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 2)
    seen = []
    insert = writing.customers_insert

    def watching_insert(customers):
        job = ImportJob.objects.get()
        seen.append((job.total_rows, job.processed_rows, job.created_count))
        insert(customers)

    monkeypatch.setattr(writing, "customers_insert", watching_insert)

    # when
    job, _report = run("Name,Email,Phone,City,Company,Tags\n" + people(5))

    # then each batch finds the earlier batches counted
    assert seen == [(5, 0, 0), (5, 2, 2), (5, 4, 4)]
    assert job.processed_rows == 5


def test_a_failing_batch_keeps_the_batches_before_it(monkeypatch):
    # given batches of two rows, the second of which fails to write
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 2)
    insert = writing.customers_insert
    calls = []

    def failing_insert(customers):
        calls.append(len(customers))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        insert(customers)

    monkeypatch.setattr(writing, "customers_insert", failing_insert)

    # when
    job, report = run("Name,Email,Phone,City,Company,Tags\n" + people(5))

    # then the first batch is imported and reported, the failed one left no trace
    assert job.status == ImportJob.Status.FAILED
    assert "disk full" in job.error
    assert (job.processed_rows, job.created_count) == (2, 2)
    assert Customer.objects.count() == 2
    assert Company.objects.count() == 2
    assert [row["row"] for row in report] == ["2", "3"]


def test_a_batch_failing_as_it_commits_is_left_out_of_the_report(monkeypatch):
    # given batches of two rows, the second of which fails after its report part was written
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 2)
    record = importing._record_progress
    calls = []

    def failing_progress(job, counts):
        calls.append(counts.rows)
        if len(calls) == 2:
            raise RuntimeError("connection lost")
        record(job, counts)

    monkeypatch.setattr(importing, "_record_progress", failing_progress)

    # when
    job, report = run("Name,Email,Phone,City,Company,Tags\n" + people(5))

    # then the report holds exactly the rows the job counts
    assert job.status == ImportJob.Status.FAILED
    assert job.processed_rows == 2
    assert [row["row"] for row in report] == ["2", "3"]
    assert Customer.objects.count() == 2


def test_a_job_whose_worker_died_resumes_after_its_last_batch(monkeypatch):
    # given batches of two rows and a worker that dies writing the second batch
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 2)
    insert = writing.customers_insert
    calls = []

    def dying_insert(customers):
        calls.append(len(customers))
        if len(calls) == 2:
            raise SystemExit("worker lost")
        insert(customers)

    monkeypatch.setattr(writing, "customers_insert", dying_insert)
    text = "Name,Email,Phone,City,Company,Tags\n" + people(5) + people(1)  # row 7 repeats row 2
    job = upload(text)
    with pytest.raises(SystemExit):
        importing.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.processed_rows) == (ImportJob.Status.RUNNING, 2)

    # when the task is delivered again while another worker still runs the job, nothing happens
    monkeypatch.setattr(run_locks, "RELEASE_GRACE_SECONDS", 0.3)
    with run_lock_held_elsewhere(kind=run_locks.IMPORT_RUN, pk=job.pk):
        import_customers_task(job.pk)
    job.refresh_from_db()
    assert job.processed_rows == 2

    # and when it is delivered again after the lease ran out
    ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    import_customers_task(job.pk)

    # then it carries on from row 4, remembering what rows 2 and 3 became
    job.refresh_from_db()
    report = report_of(job)
    assert job.status == ImportJob.Status.COMPLETED
    assert [row["row"] for row in report] == ["2", "3", "4", "5", "6", "7"]
    assert [row["outcome"] for row in report][-1] == "merged"
    assert report[-1]["merged_into_row"] == "2"
    assert (job.processed_rows, job.created_count, job.merged_count) == (6, 5, 1)
    assert Customer.objects.count() == 5


def test_the_task_leaves_a_finished_job_alone():
    # given a finished import
    job = upload("Name\nAnn Lee\n")
    import_customers_task(job.pk)
    job.refresh_from_db()
    finished = (job.status, job.finished_at, job.report.name)

    # when the task runs again
    import_customers_task(job.pk)

    # then
    job.refresh_from_db()
    assert (job.status, job.finished_at, job.report.name) == finished
    assert Customer.objects.count() == 1


def test_a_mapping_that_does_not_fit_fails_the_job_before_writing():
    job = importing.import_job_create(
        actor=None,
        file=ContentFile(b"Name,Email\nAnn Lee,ann@example.com\n", name="a.csv"),
        await_mapping=True,
    )
    ImportJob.objects.filter(pk=job.pk).update(mapping={"Name": "shoe_size"})
    importing.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "not a field" in job.error
    assert not Customer.objects.exists()


def without_history_inserts(queries) -> list[dict]:
    """The queries, less the INSERTs of history rows: those go in with one bulk insert per batch,
    which SQLite, with its limit on query parameters, splits every couple of dozen rows."""
    return [
        query
        for query in queries.captured_queries
        if not (query["sql"].startswith("INSERT") and "_historical" in query["sql"].split("(")[0])
    ]


def test_queries_per_batch_do_not_grow_with_its_rows():
    # given existing customers and companies some rows match
    for n in range(0, 200, 10):
        CustomerFactory(email=f"p{n}@example.com", phone=f"+86138{n:08d}", city="")
    CompanyFactory(name="Company 1")

    def queries_for(count: int) -> int:
        job = upload("Name,Email,Phone,City,Company,Tags\n" + people(count))
        with CaptureQueriesContext(connection) as queries:
            importing.import_job_run(job_id=job.pk)
        return len(without_history_inserts(queries))

    # when
    few = queries_for(20)
    many = queries_for(200)

    # then two hundred rows take no more queries than twenty, and far fewer than 200
    assert many <= few + 2
    assert many < 60
