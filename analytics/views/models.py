"""The model registry in the browser: every model with its active version, and a model's page
with its versions, their held-out judgement as charts (each also JSON and CSV), a Retrain button
with a progress box that polls while a run is under way, and activation or rollback by hand,
followed by a box that polls while the re-scoring with the activated version runs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from analytics.charts import chart_response
from analytics.models import ModelVersion, PredictiveModel
from analytics.selectors import models as selectors
from analytics.services.training import (
    ModelBusy,
    model_retrain_request,
    model_version_activate,
)
from crm.pages import is_htmx

VIEW_PERMISSION = "analytics.view_predictivemodel"
TRAIN_PERMISSION = "analytics.train_predictivemodel"
MODELS_PER_PAGE = 25
VERSIONS_PER_PAGE = 20


def _model_or_404(name: str) -> PredictiveModel:
    try:
        return selectors.predictive_model_get(name=name)
    except PredictiveModel.DoesNotExist:
        raise Http404(_("No such model.")) from None


def _version_number(request: HttpRequest) -> int | None:
    value = request.GET.get("version", "")
    return int(value) if value.isdigit() else None


def _version_or_404(model: PredictiveModel, request: HttpRequest) -> ModelVersion:
    version = selectors.model_version_shown(model=model, number=_version_number(request))
    if version is None:
        raise Http404(_("This model has no such version."))
    return version


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def model_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.predictive_model_list(), MODELS_PER_PAGE)
    return render(
        request,
        "analytics/models/model_list.html",
        {"page": page.get_page(request.GET.get("page"))},
    )


def _chart_cards(model: PredictiveModel, shown: ModelVersion | None) -> list[dict]:
    """The chart cards of a model's page: the history, then those the shown version's metrics
    can draw (a model choosing among several classes has no ROC curve or calibration)."""
    cards = [
        {
            "title": _("Held-out metrics by version"),
            "url": reverse("analytics:model_history_chart", args=[model.name]),
        }
    ]
    if shown is None:
        return cards
    titles = {
        "roc": _("ROC curve"),
        "calibration": _("Calibration"),
        "importance": _("Feature importance"),
    }
    available = {
        "roc": bool(shown.metrics.get("roc")),
        "calibration": bool(shown.metrics.get("calibration")),
        "importance": bool(shown.feature_importance),
    }
    for key, title in titles.items():
        if available[key]:
            url = reverse("analytics:model_version_chart", args=[model.name, key])
            cards.append({"title": title, "url": f"{url}?version={shown.number}"})
    return cards


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def model_detail(request: HttpRequest, name: str) -> HttpResponse:
    model = _model_or_404(name)
    shown = selectors.model_version_shown(model=model, number=_version_number(request))
    versions = Paginator(selectors.model_version_list(model=model), VERSIONS_PER_PAGE)
    return render(
        request,
        "analytics/models/model_detail.html",
        {
            "model": model,
            "shown": shown,
            "charts": _chart_cards(model, shown),
            "confusion": selectors.model_confusion_matrix(version=shown) if shown else None,
            "page": versions.get_page(request.GET.get("page")),
            "can_train": request.user.has_perm(TRAIN_PERMISSION),
            "running": model.training_version,
            "latest": selectors.model_version_latest(model=model),
            "scoring": selectors.model_scoring_job_latest(model=model),
        },
    )


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def model_progress(request: HttpRequest, name: str) -> HttpResponse:
    """The progress box. A poll that finds the run over asks htmx to reload the page, so the
    versions table and the charts show the new version; the box then tells how the run ended."""
    model = _model_or_404(name)
    response = render(
        request,
        "analytics/models/_progress.html",
        {
            "model": model,
            "running": model.training_version,
            "latest": selectors.model_version_latest(model=model),
        },
    )
    if is_htmx(request) and model.training_version is None:
        response["HX-Refresh"] = "true"
    return response


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def model_scoring(request: HttpRequest, name: str) -> HttpResponse:
    """The box of the latest re-scoring after an activation by hand; it polls while the job is
    queued or running, and the poll that finds it over swaps in how it ended."""
    model = _model_or_404(name)
    return render(
        request,
        "analytics/models/_scoring.html",
        {"model": model, "scoring": selectors.model_scoring_job_latest(model=model)},
    )


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def model_history_chart(request: HttpRequest, name: str) -> HttpResponse:
    model = _model_or_404(name)
    return chart_response(
        selectors.model_auc_history_chart(model=model), format=request.GET.get("format", "json")
    )


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
def model_version_chart(request: HttpRequest, name: str, chart: str) -> HttpResponse:
    if chart not in selectors.MODEL_CHARTS:
        raise Http404(_("No such chart."))
    version = _version_or_404(_model_or_404(name), request)
    return chart_response(
        selectors.MODEL_CHARTS[chart](version=version), format=request.GET.get("format", "json")
    )


@login_required
@permission_required(TRAIN_PERMISSION, raise_exception=True)
@require_POST
def model_retrain(request: HttpRequest, name: str) -> HttpResponse:
    model = _model_or_404(name)
    try:
        version = model_retrain_request(
            model=model, trigger=ModelVersion.Trigger.BUTTON, user=request.user
        )
    except ModelBusy as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Version %(number)s is queued for training.") % {"number": version.number}
        )
    return redirect("analytics:model_detail", name=model.name)


@login_required
@permission_required(TRAIN_PERMISSION, raise_exception=True)
@require_POST
def model_activate(request: HttpRequest, name: str, number: int) -> HttpResponse:
    model = _model_or_404(name)
    try:
        version = selectors.model_version_get(model=model, number=number)
    except ModelVersion.DoesNotExist:
        raise Http404(_("This model has no such version.")) from None
    try:
        model_version_activate(version=version, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("Version %(number)s is now active.") % {"number": version.number}
        )
    return redirect("analytics:model_detail", name=model.name)


urlpatterns = [
    path("models/", model_list, name="model_list"),
    path("models/<slug:name>/", model_detail, name="model_detail"),
    path("models/<slug:name>/progress/", model_progress, name="model_progress"),
    path("models/<slug:name>/scoring/", model_scoring, name="model_scoring"),
    path("models/<slug:name>/retrain/", model_retrain, name="model_retrain"),
    path(
        "models/<slug:name>/versions/<int:number>/activate/",
        model_activate,
        name="model_activate",
    ),
    path("models/<slug:name>/charts/history/", model_history_chart, name="model_history_chart"),
    path(
        "models/<slug:name>/charts/<slug:chart>/", model_version_chart, name="model_version_chart"
    ),
]
