"""The ticket text models for integrators:

- POST /api/v1/text/classify/ {"text": "..."}: the category and sentiment the active text models
  read in a text (English, Chinese or both); 409 while neither model has an active version.
- GET /api/v1/feedback-topics/?period=90d: the feedback-topics report over the tickets the
  caller may see.
"""

from dataclasses import asdict

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.selectors.text import DEFAULT_PERIOD, PERIODS, feedback_topics_report
from analytics.services.text import text_classify
from analytics.services.training import ModelUnavailable
from crm.api.calls import Conflict
from crm.api.fields import FieldsMixin
from crm.api.permissions import ModelPermissions
from service.models import Ticket

CLASSIFY_TEXT_MAX = 10_000


class ReadsPredictions(permissions.BasePermission):
    """Classifying reads what the models predict: `analytics.view_ticketprediction`."""

    def has_permission(self, request, view) -> bool:
        return bool(
            request.user
            and request.user.is_authenticated
            and request.user.has_perm("analytics.view_ticketprediction")
        )


class ClassifyRequestSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=CLASSIFY_TEXT_MAX, trim_whitespace=True)


class ClassifyResponseSerializer(serializers.Serializer):
    category = serializers.CharField(
        source="category_name",
        allow_blank=True,
        help_text=_("The most likely category's name; empty without an active category model."),
    )
    category_id = serializers.IntegerField(
        source="category.pk",
        allow_null=True,
        default=None,
        help_text=_("null when the category no longer exists under that name."),
    )
    confidence = serializers.FloatField(
        allow_null=True, help_text=_("The category's probability, 0–1.")
    )
    positive_probability = serializers.FloatField(
        allow_null=True,
        help_text=_("The chance the text reads as a satisfied customer (rated 4 or 5), 0–1."),
    )
    category_version = serializers.IntegerField(source="category_version.number", default=None)
    sentiment_version = serializers.IntegerField(source="sentiment_version.number", default=None)


class TextClassifyView(FieldsMixin, APIView):
    permission_classes = [ReadsPredictions]

    @extend_schema(
        operation_id="text_classify",
        request=ClassifyRequestSerializer,
        responses={
            200: ClassifyResponseSerializer,
            409: OpenApiResponse(description=_("Neither text model has an active version.")),
        },
        description=(
            "The category and sentiment the active text models read in a text (English, "
            "Chinese or both). A model without an active version leaves its part null; 409 "
            "while neither has one. Needs analytics.view_ticketprediction."
        ),
    )
    def post(self, request):
        incoming = ClassifyRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            reading = text_classify(text=incoming.validated_data["text"])
        except ModelUnavailable as exc:
            raise Conflict(str(exc), code="no_active_version") from exc
        return Response(ClassifyResponseSerializer(reading).data)


class FeedbackTopicSerializer(serializers.Serializer):
    key = serializers.CharField(help_text=_('The category id, or "none" for uncategorised.'))
    name = serializers.CharField()
    tickets = serializers.IntegerField()
    scored = serializers.IntegerField(help_text=_("Tickets the sentiment model has read."))
    negative = serializers.IntegerField(
        help_text=_("Of those, read as less than an even chance of a satisfied customer.")
    )
    negative_share = serializers.FloatField(allow_null=True, help_text=_("negative / scored."))
    rated = serializers.IntegerField(help_text=_("Tickets with a satisfaction rating."))
    csat_average = serializers.FloatField(allow_null=True, help_text=_("Average rating, 1–5."))
    terms = serializers.ListField(
        child=serializers.CharField(), help_text=_("The words that set the topic apart.")
    )
    monthly = serializers.ListField(
        child=serializers.IntegerField(), help_text=_("Tickets opened per month of `months`.")
    )


class FeedbackTopicsSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(PERIODS))
    start = serializers.DateField(help_text=_("First day, included."))
    end = serializers.DateField(help_text=_("Last day, included."))
    tickets = serializers.IntegerField()
    months = serializers.ListField(child=serializers.DateField())
    topics = FeedbackTopicSerializer(many=True)


class FeedbackTopicsView(FieldsMixin, APIView):
    permission_classes = [ModelPermissions]
    # For ModelPermissions: reading the report needs service.view_ticket.
    queryset = Ticket.objects.none()

    @extend_schema(
        operation_id="feedback_topics",
        parameters=[
            OpenApiParameter(
                "period",
                OpenApiTypes.STR,
                enum=list(PERIODS),
                description=f"Days back from today (default {DEFAULT_PERIOD}).",
            )
        ],
        responses=FeedbackTopicsSerializer,
        description=(
            "Per topic (the category an agent chose, else the suggested one) over the tickets "
            "the caller may see opened in the period: tickets, the share the sentiment model "
            "reads as negative, the average satisfaction rating, typical words and tickets per "
            "month. Needs service.view_ticket."
        ),
    )
    def get(self, request):
        period = request.query_params.get("period", DEFAULT_PERIOD)
        if period not in PERIODS:
            raise ValidationError({"period": [_("Choose one of: %s.") % ", ".join(PERIODS)]})
        report = feedback_topics_report(user=request.user, period=period)
        topics = [
            {
                **asdict(topic),
                "negative_share": topic.negative_share,
                "monthly": report.trend[topic.key],
            }
            for topic in report.topics
        ]
        data = {
            "period": report.period,
            "start": report.start,
            "end": report.end,
            "tickets": report.tickets,
            "months": report.months,
            "topics": topics,
        }
        return Response(FeedbackTopicsSerializer(data).data)


routes: list = []
urlpatterns = [
    path("text/classify/", TextClassifyView.as_view(), name="text-classify"),
    path("feedback-topics/", FeedbackTopicsView.as_view(), name="feedback-topics"),
]
