from celery import shared_task

from customers.services import export, importing

# A file of several million rows takes longer than the default limits allow. acks_late: a task
# whose worker dies is delivered again, and import_job_run resumes the job after its last batch.
IMPORT_SOFT_TIME_LIMIT = 3 * 60 * 60
IMPORT_TIME_LIMIT = IMPORT_SOFT_TIME_LIMIT + 5 * 60


@shared_task(
    name="customers.import_customers_task",
    acks_late=True,
    soft_time_limit=IMPORT_SOFT_TIME_LIMIT,
    time_limit=IMPORT_TIME_LIMIT,
)
def import_customers_task(job_id: int) -> None:
    """Run (or resume) one customer import; a finished or running job is left alone."""
    importing.import_job_run(job_id=job_id)


# A list at EXPORT_ROW_LIMIT takes under a minute to write (benchmarks/results/
# customer_list_search.md). acks_late: a task whose worker dies is delivered again, and
# customer_export_job_run writes the file again once the job's lease has run out.
EXPORT_SOFT_TIME_LIMIT = 30 * 60
EXPORT_TIME_LIMIT = EXPORT_SOFT_TIME_LIMIT + 60


@shared_task(
    name="customers.customer_export_task",
    acks_late=True,
    soft_time_limit=EXPORT_SOFT_TIME_LIMIT,
    time_limit=EXPORT_TIME_LIMIT,
)
def customer_export_task(job_id: int) -> None:
    """Write one customer export; a finished or running job is left alone."""
    export.customer_export_job_run(job_id=job_id)
