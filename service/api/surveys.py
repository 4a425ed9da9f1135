"""/api/v1/satisfaction-surveys/: the surveys sent on the tickets the caller may see, with their
answers. Read-only: surveys are sent when a ticket is resolved and answered by the customer
through the link they were sent."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from rest_framework import pagination, serializers, viewsets

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


class SurveyFilter(filters.FilterSet):
    ticket = filters.NumberFilter(field_name="ticket_id")
    answered = filters.BooleanFilter(
        field_name="answered_at", lookup_expr="isnull", exclude=True, label=_("Answered")
    )
    sent_after = filters.IsoDateTimeFilter(field_name="sent_at", lookup_expr="gte")
    sent_before = filters.IsoDateTimeFilter(field_name="sent_at", lookup_expr="lt")

    class Meta:
        model = SatisfactionSurvey
        fields = ["ticket", "answered", "rating", "sent_after", "sent_before"]


class SurveyPagination(pagination.CursorPagination):
    """Surveys only grow; pages follow the time index instead of counting every row."""

    ordering = ("-sent_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class SatisfactionSurveyViewSet(viewsets.ReadOnlyModelViewSet):
    """Satisfaction surveys of the tickets the caller may see, newest first."""

    queryset = SatisfactionSurvey.objects.none()
    serializer_class = SatisfactionSurveySerializer
    filterset_class = SurveyFilter
    filter_backends = [filters.DjangoFilterBackend]
    pagination_class = SurveyPagination

    def get_queryset(self):
        return survey_list_visible(user=self.request.user)


routes = [("satisfaction-surveys", SatisfactionSurveyViewSet, "satisfaction-survey")]
urlpatterns: list = []
