"""Pipeline settings: the list of pipelines with their stages, and a page per pipeline to edit it
and its stages (name, position, kind, win probability, stale limit) together."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from sales.forms import PipelineForm, StageFormSet
from sales.models import Pipeline, Stage

_STAGES = Stage.objects.order_by("position", "pk")


def _pipelines():
    return Pipeline.objects.order_by("position", "name", "pk").prefetch_related(
        Prefetch("stages", queryset=_STAGES)
    )


@login_required
@permission_required("sales.change_pipeline", raise_exception=True)
def pipeline_list(request: HttpRequest) -> HttpResponse:
    return render(request, "sales/pipeline_list.html", {"pipelines": _pipelines()})


def _save(form: PipelineForm, stages) -> Pipeline:
    with transaction.atomic():
        pipeline = form.save()
        stages.instance = pipeline
        stages.save()
    return pipeline


def _pipeline_form_page(request: HttpRequest, pipeline: Pipeline | None) -> HttpResponse:
    if request.method == "POST":
        form = PipelineForm(request.POST, instance=pipeline)
        stages = StageFormSet(
            request.POST, instance=pipeline or Pipeline(), prefix="stages", queryset=_STAGES
        )
        if form.is_valid() and stages.is_valid():
            saved = _save(form, stages)
            messages.success(request, _("Pipeline “%(name)s” saved.") % {"name": saved.name})
            return redirect("sales:pipeline_list")
        status = 400
    else:
        form = PipelineForm(instance=pipeline)
        stages = StageFormSet(
            instance=pipeline or Pipeline(),
            prefix="stages",
            queryset=_STAGES,
        )
        status = 200
    return render(
        request,
        "sales/pipeline_form.html",
        {"form": form, "stages": stages, "pipeline": pipeline},
        status=status,
    )


@login_required
@permission_required("sales.add_pipeline", raise_exception=True)
def pipeline_create(request: HttpRequest) -> HttpResponse:
    return _pipeline_form_page(request, None)


@login_required
@permission_required("sales.change_pipeline", raise_exception=True)
def pipeline_edit(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = Pipeline.objects.filter(pk=pk).first()
    if pipeline is None:
        raise Http404(_("No such pipeline."))
    return _pipeline_form_page(request, pipeline)


urlpatterns = [
    path("pipelines/", pipeline_list, name="pipeline_list"),
    path("pipelines/new/", pipeline_create, name="pipeline_create"),
    path("pipelines/<int:pk>/", pipeline_edit, name="pipeline_edit"),
]
