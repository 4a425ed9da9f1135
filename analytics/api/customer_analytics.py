"""GET /api/v1/customer-analytics/?period=last_12_months&from=&to=&team=&owner=

Customer analytics as JSON: every chart (GET /api/v1/customer-analytics/), or one by its key
(GET /api/v1/customer-analytics/{key}/). Each chart is the shape analytics.charts draws; the same
chart as CSV is its page endpoint, /analytics/customers/charts/{key}/?format=csv. Definitions are
analytics.selectors.customer_analytics's. Figures are over the customers the caller may see and
cached for a minute. Needs `customers.view_customer`; bad filters give 400 naming the parameter.
"""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.charts import chart_data
from analytics.dashboard_filters import (
    PERIODS,
    DashboardFilter,
    DashboardFilterInvalid,
    dashboard_filter_parse,
)
from analytics.selectors.customer_analytics import (
    CUSTOMER_CHARTS,
    customer_analytics_chart,
    customer_analytics_charts,
)
from crm.api.permissions import ModelPermissions
from customers.models import Customer


class SeriesSerializer(serializers.Serializer):
    label = serializers.CharField()
    data = serializers.ListField(
        child=serializers.JSONField(),
        help_text=_("One value per label; [x, y] pairs in a scatter."),
    )
    kind = serializers.CharField(help_text=_("Drawn as another kind than the chart's, if set."))
    right_axis = serializers.BooleanField()


class ChartSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=list(CUSTOMER_CHARTS))
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=["bar", "line", "pie", "doughnut", "scatter"])
    labels = serializers.ListField(child=serializers.CharField())
    series = SeriesSerializer(many=True)
    x_label = serializers.CharField()
    y_label = serializers.CharField()
    stacked = serializers.BooleanField()
    horizontal = serializers.BooleanField()
    note = serializers.CharField(help_text=_("What the numbers mean and how they were counted."))
    extra = serializers.DictField(
        help_text=_("top-customers: customers [{id, name, orders, spend, lifetime_value}].")
    )


class CustomerAnalyticsSerializer(serializers.Serializer):
    period_start = serializers.DateField(help_text=_("First day of the period, included."))
    period_end = serializers.DateField(help_text=_("Last day of the period, included."))
    team = serializers.IntegerField(allow_null=True)
    owner = serializers.IntegerField(allow_null=True)
    charts = ChartSerializer(many=True)


FILTER_PARAMETERS = [
    OpenApiParameter(
        "period", OpenApiTypes.STR, enum=list(PERIODS), description="Default last_12_months."
    ),
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (with `to`)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included (with `from`)."),
    OpenApiParameter("team", OpenApiTypes.INT, description="The customers' team (id)."),
    OpenApiParameter("owner", OpenApiTypes.INT, description="The customers' owner (user id)."),
]


def _filters(request) -> DashboardFilter:
    try:
        return dashboard_filter_parse(user=request.user, params=request.query_params)
    except DashboardFilterInvalid as exc:
        raise ValidationError({"filters": [str(exc)]}) from exc


class CustomerAnalyticsView(APIView):
    permission_classes = [ModelPermissions]
    # For ModelPermissions: reading the figures needs customers.view_customer.
    queryset = Customer.objects.none()

    @extend_schema(
        operation_id="customer_analytics",
        parameters=FILTER_PARAMETERS,
        responses=CustomerAnalyticsSerializer,
        description=__doc__,
    )
    def get(self, request):
        filters = _filters(request)
        charts = customer_analytics_charts(user=request.user, filters=filters)
        return Response(
            {
                "period_start": filters.period_start.isoformat(),
                "period_end": filters.period_end.isoformat(),
                "team": filters.team_id,
                "owner": filters.owner_id,
                "charts": [chart_data(chart) for chart in charts],
            }
        )


class CustomerAnalyticsChartView(APIView):
    permission_classes = [ModelPermissions]
    queryset = Customer.objects.none()

    @extend_schema(
        operation_id="customer_analytics_chart",
        parameters=[
            OpenApiParameter(
                "key", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(CUSTOMER_CHARTS)
            ),
            *FILTER_PARAMETERS,
        ],
        responses=ChartSerializer,
        description=__doc__,
    )
    def get(self, request, key: str):
        if key not in CUSTOMER_CHARTS:
            raise NotFound(_("No such chart."))
        filters = _filters(request)
        chart = customer_analytics_chart(key=key, user=request.user, filters=filters)
        return Response(chart_data(chart))


routes: list = []
urlpatterns = [
    path("customer-analytics/", CustomerAnalyticsView.as_view(), name="customer-analytics"),
    path(
        "customer-analytics/<slug:key>/",
        CustomerAnalyticsChartView.as_view(),
        name="customer-analytics-chart",
    ),
]
