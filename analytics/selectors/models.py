"""Reads of the model registry: the models with their active and running versions, each model's
versions, and the charts of a version's held-out judgement (ROC curve, calibration, feature
importance, confusion matrix) and of the AUC across versions.

Predictive models and their versions belong to no customer, so every user allowed to read
analytics sees all of them; the scores they give are read through the customer selectors."""

from dataclasses import dataclass

from django.db.models import Max, Prefetch, QuerySet
from django.utils.translation import gettext as _

from analytics.charts import Chart, Series
from analytics.models import AnalyticsJob, ModelVersion, PredictiveModel

# How many versions the AUC history draws: the latest ones, oldest first.
AUC_HISTORY_VERSIONS = 50
IMPORTANCE_FEATURES = 20


def _scoring_jobs() -> QuerySet[AnalyticsJob]:
    return AnalyticsJob.objects.filter(kind=AnalyticsJob.Kind.SCORING).order_by(
        "-created_at", "-id"
    )


def predictive_model_list() -> QuerySet[PredictiveModel]:
    """Every model with its active and running version and when it last finished training."""
    return (
        PredictiveModel.objects.select_related("active_version", "training_version")
        .annotate(last_trained_at=Max("versions__finished_at"))
        .order_by("title", "id")
    )


def predictive_model_list_with_scoring() -> QuerySet[PredictiveModel]:
    """predictive_model_list, each model with its latest scoring job prefetched (in
    `latest_scoring`, a list of none or one) for model_scoring_job_latest."""
    return predictive_model_list().prefetch_related(
        Prefetch("jobs", queryset=_scoring_jobs()[:1], to_attr="latest_scoring")
    )


def predictive_model_get(*, name: str) -> PredictiveModel:
    """The model named `name` (PredictiveModel.DoesNotExist otherwise)."""
    return predictive_model_list().get(name=name)


def model_version_list(*, model: PredictiveModel) -> QuerySet[ModelVersion]:
    return (
        ModelVersion.objects.filter(model=model)
        .select_related("started_by", "decided_by")
        .order_by("-number")
    )


def model_version_latest(*, model: PredictiveModel) -> ModelVersion | None:
    """The newest version, whatever became of it: the outcome of the last run."""
    return model_version_list(model=model).first()


def model_scoring_job_latest(*, model: PredictiveModel) -> AnalyticsJob | None:
    """The model's latest scoring job (after an activation by hand), whatever became of it; read
    from what predictive_model_list_with_scoring prefetched when the model came from there."""
    prefetched = getattr(model, "latest_scoring", None)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return _scoring_jobs().filter(model=model).first()


def model_version_list_all() -> QuerySet[ModelVersion]:
    """Every model's versions, with their model, by model name and newest first."""
    return ModelVersion.objects.select_related("model").order_by("model__name", "-number")


def model_version_get(*, model: PredictiveModel, number: int) -> ModelVersion:
    return model_version_list(model=model).get(number=number)


def model_version_shown(*, model: PredictiveModel, number: int | None) -> ModelVersion | None:
    """The version whose charts a model's page shows: the one asked for, else the active one,
    else the latest that finished training. None when no version has metrics yet."""
    versions = model_version_list(model=model)
    if number is not None:
        return versions.filter(number=number).first()
    if model.active_version_id is not None:
        return versions.filter(pk=model.active_version_id).first()
    return versions.filter(status=ModelVersion.Status.DONE).first()


def model_auc_history_chart(*, model: PredictiveModel) -> Chart:
    rows = list(
        ModelVersion.objects.filter(model=model, status=ModelVersion.Status.DONE)
        .order_by("-number")
        .values_list("number", "metrics")[:AUC_HISTORY_VERSIONS]
    )
    rows.reverse()

    def metric(name: str) -> list:
        return [metrics.get(name) for _number, metrics in rows]

    return Chart(
        key=f"{model.name}-auc-history",
        title=_("Held-out metrics by version"),
        kind="line",
        labels=[f"v{number}" for number, _metrics in rows],
        series=[
            Series(label=_("ROC AUC"), data=metric("roc_auc")),
            Series(label=_("Accuracy"), data=metric("accuracy")),
        ],
        x_label=_("Version"),
        y_label=_("Score"),
        note=_("Each version is judged on rows it was not trained on."),
    )


def model_roc_chart(*, version: ModelVersion) -> Chart:
    points = version.metrics.get("roc") or []
    return Chart(
        key=f"{version.model.name}-v{version.number}-roc",
        title=_("ROC curve"),
        kind="scatter",
        labels=[],
        series=[
            Series(
                label=_("Version %(number)s") % {"number": version.number},
                data=points,
                kind="line",
            ),
            Series(label=_("Chance"), data=[[0, 0], [1, 1]], kind="line"),
        ],
        x_label=_("False positive rate"),
        y_label=_("True positive rate"),
        note=_("ROC AUC %(auc)s on %(rows)s held-out rows.")
        % {"auc": version.roc_auc, "rows": version.test_rows},
    )


def model_calibration_chart(*, version: ModelVersion) -> Chart:
    table = [row for row in version.metrics.get("calibration") or [] if row["rows"]]
    return Chart(
        key=f"{version.model.name}-v{version.number}-calibration",
        title=_("Calibration"),
        kind="bar",
        labels=[row["bin"] for row in table],
        series=[
            Series(label=_("Mean predicted"), data=[row["predicted"] for row in table]),
            Series(label=_("Observed positive rate"), data=[row["observed"] for row in table]),
            Series(
                label=_("Held-out rows"),
                data=[row["rows"] for row in table],
                kind="line",
                right_axis=True,
            ),
        ],
        x_label=_("Predicted probability"),
        y_label=_("Rate"),
        note=_("A well-calibrated model's predicted and observed rates are close in every bin."),
    )


def model_importance_chart(*, version: ModelVersion) -> Chart:
    rows = (version.feature_importance or [])[:IMPORTANCE_FEATURES]
    return Chart(
        key=f"{version.model.name}-v{version.number}-importance",
        title=_("Feature importance"),
        kind="bar",
        labels=[feature for feature, _drop in rows],
        series=[Series(label=_("Drop in held-out score"), data=[drop for _f, drop in rows])],
        horizontal=True,
        x_label=_("Feature"),
        note=_("How much the held-out score drops when the feature's values are shuffled."),
    )


MODEL_CHARTS = {
    "roc": model_roc_chart,
    "calibration": model_calibration_chart,
    "importance": model_importance_chart,
}


@dataclass(frozen=True)
class ConfusionMatrix:
    """Rows are the true classes, columns the predicted ones."""

    labels: list[str]
    rows: list[tuple[str, list[int]]]


def model_confusion_matrix(*, version: ModelVersion) -> ConfusionMatrix | None:
    confusion = version.metrics.get("confusion")
    if not confusion:
        return None
    labels = version.metrics.get("labels") or [_("Negative"), _("Positive")]
    return ConfusionMatrix(labels=labels, rows=list(zip(labels, confusion, strict=True)))
