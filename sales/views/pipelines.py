"""Pipeline settings: the list of pipelines with their stages, and a page per pipeline to edit it
and its stages (name, position, kind, win probability, stale limit) together. The forms only
read the input; the pipeline service decides, in one call, so the page and the API agree."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from sales.forms import BaseStageFormSet, PipelineForm, stage_formset
from sales.models import Pipeline, Stage
from sales.services.pipelines import PipelineInvalid, pipeline_create, pipeline_update

_STAGES = Stage.objects.order_by("position", "pk")


def _pipelines():
    return Pipeline.objects.order_by("position", "name", "pk").prefetch_related(
        Prefetch("stages", queryset=_STAGES)
    )


@login_required
@permission_required("sales.change_pipeline", raise_exception=True)
def pipeline_list(request: HttpRequest) -> HttpResponse:
    return render(request, "sales/pipeline_list.html", {"pipelines": _pipelines()})


def _show_refusal(
    exc: PipelineInvalid, form: PipelineForm, stages: BaseStageFormSet, indices: list[int]
) -> None:
    """Put each of the service's messages on the field, the stage row or the stage set it is
    about."""
    for name, field_messages in exc.message_dict.items():
        if name == "stages":
            continue
        form.add_error(name if name in form.fields else None, field_messages)
    for row, errors in exc.stage_rows.items():
        stage_form = stages.forms[indices[row]]
        for name, field_messages in errors.items():
            stage_form.add_error(name if name in stage_form.fields else None, field_messages)
    stages.non_form_errors().extend(exc.stage_set)


def _pipeline_form_page(request: HttpRequest, pipeline: Pipeline | None) -> HttpResponse:
    current = list(pipeline.stages.order_by("position", "pk")) if pipeline else []
    data = request.POST if request.method == "POST" else None
    form = PipelineForm.for_pipeline(pipeline, data)
    stages = stage_formset(stages=current, data=data)
    status = 200
    if data is not None:
        status = 400
        if form.is_valid() and stages.is_valid():
            indices, rows, deleted = stages.service_stages()
            try:
                if pipeline is None:
                    saved = pipeline_create(actor=request.user, stages=rows, **form.cleaned_data)
                else:
                    saved = pipeline_update(
                        actor=request.user,
                        pipeline=pipeline,
                        stages=rows,
                        deleted=deleted,
                        **form.cleaned_data,
                    )
            except PipelineInvalid as exc:
                _show_refusal(exc, form, stages, indices)
            else:
                messages.success(request, _("Pipeline “%(name)s” saved.") % {"name": saved.name})
                return redirect("sales:pipeline_list")
    return render(
        request,
        "sales/pipeline_form.html",
        {"form": form, "stages": stages, "pipeline": pipeline},
        status=status,
    )


@login_required
@permission_required("sales.add_pipeline", raise_exception=True)
def pipeline_create_page(request: HttpRequest) -> HttpResponse:
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
    path("pipelines/new/", pipeline_create_page, name="pipeline_create"),
    path("pipelines/<int:pk>/", pipeline_edit, name="pipeline_edit"),
]
