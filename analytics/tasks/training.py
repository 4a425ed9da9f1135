from celery import shared_task

from analytics.services.training import model_rescore_run, model_train_run, models_retrain_nightly


@shared_task(name="analytics.model_train_task", acks_late=True)
def model_train_task(version_id: int) -> str:
    return model_train_run(version_id=version_id).status


@shared_task(name="analytics.model_rescore_task", acks_late=True)
def model_rescore_task(job_id: int) -> str:
    return model_rescore_run(job_id=job_id).status


@shared_task(name="analytics.models_retrain_nightly_task")
def models_retrain_nightly_task() -> list[int]:
    return models_retrain_nightly()
