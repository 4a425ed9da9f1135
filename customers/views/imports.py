"""Browser pages of customer imports: upload, map the columns (with a preview), follow the
progress, read the result and download the report. The work is the import service's."""

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from customers.importing.mapping import CUSTOM, IGNORE, TARGETS
from customers.importing.rows import DAY_FIRST, MONTH_FIRST, default_date_order
from customers.models import ImportJob
from customers.selectors import imports as selectors
from customers.services import importing

PAGE_SIZE = 25


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy(
            "UTF-8, GB18030/GBK or Windows-1252, separated by commas or semicolons, with the "
            "column names on the first line."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv"}),
    )


class MappingForm(forms.Form):
    overwrite = forms.BooleanField(
        label=gettext_lazy("Replace values customers already have"),
        required=False,
        help_text=gettext_lazy("Without this, a matching row only fills in blank fields."),
    )
    date_order = forms.ChoiceField(
        label=gettext_lazy("Dates like 03/02/1985 are"),
        choices=[
            (DAY_FIRST, gettext_lazy("day first (2 March 1985)")),
            (MONTH_FIRST, gettext_lazy("month first (3 February 1985)")),
        ],
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("Dry run: report what would happen, write nothing"), required=False
    )

    def __init__(self, *args, columns: list[selectors.ImportColumn], **kwargs):
        super().__init__(*args, **kwargs)
        self.columns = columns
        self.fields["date_order"].initial = default_date_order()
        choices = [
            (IGNORE, _("Ignore")),
            (CUSTOM, _("Keep as a custom attribute")),
            *[(name, label) for name, label in TARGETS.items()],
        ]
        for position, column in enumerate(columns):
            self.fields[f"column_{position}"] = forms.ChoiceField(
                label=column.header, choices=choices, initial=column.suggested, required=False
            )

    def column_fields(self):
        return [
            (column, self[f"column_{position}"]) for position, column in enumerate(self.columns)
        ]

    def mapping(self) -> dict[str, str]:
        return {
            column.header: self.cleaned_data[f"column_{position}"]
            for position, column in enumerate(self.columns)
        }

    def options(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("overwrite", "date_order", "dry_run")}


def _job_or_404(request: HttpRequest, pk: int) -> ImportJob:
    try:
        return selectors.import_job_get_visible(user=request.user, pk=pk)
    except ImportJob.DoesNotExist as exc:
        raise Http404(_("No such import.")) from exc


def _awaits_mapping(job: ImportJob) -> bool:
    return job.status == ImportJob.Status.PENDING and not job.mapping


@login_required
@permission_required(importing.IMPORT_PERMISSION, raise_exception=True)
def import_list(request: HttpRequest) -> HttpResponse:
    jobs = selectors.import_job_list_visible(user=request.user)
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "customers/imports/import_list.html", {"page": page})


@login_required
@permission_required(importing.IMPORT_PERMISSION, raise_exception=True)
def import_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = importing.import_job_create(
                actor=request.user, file=upload, original_name=upload.name, await_mapping=True
            )
        except ValidationError as exc:
            form.add_error("file", exc.message_dict.get("file", exc.messages))
        else:
            return redirect("customers:import_mapping", pk=job.pk)
    return render(request, "customers/imports/import_upload.html", {"form": form})


@login_required
@permission_required(importing.IMPORT_PERMISSION, raise_exception=True)
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    if not _awaits_mapping(job):
        return redirect("customers:import_detail", pk=job.pk)
    form = MappingForm(request.POST or None, columns=selectors.import_job_columns(job=job))
    if request.method == "POST" and form.is_valid():
        try:
            importing.import_job_start(job=job, mapping=form.mapping(), options=form.options())
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            return redirect("customers:import_detail", pk=job.pk)
    return render(request, "customers/imports/import_mapping.html", {"job": job, "form": form})


@login_required
@permission_required(importing.IMPORT_PERMISSION, raise_exception=True)
@require_POST
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    form = MappingForm(request.POST, columns=selectors.import_job_columns(job=job))
    preview = None
    if form.is_valid():
        preview = selectors.import_job_preview(
            job=job, mapping=form.mapping(), options=form.options()
        )
    return render(request, "customers/imports/_preview.html", {"preview": preview, "form": form})


def _progress_context(job: ImportJob) -> dict:
    finished = job.status in (ImportJob.Status.COMPLETED, ImportJob.Status.FAILED)
    ignored = selectors.import_job_ignored_columns(job=job) if finished and job.mapping else []
    return {"job": job, "finished": finished, "ignored": ignored}


@login_required
@permission_required(importing.IMPORT_PERMISSION, raise_exception=True)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    if _awaits_mapping(job):
        return redirect("customers:import_mapping", pk=job.pk)
    return render(request, "customers/imports/import_detail.html", _progress_context(job))


@login_required
@permission_required(importing.IMPORT_PERMISSION, raise_exception=True)
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    return render(request, "customers/imports/_progress.html", _progress_context(job))


@login_required
@permission_required(importing.IMPORT_PERMISSION, raise_exception=True)
def import_report(request: HttpRequest, pk: int) -> FileResponse:
    job = _job_or_404(request, pk)
    if not job.report:
        raise Http404(_("This import has no report yet."))
    return FileResponse(
        job.report.open("rb"),
        as_attachment=True,
        filename=f"import-{job.pk}-report.csv",
        content_type="text/csv; charset=utf-8",
    )


urlpatterns = [
    path("imports/", import_list, name="import_list"),
    path("imports/new/", import_upload, name="import_upload"),
    path("imports/<int:pk>/", import_detail, name="import_detail"),
    path("imports/<int:pk>/mapping/", import_mapping, name="import_mapping"),
    path("imports/<int:pk>/preview/", import_preview, name="import_preview"),
    path("imports/<int:pk>/progress/", import_progress, name="import_progress"),
    path("imports/<int:pk>/report/", import_report, name="import_report"),
]
