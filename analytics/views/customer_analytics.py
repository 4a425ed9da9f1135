"""The customer analytics page (/analytics/customers/), each of its charts as JSON or CSV
(`?format=csv`) with the page's filters, and the top customers table the page swaps in with htmx.

The figures are customer records read under the visibility rule, so the page needs
`customers.view_customer` (every role that works with customers holds it); what each user sees
of them is the rule's business, not a permission's."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import path, reverse

from analytics.charts import chart_filtered_response
from analytics.dashboard_filters import (
    DashboardFilterInvalid,
    dashboard_filter_form,
    dashboard_filter_parse,
)
from analytics.selectors.customer_analytics import (
    CHART_TITLES,
    CUSTOMER_CHARTS,
    customer_analytics_chart,
)
from crm.replicas import reads_from_replica

PERMISSION = "customers.view_customer"
# The figures are not bucketed by time, so the filter bar offers no granularity.
FILTER_FIELDS = ("period", "start", "end", "team", "owner")
# The cards of the page, in order, with their heights in pixels.
PAGE_CHARTS = (
    ("age-histogram", 260),
    ("order-count", 260),
    ("age-income", 320),
    ("spend-by-tier", 320),
    ("rfm-tiers", 300),
    ("clv-by-tier", 300),
    ("spend-by-city", 420),
    ("segment-sizes", 420),
)


@login_required
@permission_required(PERMISSION, raise_exception=True)
@reads_from_replica
def customer_analytics_page(request: HttpRequest) -> HttpResponse:
    form = dashboard_filter_form(user=request.user, params=request.GET)
    context = {"form": form, "fields": FILTER_FIELDS}
    if not form.is_valid():
        # As on the dashboards: the form with its errors, no figures, status 400.
        return render(
            request,
            "analytics/customer_analytics/page.html",
            {**context, "filters": None},
            status=400,
        )
    filters = form.dashboard_filter()
    charts = [
        {
            "url": reverse("analytics:customer_analytics_chart", args=[key]),
            "title": CHART_TITLES[key],
            "height": height,
        }
        for key, height in PAGE_CHARTS
    ]
    return render(
        request,
        "analytics/customer_analytics/page.html",
        {
            **context,
            "filters": filters,
            "charts": charts,
            "query": urlencode(filters.to_params()),
        },
    )


@login_required
@permission_required(PERMISSION, raise_exception=True)
@reads_from_replica
def customer_analytics_chart_view(request: HttpRequest, key: str) -> HttpResponse:
    if key not in CUSTOMER_CHARTS:
        raise Http404
    return chart_filtered_response(
        request,
        build=lambda filters: customer_analytics_chart(key=key, user=request.user, filters=filters),
    )


@login_required
@permission_required(PERMISSION, raise_exception=True)
@reads_from_replica
def top_customers_table(request: HttpRequest) -> HttpResponse:
    try:
        filters = dashboard_filter_parse(user=request.user, params=request.GET)
    except DashboardFilterInvalid as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    chart = customer_analytics_chart(key="top-customers", user=request.user, filters=filters)
    return render(
        request,
        "analytics/customer_analytics/_top_customers.html",
        {"chart": chart, "customers": chart.extra["customers"]},
    )


urlpatterns = [
    path("customers/", customer_analytics_page, name="customer_analytics"),
    path(
        "customers/charts/<slug:key>/",
        customer_analytics_chart_view,
        name="customer_analytics_chart",
    ),
    path(
        "customers/top-customers/",
        top_customers_table,
        name="customer_analytics_top_customers",
    ),
]
