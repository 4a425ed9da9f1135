"""An import whose worker dies between batches, delivered again: it carries on after its last
committed batch and ends as an uninterrupted run would, with no customer written twice; a job
another worker is still running is left alone."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from crm import run_locks
from customers.importing import pipeline, writing
from customers.models import Company, Customer, ImportJob
from customers.services import importing
from customers.tasks import import_customers_task
from tests.customers.factories import import_people_csv
from tests.workers import run_lock_held_elsewhere

pytestmark = pytest.mark.django_db

BATCH = 5
ROWS = 23


def queued_job(text: str) -> ImportJob:
    return importing.import_job_create(
        actor=None, file=ContentFile(text.encode(), name="people.csv")
    )


def result_of(job: ImportJob) -> dict:
    """What a finished import did, without the ids the database handed out."""
    job.refresh_from_db()
    with job.report.open("rb") as report:
        rows = list(csv.DictReader(io.TextIOWrapper(report, encoding="utf-8-sig")))
    return {
        "status": job.status,
        "counts": (
            job.total_rows,
            job.processed_rows,
            job.created_count,
            job.updated_count,
            job.merged_count,
            job.rejected_count,
        ),
        "report": [
            (row["row"], row["outcome"], row["merged_into_row"], row["column"]) for row in rows
        ],
        "customers": sorted(Customer.objects.values_list("email", "name", "company__name")),
        "companies": sorted(Company.objects.values_list("name", flat=True)),
    }


def die_at_batch(monkeypatch, batch: int) -> None:
    """The worker dies while writing the customers of batch `batch` (counted from 1)."""
    insert = writing.customers_insert
    calls = []

    def dying_insert(customers):
        calls.append(len(customers))
        if len(calls) == batch:
            raise SystemExit("worker killed")
        insert(customers)

    monkeypatch.setattr(writing, "customers_insert", dying_insert)


@pytest.fixture
def uninterrupted(monkeypatch) -> dict:
    """The result of running the file in one go, on an empty database (emptied again after)."""
    monkeypatch.setattr(pipeline, "BATCH_ROWS", BATCH)
    result = result_of(_run_once(queued_job(import_people_csv(ROWS))))
    Customer.objects.all().delete()
    Company.objects.all().delete()
    return result


def _run_once(job: ImportJob) -> ImportJob:
    importing.import_job_run(job_id=job.pk)
    return job


@pytest.mark.parametrize("dies_at", [1, 2, 4])
def test_an_import_delivered_again_after_its_worker_died_ends_as_an_uninterrupted_run(
    monkeypatch, uninterrupted, dies_at
):
    # given an import whose worker died writing batch `dies_at`
    job = queued_job(import_people_csv(ROWS))
    with monkeypatch.context() as patched:
        die_at_batch(patched, dies_at)
        with pytest.raises(SystemExit):
            importing.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING
    assert job.processed_rows == (dies_at - 1) * BATCH
    assert Customer.objects.count() == job.created_count
    # (on a database without run locks, only once its lease has run out)
    ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(hours=1))

    # when the broker delivers the task again
    import_customers_task(job.pk)

    # then the job ends as if nothing had happened: same counts, report, customers, companies
    assert result_of(job) == uninterrupted
    assert uninterrupted["status"] == ImportJob.Status.COMPLETED
    assert len(uninterrupted["report"]) == ROWS
    emails = [email.lower() for email, _name, _company in uninterrupted["customers"]]
    assert len(emails) == len(set(emails))


@pytest.mark.postgres
def test_a_task_delivered_again_right_after_its_worker_died_resumes_at_once(
    monkeypatch, uninterrupted
):
    # given an import whose worker died a moment ago, its progress fresh
    job = queued_job(import_people_csv(ROWS))
    with monkeypatch.context() as patched:
        die_at_batch(patched, 3)
        with pytest.raises(SystemExit):
            importing.import_job_run(job_id=job.pk)

    # when the task is delivered again at once
    import_customers_task(job.pk)

    # then the dead worker's run lock is free, so the job is taken up without waiting a lease
    assert result_of(job) == uninterrupted


def test_a_task_delivered_again_while_another_worker_runs_the_job_leaves_it_alone(monkeypatch):
    # given a job a live worker is in the middle of (its progress fresh, its run lock held)
    monkeypatch.setattr(pipeline, "BATCH_ROWS", BATCH)
    monkeypatch.setattr(run_locks, "RELEASE_GRACE_SECONDS", 0.3)
    job = queued_job(import_people_csv(ROWS))
    with monkeypatch.context() as patched:
        die_at_batch(patched, 2)
        with pytest.raises(SystemExit):
            importing.import_job_run(job_id=job.pk)

    # when the broker delivers the task to a second worker
    with run_lock_held_elsewhere(kind=run_locks.IMPORT_RUN, pk=job.pk):
        import_customers_task(job.pk)

    # then the second worker writes nothing
    job.refresh_from_db()
    assert (job.status, job.processed_rows) == (ImportJob.Status.RUNNING, BATCH)
    assert Customer.objects.count() == job.created_count


def test_a_finished_import_delivered_again_changes_nothing(monkeypatch, uninterrupted):
    # given a finished import
    job = _run_once(queued_job(import_people_csv(ROWS)))
    before = result_of(job)

    # when its task is delivered again
    import_customers_task(job.pk)

    # then
    assert result_of(job) == before
