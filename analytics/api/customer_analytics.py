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
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.api.dashboards import DashboardChartSerializer, filters_from_query
from analytics.charts import chart_data
from analytics.dashboard_filters import PERIODS
from analytics.selectors.customer_analytics import (
    CUSTOMER_CHARTS,
    customer_analytics_chart,
    customer_analytics_charts,
)
from crm.api.fields import FieldsMixin
from crm.api.permissions import ModelPermissions
from crm.replicas import reads_from_replica
from customers.models import Customer


class CustomerAnalyticsSerializer(serializers.Serializer):
    period_start = serializers.DateField(help_text=_("First day of the period, included."))
    period_end = serializers.DateField(help_text=_("Last day of the period, included."))
    team = serializers.IntegerField(allow_null=True)
    owner = serializers.IntegerField(allow_null=True)
    charts = DashboardChartSerializer(many=True)


FILTER_PARAMETERS = [
    OpenApiParameter(
        "period", OpenApiTypes.STR, enum=list(PERIODS), description="Default last_12_months."
    ),
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (with `to`)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included (with `from`)."),
    OpenApiParameter("team", OpenApiTypes.INT, description="The customers' team (id)."),
    OpenApiParameter("owner", OpenApiTypes.INT, description="The customers' owner (user id)."),
]


class CustomerAnalyticsView(FieldsMixin, APIView):
    permission_classes = [ModelPermissions]
    # For ModelPermissions: reading the figures needs customers.view_customer.
    queryset = Customer.objects.none()

    @extend_schema(
        operation_id="customer_analytics",
        parameters=FILTER_PARAMETERS,
        responses=CustomerAnalyticsSerializer,
        description=__doc__,
    )
    @reads_from_replica
    def get(self, request):
        filters = filters_from_query(request)
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


class CustomerAnalyticsChartView(FieldsMixin, APIView):
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
        responses=DashboardChartSerializer,
        description=__doc__,
    )
    @reads_from_replica
    def get(self, request, key: str):
        if key not in CUSTOMER_CHARTS:
            raise NotFound(_("No such chart."))
        filters = filters_from_query(request)
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
