"""The sales reports page (win rate, deal size and sales cycle; stage funnel; time in stage; lost
reasons) over a range of periods, filtered by rep, team and pipeline and grouped by rep, team or
period, and each report as a CSV download (sales:report_csv?report=<name>&<the same filters>).

The definitions live in sales.selectors.reports and show on the page.
"""

import csv
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from crm.audit.models import AuditEvent
from crm.audit.services import audit_event_record
from crm.replicas import reads_from_replica
from customers.services.export import spreadsheet_safe
from sales.forms_targets import ReportFilterForm
from sales.selectors.reports import REPORTS, Report, report_build, report_cells


class _Echo:
    """A file that hands back what is written to it, so csv.writer makes one line at a time."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(report: Report) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A byte order mark, so Excel opens the UTF-8 (and the Chinese in it) correctly.
    yield "\ufeff"
    for cells in report_cells(report):
        yield writer.writerow([spreadsheet_safe(cell) for cell in cells])


def _error_text(errors) -> str:
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())


@login_required
@permission_required("sales.view_deal", raise_exception=True)
@reads_from_replica
def reports(request: HttpRequest) -> HttpResponse:
    form = ReportFilterForm(request.GET, user=request.user)
    try:
        scope = form.scope()
    except ValidationError:
        scope = None
    built = [] if scope is None else [report_build(name=name, scope=scope) for name in REPORTS]
    return render(
        request,
        "sales/reports.html",
        {"form": form, "scope": scope, "reports": built, "query": request.GET.urlencode()},
    )


@login_required
@permission_required("sales.view_deal", raise_exception=True)
@reads_from_replica
def report_csv(request: HttpRequest) -> HttpResponse:
    name = request.GET.get("report", "")
    if name not in REPORTS:
        return HttpResponseBadRequest(
            _("report: choose one of %(names)s.") % {"names": ", ".join(REPORTS)}
        )
    form = ReportFilterForm(request.GET, user=request.user)
    try:
        scope = form.scope()
    except ValidationError:
        return HttpResponseBadRequest(_error_text(form.errors))
    report = report_build(name=name, scope=scope)
    audit_event_record(
        kind=AuditEvent.Kind.EXPORT,
        actor=request.user,
        details={"what": f"sales report: {name}", "format": "csv", "filters": request.GET.dict()},
    )
    response = StreamingHttpResponse(_csv_lines(report), content_type="text/csv; charset=utf-8")
    filename = f"{name}-{scope.start.key}-{scope.end.key}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns = [
    path("reports/", reports, name="reports"),
    path("reports/csv/", report_csv, name="report_csv"),
]
