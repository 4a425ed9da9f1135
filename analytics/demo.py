"""Demo data of analytics: the built-in models trained on the demo's customers, orders and
tickets, the social graph and the recommendations, so the dashboards, the scores page, the
ticket page and the 360 page's panels have something to show."""

from analytics.models import AnalyticsJob, ModelVersion, PredictiveModel
from analytics.services.jobs import JobBusy
from analytics.services.network import graph_build_request
from analytics.services.recommendations import recommendations_build_request
from analytics.services.training import ModelBusy, model_retrain_request
from crm.demo import DemoContext

DEMO_MODELS = ("purchase", "churn", "satisfaction", "ticket-category", "ticket-sentiment")


def _train_models(context: DemoContext) -> None:
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


def _run_jobs(context: DemoContext) -> None:
    for name, request in (
        ("social graph", graph_build_request),
        ("recommendations", recommendations_build_request),
    ):
        try:
            job = request(trigger=ModelVersion.Trigger.COMMAND, user=None)
        except JobBusy:
            context.log(f"{name}: a build is already running; not started again")
            continue
        job.refresh_from_db()
        if job.status == AnalyticsJob.Status.DONE:
            context.log(f"{name}: built {job.stats}")
        elif job.status == AnalyticsJob.Status.FAILED:
            context.log(f"{name}: not built: {job.error}")
        else:
            context.log(f"{name}: queued for the worker")


def seed_analytics(context: DemoContext) -> None:
    """Queue a retrain of each built-in model, then the graph and recommendation builds. Without
    a broker each runs at once and its outcome is logged; a model the demo holds too little data
    for is skipped with the reason (its failed version records it too)."""
    _train_models(context)
    _run_jobs(context)
