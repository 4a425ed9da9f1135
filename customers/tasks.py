from celery import shared_task

from customers.services import importing

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
