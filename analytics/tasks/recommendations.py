from celery import shared_task

from analytics.services.recommendations import (
    recommendations_build_run,
    recommendations_build_scheduled,
)


# A build of a million customers outlasts the default limits; it saves its progress every
# chunk, which is what tells a slow build from a dead one.
@shared_task(
    name="analytics.recommendations_build_task",
    acks_late=True,
    soft_time_limit=2 * 60 * 60,
    time_limit=2 * 60 * 60 + 300,
)
def recommendations_build_task(job_id: int) -> str:
    return recommendations_build_run(job_id=job_id).status


@shared_task(name="analytics.recommendations_build_nightly_task")
def recommendations_build_nightly_task() -> int | None:
    return recommendations_build_scheduled()
