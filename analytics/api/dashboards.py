"""GET /api/v1/dashboards/manager/, /api/v1/dashboards/rep/ and /api/v1/charts/<key>/: the
dashboards' figures as charts (analytics.charts: labels and series), over the records the caller
may see, with the pages' filters (?period=, from, to, team, owner, granularity). Definitions in
analytics.selectors.dashboards. Bad filters give 400 naming the parameter. The same chart as CSV
is its page endpoint, /analytics/charts/<key>/?format=csv (DRF reads ?format= as a renderer).
The chart and filter serializers are shared with analytics.api.customer_analytics."""

from django.http import Http404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.charts import chart_data
from analytics.dashboard_filters import (
    GRANULARITIES,
    PERIODS,
    DashboardFilter,
    DashboardFilterInvalid,
    dashboard_filter_parse,
)
from analytics.selectors.dashboards import (
    MANAGER_CHARTS,
    REP_CHARTS,
    dashboard_chart,
    dashboard_charts,
)
from crm.api.fields import FieldsMixin
from crm.replicas import reads_from_replica

MANAGER_PERMISSION = "analytics.manage_dashboard"
VIEWER_PERMISSION = "analytics.view_predictivemodel"


class DashboardSeriesSerializer(serializers.Serializer):
    label = serializers.CharField()
    data = serializers.ListField(
        child=serializers.JSONField(),
        help_text=_("One value per label (null where there is none); [x, y] pairs in a scatter."),
    )
    kind = serializers.CharField(help_text=_("Drawn as another kind than the chart's, if set."))
    right_axis = serializers.BooleanField()


class DashboardChartSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    kind = serializers.CharField(help_text=_("bar, line, pie, doughnut, scatter or table"))
    labels = serializers.ListField(child=serializers.CharField())
    series = DashboardSeriesSerializer(many=True)
    x_label = serializers.CharField()
    y_label = serializers.CharField()
    stacked = serializers.BooleanField()
    horizontal = serializers.BooleanField()
    note = serializers.CharField(help_text=_("What the figures mean and how they were counted."))
    extra = serializers.DictField(
        help_text=_(
            "links: each row's page; trained: whether the scoring model is trained; "
            "customers (top-customers): [{id, name, orders, spend, lifetime_value}]."
        )
    )


class DashboardFilterSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(PERIODS))
    start = serializers.DateField(source="period_start", help_text=_("First day, included."))
    end = serializers.DateField(source="period_end", help_text=_("Last day, included."))
    team = serializers.IntegerField(source="team_id", allow_null=True)
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    granularity = serializers.ChoiceField(choices=list(GRANULARITIES))


class DashboardSerializer(serializers.Serializer):
    filters = DashboardFilterSerializer()
    charts = DashboardChartSerializer(many=True)


FILTER_PARAMETERS = [
    OpenApiParameter(
        "period", OpenApiTypes.STR, enum=list(PERIODS), description="Default: last_12_months."
    ),
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (with `to`)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included (with `from`)."),
    OpenApiParameter("team", OpenApiTypes.INT, description="Team id (manager dashboard)."),
    OpenApiParameter("owner", OpenApiTypes.INT, description="Owner (user id, manager dashboard)."),
    OpenApiParameter(
        "granularity",
        OpenApiTypes.STR,
        enum=list(GRANULARITIES),
        description="Default: by week up to 92 days, by month beyond.",
    ),
]


class HasPermission(BasePermission):
    """The caller holds the view's `required_permission`."""

    def has_permission(self, request, view) -> bool:
        return request.user.is_authenticated and request.user.has_perm(view.required_permission)


def filters_from_query(request: Request) -> DashboardFilter:
    """The dashboard filter of the query string; 400 naming each bad parameter otherwise."""
    try:
        return dashboard_filter_parse(user=request.user, params=request.query_params)
    except DashboardFilterInvalid as error:
        raise ValidationError(error.fields) from error


class _DashboardView(FieldsMixin, APIView):
    permission_classes = [HasPermission]
    charts: dict = {}

    @reads_from_replica
    def get(self, request: Request) -> Response:
        filters = filters_from_query(request)
        charts = dashboard_charts(user=request.user, keys=self.charts, filters=filters)
        return Response(
            {
                "filters": DashboardFilterSerializer(filters).data,
                "charts": [chart_data(chart) for chart in charts],
            }
        )


class ManagerDashboardView(_DashboardView):
    required_permission = MANAGER_PERMISSION
    charts = MANAGER_CHARTS

    @extend_schema(
        operation_id="dashboard_manager",
        parameters=FILTER_PARAMETERS,
        responses=DashboardSerializer,
        description=(
            "Every figure of the manager dashboard: "
            + ", ".join(MANAGER_CHARTS)
            + ". Needs analytics.manage_dashboard."
        ),
    )
    def get(self, request: Request) -> Response:
        return super().get(request)


class RepDashboardView(_DashboardView):
    required_permission = VIEWER_PERMISSION
    charts = REP_CHARTS

    @extend_schema(
        operation_id="dashboard_rep",
        parameters=FILTER_PARAMETERS[:3] + FILTER_PARAMETERS[5:],
        responses=DashboardSerializer,
        description=(
            "The caller's own figures: "
            + ", ".join(REP_CHARTS)
            + ". Needs analytics.view_predictivemodel."
        ),
    )
    def get(self, request: Request) -> Response:
        return super().get(request)


class ChartView(FieldsMixin, APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="dashboard_chart",
        parameters=[
            OpenApiParameter(
                "key",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=[*MANAGER_CHARTS, *REP_CHARTS],
            ),
            *FILTER_PARAMETERS,
        ],
        responses=DashboardChartSerializer,
        description=(
            "One figure of either dashboard. The manager dashboard's need "
            "analytics.manage_dashboard, the rep dashboard's analytics.view_predictivemodel."
        ),
    )
    @reads_from_replica
    def get(self, request: Request, key: str) -> Response:
        if key in MANAGER_CHARTS:
            permission = MANAGER_PERMISSION
        elif key in REP_CHARTS:
            permission = VIEWER_PERMISSION
        else:
            raise Http404
        if not request.user.has_perm(permission):
            raise PermissionDenied
        chart = dashboard_chart(user=request.user, key=key, filters=filters_from_query(request))
        return Response(chart_data(chart))


routes: list = []
urlpatterns = [
    path("dashboards/manager/", ManagerDashboardView.as_view(), name="dashboard-manager"),
    path("dashboards/rep/", RepDashboardView.as_view(), name="dashboard-rep"),
    path("charts/<slug:key>/", ChartView.as_view(), name="dashboard-chart"),
]
