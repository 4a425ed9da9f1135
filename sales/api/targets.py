"""/api/v1/ for sales targets, the forecast and the sales reports.

- /api/v1/targets/: targets (quotas) the caller may see, each with its `attained` amount (won
  deals closed within the period, computed in the same query as the list) and
  `attainment_percent`; written through sales.services.targets, so only managers (for their
  teams) and admins may add, change or remove one.
- GET /api/v1/forecasts/?period=2026-11&group=rep|team: the forecast rows of a period and their
  totals (definitions in sales.selectors.forecasts).
- GET /api/v1/reports/<name>/?start=2026-09&end=2026-11&group=rep: one sales report (outcomes,
  funnel, time_in_stage, lost_reasons; definitions in sales.selectors.reports).

Every figure counts only the deals the caller may see. Amounts of different currencies are summed
as they are (no conversion).
"""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.accounts.models import Team
from crm.accounts.selectors import user_list_active
from crm.api.calls import ServiceWritesMixin
from crm.api.fields import FieldsMixin
from crm.api.serializers import StrictModelSerializer
from crm.replicas import reads_from_replica
from sales.forms_targets import ReportFilterForm
from sales.models import SalesTarget
from sales.selectors.forecasts import (
    FORECAST_GROUPS,
    GROUP_REP,
    forecast_for,
    percent_of,
    period_current,
    period_parse,
    target_get_visible,
    target_list_visible,
)
from sales.selectors.reports import REPORTS, report_build
from sales.services import targets as services


class CanViewDeals(permissions.BasePermission):
    """The forecast and the reports are figures about deals: they need `sales.view_deal`."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm("sales.view_deal"))


# Targets -----------------------------------------------------------------------------------------


class TargetSerializer(StrictModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=user_list_active(),
        required=False,
        allow_null=True,
        help_text=_("The rep; leave out for a team's target."),
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("The team; leave out for a rep's target."),
    )
    attained = serializers.DecimalField(
        max_digits=18,
        decimal_places=2,
        read_only=True,
        help_text=_("Won deals closed within the period (only those the caller may see)."),
    )
    attainment_percent = serializers.SerializerMethodField(
        help_text=_("attained / amount × 100; null for a zero target.")
    )

    class Meta:
        model = SalesTarget
        fields = [
            "id",
            "owner",
            "team",
            "period",
            "period_start",
            "amount",
            "currency",
            "attained",
            "attainment_percent",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {
            "currency": {"required": False, "allow_blank": True},
            "period_start": {"help_text": _("The first day of the month or quarter.")},
        }
        # The service checks one target per rep (or team) and period, with a clear message.
        validators = []

    def get_attainment_percent(self, target: SalesTarget) -> str | None:
        percent = percent_of(getattr(target, "attained", None), target.amount)
        return None if percent is None else str(percent)


class PeriodKeyField(forms.CharField):
    """month, quarter, or one period written as 2026-11 or 2026-Q4."""

    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value or value.lower() in SalesTarget.Period.values:
            return value.lower()
        try:
            return period_parse(value)
        except ValueError as exc:
            raise DjangoValidationError(str(exc)) from exc


@extend_schema_field(OpenApiTypes.STR)
class PeriodKeyFilter(filters.Filter):
    field_class = PeriodKeyField

    def filter(self, queryset, value):
        if not value:
            return queryset
        if isinstance(value, str):
            return queryset.filter(period=value)
        return queryset.filter(period=value.kind, period_start=value.start)


class TargetFilter(filters.FilterSet):
    period = PeriodKeyFilter(
        label=_("month, quarter, or one period such as 2026-11 or 2026-Q4"),
    )
    period_start = filters.DateFilter()
    owner = filters.NumberFilter(field_name="owner_id")
    team = filters.NumberFilter(field_name="team_id")

    class Meta:
        model = SalesTarget
        fields = ["period", "period_start", "owner", "team"]


class TargetViewSet(
    FieldsMixin,
    ServiceWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Sales targets (quotas) for a rep or a team over a month or a quarter, with attainment."""

    serializer_class = TargetSerializer
    filterset_class = TargetFilter
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["period_start", "amount"]

    def get_queryset(self):
        return target_list_visible(user=self.request.user)

    create_service = services.target_create
    update_service = services.target_update
    delete_service = services.target_delete
    record_argument = "target"

    def reread(self, record: SalesTarget) -> SalesTarget:
        return target_get_visible(user=self.request.user, pk=record.pk)


# Forecast ----------------------------------------------------------------------------------------


class ForecastRowSerializer(serializers.Serializer):
    key = serializers.IntegerField(allow_null=True, help_text=_("The rep's or team's id."))
    label = serializers.CharField()
    won = serializers.DecimalField(max_digits=18, decimal_places=2)
    commit = serializers.DecimalField(max_digits=18, decimal_places=2)
    best_case = serializers.DecimalField(max_digits=18, decimal_places=2)
    weighted = serializers.DecimalField(max_digits=18, decimal_places=2)
    pipeline = serializers.DecimalField(max_digits=18, decimal_places=2)
    target = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    projected = serializers.DecimalField(max_digits=18, decimal_places=2)
    projected_percent = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)
    gap = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)


class ForecastSerializer(serializers.Serializer):
    period = serializers.CharField(source="period.key")
    period_label = serializers.CharField(source="period.label")
    group = serializers.ChoiceField(choices=FORECAST_GROUPS)
    results = ForecastRowSerializer(many=True, source="rows")
    totals = ForecastRowSerializer()


class ForecastView(FieldsMixin, APIView):
    """The forecast of one period by rep or by team, over the deals the caller may see."""

    permission_classes = [CanViewDeals]

    @extend_schema(
        operation_id="forecasts_list",
        parameters=[
            OpenApiParameter(
                "period", str, description="2026-11 or 2026-Q4; the current month by default."
            ),
            OpenApiParameter("group", str, enum=list(FORECAST_GROUPS)),
        ],
        responses=ForecastSerializer,
    )
    @reads_from_replica
    def get(self, request):
        try:
            period = (
                period_parse(request.query_params["period"])
                if request.query_params.get("period")
                else period_current()
            )
        except ValueError as exc:
            raise serializers.ValidationError({"period": [str(exc)]}) from exc
        group = request.query_params.get("group") or GROUP_REP
        if group not in FORECAST_GROUPS:
            raise serializers.ValidationError(
                {"group": [_("Choose one of: %s.") % ", ".join(FORECAST_GROUPS)]}
            )
        forecast = forecast_for(user=request.user, period=period, group=group)
        return Response(ForecastSerializer(forecast).data)


# Reports -----------------------------------------------------------------------------------------


class ReportColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField()


class ReportSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    help = serializers.CharField()
    columns = ReportColumnSerializer(many=True)
    rows = serializers.SerializerMethodField(
        help_text=_("One object per row, keyed by the columns' keys; amounts as strings.")
    )

    def get_rows(self, report) -> list[dict]:
        # Amounts and rates go out as strings, like every other decimal of the API.
        return [
            {key: str(value) if isinstance(value, Decimal) else value for key, value in row.items()}
            for row in report.rows
        ]


class ReportView(FieldsMixin, APIView):
    """One sales report over a range of periods; the rows' keys are the columns' keys."""

    permission_classes = [CanViewDeals]

    @extend_schema(
        operation_id="reports_retrieve",
        parameters=[
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(REPORTS)),
            OpenApiParameter("start", str, description="First period: 2026-09 or 2026-Q3."),
            OpenApiParameter("end", str, description="Last period, included."),
            OpenApiParameter("owner", int),
            OpenApiParameter("team", int),
            OpenApiParameter("pipeline", int),
            OpenApiParameter("group", str, enum=["rep", "team", "period"]),
        ],
        responses={200: ReportSerializer, 404: OpenApiTypes.OBJECT},
    )
    @reads_from_replica
    def get(self, request, name: str):
        if name not in REPORTS:
            raise Http404
        form = ReportFilterForm(request.query_params, user=request.user)
        try:
            scope = form.scope()
        except DjangoValidationError as exc:
            errors = {name: list(messages) for name, messages in form.errors.items()}
            raise serializers.ValidationError(errors) from exc
        return Response(ReportSerializer(report_build(name=name, scope=scope)).data)


routes = [("targets", TargetViewSet, "salestarget")]
urlpatterns = [
    path("forecasts/", ForecastView.as_view(), name="forecasts"),
    path("reports/<str:name>/", ReportView.as_view(), name="sales-report"),
]
