"""The service dashboard (response and resolution times, SLA compliance, backlog, reopen rate,
satisfaction and their trend) over the tickets the user may see, and its trend table as CSV
(service:dashboard_csv with the same filters). Definitions live in service.selectors.metrics and
show on the page."""

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
from service.forms_dashboard import MetricsFilterForm
from service.selectors.metrics import (
    ServiceMetrics,
    TrendPoint,
    metrics_cached,
    metrics_trend,
    metrics_trend_cells,
)


class _Echo:
    """A file that hands back what is written to it, so csv.writer makes one line at a time."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(trend: list[TrendPoint]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A byte order mark, so Excel opens the UTF-8 (and the Chinese in it) correctly.
    yield "\ufeff"
    for cells in metrics_trend_cells(trend):
        yield writer.writerow([spreadsheet_safe(cell) for cell in cells])


def _chart_data(metrics: ServiceMetrics) -> dict:
    """What static/js/service_dashboard.js draws: one list per series, aligned on `labels`."""
    trend = metrics.trend
    return {
        "granularity": metrics.granularity,
        "labels": [point.period.isoformat() for point in trend],
        "created": [point.created for point in trend],
        "resolved": [point.resolved for point in trend],
        "first_response_median_hours": [point.first_response_median_hours for point in trend],
        "csat_average": [point.csat_average for point in trend],
        "text": {
            "created": _("Created"),
            "resolved": _("Resolved"),
            "first_response": _("Median first response (hours)"),
            "csat": _("Average rating"),
            "backlog": _("Open tickets"),
        },
        "backlog_ages": {
            "labels": [bucket.label for bucket in metrics.backlog_ages],
            "counts": [bucket.count for bucket in metrics.backlog_ages],
        },
    }


def _error_text(errors) -> str:
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())


@login_required
@permission_required("service.view_ticket", raise_exception=True)
@reads_from_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    form = MetricsFilterForm(request.GET, user=request.user)
    try:
        scope = form.scope()
    except ValidationError:
        metrics = None
    else:
        metrics = metrics_cached(scope=scope)
    return render(
        request,
        "service/dashboard.html",
        {
            "form": form,
            "metrics": metrics,
            "chart_data": None if metrics is None else _chart_data(metrics),
            "query": request.GET.urlencode(),
        },
    )


@login_required
@permission_required("service.view_ticket", raise_exception=True)
@reads_from_replica
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    form = MetricsFilterForm(request.GET, user=request.user)
    try:
        scope = form.scope()
    except ValidationError:
        return HttpResponseBadRequest(_error_text(form.errors))
    trend = metrics_trend(scope=scope)
    audit_event_record(
        kind=AuditEvent.Kind.EXPORT,
        actor=request.user,
        details={"what": "service trend", "format": "csv", "filters": request.GET.dict()},
    )
    response = StreamingHttpResponse(_csv_lines(trend), content_type="text/csv; charset=utf-8")
    filename = f"service-trend-{scope.start.isoformat()}-{scope.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns = [
    path("dashboard/", dashboard, name="dashboard"),
    path("dashboard/trend.csv", dashboard_csv, name="dashboard_csv"),
]
