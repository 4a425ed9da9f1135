"""The customer analytics page (/analytics/customers/), each of its charts as JSON or CSV
(`?format=csv`) with the page's filters, and the top customers table the page swaps in with htmx.

The figures are customer records read under the visibility rule, so the page needs
`customers.view_customer` (every role that works with customers holds it); what each user sees
of them is the rule's business, not a permission's."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import path, reverse

from analytics.charts import chart_response
from analytics.dashboard_filters import (
    DashboardFilterForm,
    DashboardFilterInvalid,
    dashboard_filter_parse,
)
from analytics.selectors.customer_analytics import (
    CHART_TITLES,
    CUSTOMER_CHARTS,
    customer_analytics_chart,
)

PERMISSION = "customers.view_customer"
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
def customer_analytics_page(request: HttpRequest) -> HttpResponse:
    form = DashboardFilterForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        charts = []
    else:
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
        {"form": form, "charts": charts, "query": request.GET.urlencode()},
    )


@login_required
@permission_required(PERMISSION, raise_exception=True)
def customer_analytics_chart_view(request: HttpRequest, key: str) -> HttpResponse:
    if key not in CUSTOMER_CHARTS:
        raise Http404
    try:
        filters = dashboard_filter_parse(user=request.user, params=request.GET)
    except DashboardFilterInvalid as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    chart = customer_analytics_chart(key=key, user=request.user, filters=filters)
    return chart_response(chart, format=request.GET.get("format", "json"))


@login_required
@permission_required(PERMISSION, raise_exception=True)
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
