"""Demo data of analytics: the three built-in models trained on the demo's customers, orders
and tickets, so the scores page and the 360 page's predictions have something to show."""

from analytics.models import ModelVersion, PredictiveModel
from analytics.services.training import ModelBusy, model_retrain_request
from crm.demo import DemoContext

DEMO_MODELS = ("purchase", "churn", "satisfaction")


def seed_analytics(context: DemoContext) -> None:
    """Queue a retrain of each built-in model. Without a broker the task runs at once and its
    outcome is logged; a model the demo holds too little data for is skipped with the reason
    (its failed version records it too)."""
    models = PredictiveModel.objects.using(context.using).filter(name__in=DEMO_MODELS)
    for model in sorted(models, key=lambda model: DEMO_MODELS.index(model.name)):
        try:
            version = model_retrain_request(model=model, trigger=ModelVersion.Trigger.COMMAND)
        except ModelBusy:
            context.log(f"{model.name}: a retrain is already running; not started again")
            continue
        version.refresh_from_db()
        if version.status == ModelVersion.Status.DONE:
            context.log(
                f"{model.name}: version {version.number} trained on {version.train_rows} rows, "
                f"held-out AUC {version.roc_auc}, {version.scored_rows} scored"
            )
        elif version.status == ModelVersion.Status.FAILED:
            context.log(f"{model.name}: not trained: {version.error}")
        else:
            context.log(f"{model.name}: version {version.number} queued for the worker")
