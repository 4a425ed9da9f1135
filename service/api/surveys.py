"""/api/v1/satisfaction-surveys/: the surveys sent on the tickets the caller may see, with their
answers. Read-only: surveys are sent when a ticket is resolved and answered by the customer
through the link they were sent."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from rest_framework import serializers, viewsets

from crm.api.fields import FieldsMixin
from crm.api.filters import IsoDateTimeFilter
from crm.api.pagination import CursorPagination
from crm.api.serializers import representation_json
from service.models import SatisfactionSurvey
from service.selectors.surveys import survey_list_visible


class SatisfactionSurveySerializer(serializers.ModelSerializer):
    ticket_number = serializers.CharField(source="ticket.number", read_only=True)
    customer = serializers.IntegerField(source="ticket.customer_id", read_only=True)
    customer_name = serializers.CharField(source="ticket.customer.name", read_only=True)

    class Meta:
        model = SatisfactionSurvey
        fields = [
            "id",
            "ticket",
            "ticket_number",
            "customer",
            "customer_name",
            "language",
            "sent_to",
            "sent_at",
            "expires_at",
            "answered_at",
            "rating",
            "comment",
        ]
        read_only_fields = fields
        extra_kwargs = {"rating": {"help_text": _("1 (poor) to 5 (excellent); null unanswered.")}}


def survey_payload(survey: SatisfactionSurvey) -> dict:
    """The survey as GET /api/v1/satisfaction-surveys/{id}/ shows it, with its answer: the
    record of its survey.answered event (only its id once it is gone)."""
    fresh = (
        SatisfactionSurvey.objects.select_related("ticket", "ticket__customer")
        .filter(pk=survey.pk)
        .first()
    )
    return (
        representation_json(SatisfactionSurveySerializer(fresh).data)
        if fresh
        else {"id": survey.pk}
    )


class SurveyFilter(filters.FilterSet):
    ticket = filters.NumberFilter(field_name="ticket_id")
    answered = filters.BooleanFilter(
        field_name="answered_at", lookup_expr="isnull", exclude=True, label=_("Answered")
    )
    sent_after = IsoDateTimeFilter(field_name="sent_at", lookup_expr="gte")
    sent_before = IsoDateTimeFilter(field_name="sent_at", lookup_expr="lt")

    class Meta:
        model = SatisfactionSurvey
        fields = ["ticket", "answered", "rating", "sent_after", "sent_before"]


class SatisfactionSurveyViewSet(FieldsMixin, viewsets.ReadOnlyModelViewSet):
    """Satisfaction surveys of the tickets the caller may see, newest first."""

    queryset = SatisfactionSurvey.objects.none()
    serializer_class = SatisfactionSurveySerializer
    filterset_class = SurveyFilter
    filter_backends = [filters.DjangoFilterBackend]
    pagination_class = CursorPagination
    ordering = ("-sent_at", "-id")

    def get_queryset(self):
        return survey_list_visible(user=self.request.user)


routes = [("satisfaction-surveys", SatisfactionSurveyViewSet, "satisfaction-survey")]
urlpatterns: list = []
