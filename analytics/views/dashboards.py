"""The manager dashboard (/analytics/), a rep's own dashboard (/analytics/me/) and each of their
charts as JSON or, with ?format=csv, CSV (/analytics/charts/<key>/, the same filters as the page).

Figures and their definitions live in analytics.selectors.dashboards; the filters in
analytics.dashboard_filters."""

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext_lazy as _

from analytics.charts import Chart, chart_filtered_response
from analytics.dashboard_filters import DashboardFilter, dashboard_filter_form
from analytics.selectors.dashboards import (
    MANAGER_CHARTS,
    REP_CHARTS,
    dashboard_chart,
    my_open_tasks,
)
from crm.replicas import reads_from_replica

MANAGER_PERMISSION = "analytics.manage_dashboard"
VIEWER_PERMISSION = "analytics.view_predictivemodel"
TASKS_PER_PAGE = 10

# Titles of the drawn charts, known before their figures arrive.
CHART_TITLES = {
    "pipeline": _("Pipeline by stage"),
    "forecast": _("Forecast against target"),
    "win_rate": _("Win rate"),
    "funnel": _("Conversion funnel"),
    "revenue": _("Revenue"),
    "csat": _("Customer satisfaction"),
    "sla": _("SLA compliance"),
    "response_times": _("Response and resolution times"),
    "my_pipeline": _("My pipeline"),
    "my_targets": _("My targets"),
    "my_revenue": _("Revenue from my customers"),
}
MANAGER_DRAWN = [
    "forecast",
    "pipeline",
    "revenue",
    "win_rate",
    "funnel",
    "csat",
    "sla",
    "response_times",
]
REP_DRAWN = ["my_pipeline", "my_targets", "my_revenue"]


def _chart_url(key: str, filters: DashboardFilter) -> str:
    return f"{reverse('analytics:dashboard_chart', args=[key])}?{urlencode(filters.to_params())}"


def _cards(keys: list[str], filters: DashboardFilter) -> list[dict]:
    return [
        {"key": key, "title": CHART_TITLES[key], "url": _chart_url(key, filters)} for key in keys
    ]


def _table(chart: Chart, filters: DashboardFilter) -> dict:
    """A table figure for the page: its rows (label, link, then each series' value) and its
    CSV link."""
    links = chart.extra.get("links", [])
    rows = [
        {
            "label": label,
            "link": links[index] if index < len(links) else "",
            "values": [series.data[index] for series in chart.series],
        }
        for index, label in enumerate(chart.labels)
    ]
    return {
        "chart": chart,
        "rows": rows,
        "columns": [series.label for series in chart.series],
        "csv_url": f"{_chart_url(chart.key, filters)}&format=csv",
    }


def _models_url() -> str:
    try:
        return reverse("analytics:model_list")
    except NoReverseMatch:
        return "/analytics/models/"


def _page(
    request: HttpRequest,
    template: str,
    context: Callable[[DashboardFilter], dict],
    *,
    fields: tuple[str, ...],
) -> HttpResponse:
    """Render a dashboard page; with bad filters, the form with its errors and status 400."""
    form = dashboard_filter_form(user=request.user, params=request.GET)
    if not form.is_valid():
        return render(
            request, template, {"form": form, "fields": fields, "filters": None}, status=400
        )
    filters = form.dashboard_filter()
    return render(
        request,
        template,
        {
            "form": form,
            "fields": fields,
            "filters": filters,
            "models_url": _models_url(),
            **context(filters),
        },
    )


@login_required
@permission_required(MANAGER_PERMISSION, raise_exception=True)
@reads_from_replica
def manager_dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user

    def context(filters: DashboardFilter) -> dict:
        return {
            "cards": _cards(MANAGER_DRAWN, filters),
            "top_customers": _table(
                dashboard_chart(user=user, key="top_customers", filters=filters), filters
            ),
            "at_risk": _table(dashboard_chart(user=user, key="at_risk", filters=filters), filters),
        }

    return _page(
        request,
        "analytics/dashboards/manager.html",
        context,
        fields=("period", "start", "end", "team", "owner", "granularity"),
    )


@login_required
@permission_required(VIEWER_PERMISSION, raise_exception=True)
@reads_from_replica
def rep_dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user

    def context(filters: DashboardFilter) -> dict:
        tasks = Paginator(my_open_tasks(user=user), TASKS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        return {
            "cards": _cards(REP_DRAWN, filters),
            "hottest_leads": _table(
                dashboard_chart(user=user, key="hottest_leads", filters=filters), filters
            ),
            "tasks": tasks,
            "tasks_csv_url": f"{_chart_url('my_tasks', filters)}&format=csv",
            "query": urlencode(filters.to_params()),
        }

    return _page(
        request,
        "analytics/dashboards/rep.html",
        context,
        fields=("period", "start", "end", "granularity"),
    )


@login_required
@reads_from_replica
def chart(request: HttpRequest, key: str) -> HttpResponse:
    """One chart as JSON (or CSV); 400 with a message for bad filters, 404 for no such chart."""
    if key in MANAGER_CHARTS:
        permission = MANAGER_PERMISSION
    elif key in REP_CHARTS:
        permission = VIEWER_PERMISSION
    else:
        raise Http404
    if not request.user.has_perm(permission):
        raise PermissionDenied
    return chart_filtered_response(
        request, build=lambda filters: dashboard_chart(user=request.user, key=key, filters=filters)
    )


urlpatterns = [
    path("", manager_dashboard, name="dashboard"),
    path("me/", rep_dashboard, name="my_dashboard"),
    path("charts/<slug:key>/", chart, name="dashboard_chart"),
]
