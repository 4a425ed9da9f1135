from celery import shared_task

from analytics.services.recommendations import (
    BUILD_TIME_LIMIT,
    recommendations_build_run,
    recommendations_build_scheduled,
)


@shared_task(
    name="analytics.recommendations_build_task",
    acks_late=True,
    soft_time_limit=BUILD_TIME_LIMIT - 300,
    time_limit=BUILD_TIME_LIMIT,
)
def recommendations_build_task(job_id: int) -> str:
    return recommendations_build_run(job_id=job_id).status


@shared_task(name="analytics.recommendations_build_nightly_task")
def recommendations_build_nightly_task() -> int | None:
    return recommendations_build_scheduled()
