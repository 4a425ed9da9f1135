"""GET /api/v1/service-metrics/?from=2026-10-24&to=2026-11-22&team=&agent=&channel=&tier=&category=

The service dashboard's figures and trend as JSON, over the tickets the caller may see. The
definitions are service.selectors.metrics's (and the dashboard page's); times are business hours.
Needs `service.view_ticket`. Bad filters give 400 naming the field.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.fields import FieldsMixin
from crm.api.permissions import ModelPermissions
from crm.replicas import reads_from_replica
from customers.models import Customer
from service.forms_dashboard import MetricsFilterForm
from service.models import Ticket
from service.selectors.metrics import metrics_cached


class TimingSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text=_("Tickets measured."))
    median_hours = serializers.FloatField(allow_null=True, help_text=_("Business hours."))
    p90_hours = serializers.FloatField(
        allow_null=True, help_text=_("90th percentile (percentile_cont), business hours.")
    )


class RateSerializer(serializers.Serializer):
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True, help_text=_("null when nothing counted."))


class AgeBucketSerializer(serializers.Serializer):
    key = serializers.CharField(help_text=_("under_1d, 1d_3d, 3d_7d or over_7d"))
    label = serializers.CharField()
    count = serializers.IntegerField()


class TrendPointSerializer(serializers.Serializer):
    period = serializers.DateField(help_text=_("The day, or the Monday of the week."))
    created = serializers.IntegerField()
    resolved = serializers.IntegerField()
    first_response_median_hours = serializers.FloatField(allow_null=True)
    surveys_answered = serializers.IntegerField()
    csat_average = serializers.FloatField(allow_null=True)


class MetricsSerializer(serializers.Serializer):
    start = serializers.DateField(source="scope.start", help_text=_("First day, included."))
    end = serializers.DateField(source="scope.end", help_text=_("Last day, included."))
    granularity = serializers.ChoiceField(choices=["day", "week"])
    created = serializers.IntegerField(help_text=_("Tickets created in the period."))
    first_response = TimingSerializer(
        help_text=_("Over the tickets created in the period that have had a first response.")
    )
    resolution = TimingSerializer(help_text=_("Over the tickets resolved in the period."))
    first_response_sla = RateSerializer(
        help_text=_("Met / settled first-response due times falling in the period.")
    )
    resolution_sla = RateSerializer(
        help_text=_("Met / settled resolution due times falling in the period.")
    )
    backlog = serializers.IntegerField(help_text=_("Tickets open now, whatever the period."))
    backlog_ages = AgeBucketSerializer(many=True)
    oldest_open_at = serializers.DateTimeField(allow_null=True)
    reopen = RateSerializer(
        help_text=_("Resolved in the period after a reopen / resolved in the period.")
    )
    surveys = RateSerializer(help_text=_("Answered / sent, of the surveys sent in the period."))
    csat_average = serializers.FloatField(
        allow_null=True, help_text=_("Average rating (1–5) of the answered surveys.")
    )
    trend = TrendPointSerializer(many=True)


FILTER_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (default: 29 days ago)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included (default: today)."),
    OpenApiParameter("team", OpenApiTypes.INT, description="Team id."),
    OpenApiParameter("agent", OpenApiTypes.INT, description="Assignee (user id)."),
    OpenApiParameter("channel", OpenApiTypes.STR, enum=Ticket.Channel.values),
    OpenApiParameter("tier", OpenApiTypes.STR, enum=Customer.Tier.values),
    OpenApiParameter("category", OpenApiTypes.INT, description="Ticket category id."),
]


class ServiceMetricsView(FieldsMixin, APIView):
    permission_classes = [ModelPermissions]
    # For ModelPermissions: reading the figures needs service.view_ticket.
    queryset = Ticket.objects.none()

    @extend_schema(
        operation_id="service_metrics",
        parameters=FILTER_PARAMETERS,
        responses=MetricsSerializer,
        description=__doc__,
    )
    @reads_from_replica
    def get(self, request):
        form = MetricsFilterForm(request.query_params, user=request.user)
        try:
            scope = form.scope()
        except DjangoValidationError as exc:
            errors = form.errors.get_json_data()
            raise ValidationError(
                {
                    name: [error["message"] for error in messages]
                    for name, messages in errors.items()
                }
            ) from exc
        return Response(MetricsSerializer(metrics_cached(scope=scope)).data)


routes: list = []
urlpatterns = [
    path("service-metrics/", ServiceMetricsView.as_view(), name="service-metrics"),
]
