"""A real Celery worker killed (SIGKILL, its whole process group) in the middle of an import: the
broker hands the task to the next worker, which carries on after the last committed batch; the
job completes with no customer written twice and the counts and report of an uninterrupted run."""

import csv
import io

import pytest
from django.core.files.base import ContentFile

from customers.importing.report import ImportCounts
from customers.models import Customer, ImportJob
from customers.services import importing
from customers.tasks import import_customers_task
from tests.customers.factories import import_people_csv
from tests.workers import wait_for, workers

# Five batches of 2,000 rows, a few seconds each: the worker is still importing when the first
# one commits.
ROWS = 10_000
WAIT_SECONDS = 120


class _Outcomes:
    def __init__(self) -> None:
        self.outcomes: list[tuple[int, str]] = []

    def write(self, results) -> None:
        self.outcomes += [(result.number, str(result.outcome)) for result in results]


def _uninterrupted(tmp_path, text: str) -> tuple[ImportCounts, list[tuple[int, str]]]:
    path = tmp_path / "people.csv"
    path.write_text(text)
    outcomes = _Outcomes()
    summary = importing.import_file_dry_run(path=path, owner=None, report=outcomes)
    return summary.counts, outcomes.outcomes


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_an_import_whose_worker_is_killed_completes_on_the_next_worker_without_duplicates(
    tmp_path,
):
    # given a large import, and what an uninterrupted run makes of its file
    text = import_people_csv(ROWS)
    counts, outcomes = _uninterrupted(tmp_path, text)
    job = importing.import_job_create(
        actor=None, file=ContentFile(text.encode(), name="people.csv")
    )

    def progress() -> tuple[str, int]:
        job.refresh_from_db(fields=["status", "processed_rows"])
        return job.status, job.processed_rows

    with workers() as pool:
        first = pool.start()
        import_customers_task.apply_async((job.pk,), queue=pool.queue)
        wait_for(lambda: progress()[1] > 0, timeout=WAIT_SECONDS, what="a batch", workers=[first])

        # when its worker is killed half-way and another one starts
        first.kill()
        status, processed = progress()
        if status != ImportJob.Status.RUNNING:
            pytest.skip("the import finished before its worker could be killed")
        assert 0 < processed < ROWS
        second = pool.start()
        wait_for(
            lambda: progress()[0] != ImportJob.Status.RUNNING,
            timeout=WAIT_SECONDS,
            what="the import finished",
            workers=[first, second],
        )

    # then the job completed as an uninterrupted run would have
    job.refresh_from_db()
    assert job.status == ImportJob.Status.COMPLETED, job.error
    assert (
        job.total_rows,
        job.processed_rows,
        job.created_count,
        job.updated_count,
        job.merged_count,
        job.rejected_count,
    ) == (
        ROWS,
        counts.rows,
        counts.created,
        counts.updated + counts.unchanged,
        counts.merged,
        counts.rejected,
    )
    # and no customer was written twice
    assert Customer.objects.count() == counts.created
    emails = list(Customer.objects.values_list("email", flat=True))
    assert len({email.lower() for email in emails}) == len(emails)
    # and the report lists every row once, with the outcome of an uninterrupted run
    with job.report.open("rb") as report:
        rows = list(csv.DictReader(io.TextIOWrapper(report, encoding="utf-8-sig")))
    assert [(int(row["row"]), row["outcome"]) for row in rows] == outcomes
