from celery import shared_task

from analytics.services.network import graph_build_nightly, graph_build_run


@shared_task(name="analytics.graph_build_task", acks_late=True)
def graph_build_task(job_id: int) -> str:
    return graph_build_run(job_id=job_id).status


@shared_task(name="analytics.graph_build_nightly_task")
def graph_build_nightly_task() -> int | None:
    return graph_build_nightly()
