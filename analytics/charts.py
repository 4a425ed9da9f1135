"""One shape for every chart analytics draws: the page fetches it as JSON (the chart's own URL),
static/js/analytics_charts.js draws it with Chart.js, and the same object downloads as CSV
(`?format=csv`). Titles and series labels arrive translated."""

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Model
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from analytics.dashboard_filters import (
    DashboardFilter,
    DashboardFilterInvalid,
    dashboard_filter_parse,
)
from crm.accounts.field_security import field_access
from customers.services.export import spreadsheet_safe


@dataclass(frozen=True)
class Series:
    label: str
    data: list
    # Draw this series as another kind than the chart's (a target line over revenue bars).
    kind: str = ""
    # An axis of its own on the right, for a series in other units (a percentage...).
    right_axis: bool = False


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    # bar, line, pie, doughnut, scatter (scatter series hold [x, y] pairs)
    kind: str
    labels: list
    series: list[Series]
    x_label: str = ""
    y_label: str = ""
    stacked: bool = False
    horizontal: bool = False
    # What the numbers mean and how they were counted, shown under the chart.
    note: str = ""
    extra: dict = field(default_factory=dict)


def chart_fields_hidden(*, user, fields: tuple[tuple[type[Model], str], ...]) -> list[str]:
    """The names of those (model, field) that field rules hide from `user`."""
    return [
        str(model._meta.get_field(name).verbose_name)
        for model, name in fields
        if not field_access(user=user, model=model).can_see(name)
    ]


def chart_hidden(*, key: str, title: str, fields: list[str]) -> Chart:
    """A chart without figures, for a user who may not see the `fields` they come from: zeros
    would mislead, and the figures would reveal the values."""
    return Chart(
        key=key,
        title=title,
        kind="bar",
        labels=[],
        series=[],
        note=_("Hidden: this chart is computed from fields your role may not see (%(fields)s).")
        % {"fields": ", ".join(fields)},
        extra={"hidden": True},
    )


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def chart_data(chart: Chart) -> dict:
    return {
        "key": chart.key,
        "title": str(chart.title),
        "kind": chart.kind,
        "labels": [str(label) for label in chart.labels],
        "series": [
            {
                "label": str(series.label),
                "data": _plain(series.data),
                "kind": series.kind,
                "right_axis": series.right_axis,
            }
            for series in chart.series
        ],
        "x_label": str(chart.x_label),
        "y_label": str(chart.y_label),
        "stacked": chart.stacked,
        "horizontal": chart.horizontal,
        "note": str(chart.note),
        "extra": chart.extra,
    }


def chart_rows(chart: Chart) -> list[list]:
    """The chart as a table: a header, then one row per label (or per point, for a scatter)."""
    if chart.kind == "scatter":
        rows = [[str(chart.x_label) or "x", str(chart.y_label) or "y", ""]]
        for series in chart.series:
            rows.extend([_plain(x), _plain(y), str(series.label)] for x, y in series.data)
        return rows
    rows = [[str(chart.x_label), *[str(series.label) for series in chart.series]]]
    for index, label in enumerate(chart.labels):
        rows.append([str(label), *[_plain(series.data[index]) for series in chart.series]])
    return rows


def chart_csv_response(chart: Chart) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(chart.key)}.csv"'
    # A byte order mark, so Excel opens the UTF-8 (and the Chinese in it) correctly.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in chart_rows(chart))
    return response


def chart_response(chart: Chart, *, format: str = "json") -> HttpResponse:
    """The chart as JSON, or as CSV when `format` is "csv"."""
    if format == "csv":
        return chart_csv_response(chart)
    return JsonResponse(chart_data(chart))


def chart_filtered_response(
    request: HttpRequest, *, build: Callable[[DashboardFilter], Chart]
) -> HttpResponse:
    """A chart endpoint of the pages: the chart `build` gives for the query string's filters,
    as JSON or, with ?format=csv, CSV; a bad filter gives 400 with a message (and, in JSON, the
    messages by parameter)."""
    output = "csv" if request.GET.get("format") == "csv" else "json"
    try:
        filters = dashboard_filter_parse(user=request.user, params=request.GET)
    except DashboardFilterInvalid as error:
        if output == "csv":
            return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
        return JsonResponse({"error": str(error), "fields": error.fields}, status=400)
    return chart_response(build(filters), format=output)
