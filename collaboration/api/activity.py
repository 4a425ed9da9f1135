"""/api/v1/activity-events/: the caller's activity feed, newest first, a cursor page at a time."""

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from rest_framework import mixins, serializers, viewsets

from crm.activity.models import ActivityEvent
from crm.activity.selectors import activity_feed_for
from crm.api.fields import FieldsMixin
from crm.api.pagination import CursorPagination


class ActivityEventSerializer(serializers.ModelSerializer):
    verb_label = serializers.CharField(source="get_verb_display", read_only=True)
    actor_name = serializers.SerializerMethodField()
    team_name = serializers.SerializerMethodField()
    target_type = serializers.SerializerMethodField()

    class Meta:
        model = ActivityEvent
        fields = [
            "id",
            "verb",
            "verb_label",
            "actor",
            "actor_name",
            "team",
            "team_name",
            "target_type",
            "target_id",
            "summary",
            "url",
            "data",
            "created_at",
        ]
        read_only_fields = fields

    def get_actor_name(self, event: ActivityEvent) -> str | None:
        return str(event.actor) if event.actor else None

    def get_team_name(self, event: ActivityEvent) -> str | None:
        return event.team.name if event.team else None

    def get_target_type(self, event: ActivityEvent) -> str | None:
        if event.target_type_id is None:
            return None
        # The content type cache answers without a query.
        content_type = ContentType.objects.get_for_id(event.target_type_id)
        return f"{content_type.app_label}.{content_type.model}"


class ActivityFilter(filters.FilterSet):
    team = filters.NumberFilter(field_name="team_id", label=_("Team (id)"))
    verb = filters.MultipleChoiceFilter(
        choices=ActivityEvent.Verb.choices, label=_("What happened; repeat for several")
    )

    class Meta:
        model = ActivityEvent
        fields = ["team", "verb"]


class ActivityEventViewSet(FieldsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's activity feed: an admin's is everything; anyone else's the events of the
    teams they belong to or manage, and their own events filed under no team. Filters: `team`
    (id) and `verb` (repeat for several)."""

    serializer_class = ActivityEventSerializer
    filterset_class = ActivityFilter
    filter_backends = [filters.DjangoFilterBackend]
    pagination_class = CursorPagination
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        return activity_feed_for(user=self.request.user)


routes = [("activity-events", ActivityEventViewSet, "activityevent")]
urlpatterns: list = []
