from celery import shared_task

from analytics.models import PredictiveModel
from analytics.services.training import model_rescore, model_train_run, models_retrain_nightly


@shared_task(name="analytics.model_train_task", acks_late=True)
def model_train_task(version_id: int) -> str:
    return model_train_run(version_id=version_id).status


@shared_task(name="analytics.model_rescore_task", acks_late=True)
def model_rescore_task(model_id: int) -> int:
    return model_rescore(model=PredictiveModel.objects.get(pk=model_id))


@shared_task(name="analytics.models_retrain_nightly_task")
def models_retrain_nightly_task() -> list[int]:
    return models_retrain_nightly()
