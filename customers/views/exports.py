"""Browser pages of customer exports: start one from the customer list, follow its progress,
download the file; and the list of one's own exports. The work is the export service's."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers.forms import CustomerFilterForm
from customers.models import ExportJob
from customers.selectors import customers as customer_selectors
from customers.selectors import exports as selectors
from customers.services.export import (
    CONTENT_TYPES,
    EXPORT_PERMISSION,
    FORMATS,
    ExportTooLarge,
    customer_export_job_start,
    export_job_filename,
)

PAGE_SIZE = 25


def _job_or_404(request: HttpRequest, pk: int) -> ExportJob:
    try:
        return selectors.export_job_get_visible(user=request.user, pk=pk)
    except ExportJob.DoesNotExist as exc:
        raise Http404(_("No such export.")) from exc


@login_required
@permission_required("customers.view_customer", raise_exception=True)
@permission_required(EXPORT_PERMISSION, raise_exception=True)
@require_POST
def customer_export(request: HttpRequest, file_format: str) -> HttpResponse:
    """Start an export of the list the query string describes; the form posts nothing else."""
    if file_format not in FORMATS:
        raise Http404(_("No such export format."))
    form = CustomerFilterForm(request.GET, user=request.user)
    back_to_list = f"{reverse('customers:customer_list')}?{request.GET.urlencode()}"
    if not form.is_valid():
        messages.error(request, _("Correct the filters before exporting."))
        return redirect(back_to_list)
    try:
        job = customer_export_job_start(
            user=request.user,
            filters=form.to_filter(),
            ordering=customer_selectors.customer_ordering(request.GET.get("ordering")),
            file_format=file_format,
        )
    except ExportTooLarge as exc:
        messages.error(request, str(exc))
        return redirect(back_to_list)
    return redirect("customers:export_detail", pk=job.pk)


@login_required
@permission_required(EXPORT_PERMISSION, raise_exception=True)
def export_list(request: HttpRequest) -> HttpResponse:
    jobs = selectors.export_job_list_visible(user=request.user)
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "customers/exports/export_list.html", {"page": page})


@login_required
@permission_required(EXPORT_PERMISSION, raise_exception=True)
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    return render(request, "customers/exports/export_detail.html", {"job": job})


@login_required
@permission_required(EXPORT_PERMISSION, raise_exception=True)
def export_progress(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    return render(request, "customers/exports/_progress.html", {"job": job})


@login_required
@permission_required(EXPORT_PERMISSION, raise_exception=True)
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    job = _job_or_404(request, pk)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404(_("This export has no file yet."))
    return FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=export_job_filename(job),
        content_type=CONTENT_TYPES[job.file_format],
    )


urlpatterns = [
    path("export/<str:file_format>/", customer_export, name="customer_export"),
    path("exports/", export_list, name="export_list"),
    path("exports/<int:pk>/", export_detail, name="export_detail"),
    path("exports/<int:pk>/progress/", export_progress, name="export_progress"),
    path("exports/<int:pk>/download/", export_download, name="export_download"),
]
