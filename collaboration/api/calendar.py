"""/api/v1/events/: the shared calendar.

Reads go through the selectors (the visibility rule: an event is its organiser's, and its
attendees see it) and writes through the services, so the API validates exactly as the pages do.
A list names its time range; an update or cancellation names the `version` it was made from and
gets 409 when the event has changed since.
"""

from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from collaboration.api.tasks import ChangeOnPostPermissions, RelatedTypeField
from collaboration.models import Event, EventAttendee, EventGuest
from collaboration.selectors import calendar as selectors
from collaboration.selectors.tasks import content_type_label
from collaboration.services import calendar as services
from crm.accounts.models import Team
from crm.api.calls import call_service
from crm.api.fields import FieldsMixin
from crm.api.serializers import StrictModelSerializer

# A list covers at most this many days, so one request reads a bounded number of events.
MAX_RANGE_DAYS = 100


class AttendeeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="user.__str__", read_only=True)

    class Meta:
        model = EventAttendee
        fields = ["user", "name", "response"]
        read_only_fields = fields


@extend_schema_field(
    {"type": "string", "enum": list(selectors.GUEST_TYPES), "example": "customers.customer"}
)
class GuestTypeField(serializers.Field):
    default_error_messages = {"unknown": _("A guest cannot be a record of type “{value}”.")}

    def to_representation(self, value) -> str:
        return content_type_label(value)

    def to_internal_value(self, data) -> str:
        if selectors.guest_content_type(str(data)) is None:
            self.fail("unknown", value=data)
        return str(data).strip().lower()


class GuestSerializer(serializers.ModelSerializer):
    guest_type = GuestTypeField(help_text=_("The kind of record invited: customers.customer."))
    guest_id = serializers.IntegerField(min_value=1)

    class Meta:
        model = EventGuest
        fields = ["guest_type", "guest_id", "name", "email"]
        read_only_fields = ["name", "email"]


class EventSerializer(StrictModelSerializer):
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Left out, the organiser's first team."),
    )
    related_type = RelatedTypeField(
        required=False,
        allow_null=True,
        help_text=_("The kind of record the event is about: customers.customer, sales.deal…"),
    )
    attendees = AttendeeSerializer(many=True, read_only=True)
    attendee_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        write_only=True,
        max_length=500,
        help_text=_(
            "The users invited. On update, when given, replaces the list (answers of those kept "
            "are kept)."
        ),
    )
    guests = GuestSerializer(
        many=True,
        required=False,
        help_text=_("The customers invited. On update, when given, replaces the list."),
    )
    version = serializers.IntegerField(
        required=False,
        help_text=_(
            "Required on update: the version the change was made from. Set by the server on "
            "create; each change adds one."
        ),
    )

    class Meta:
        model = Event
        fields = [
            "id",
            "title",
            "description",
            "kind",
            "starts_at",
            "ends_at",
            "all_day",
            "location",
            "video_url",
            "organizer",
            "team",
            "related_type",
            "related_id",
            "remind_minutes_before",
            "attendees",
            "attendee_ids",
            "guests",
            "cancelled_at",
            "reminded_at",
            "logged_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "organizer",
            "cancelled_at",
            "reminded_at",
            "logged_at",
            "created_at",
            "updated_at",
        ]

    def validate(self, attrs):
        if self.instance is None and "version" in attrs:
            raise serializers.ValidationError({"version": [_("A new event starts at version 1.")]})
        if self.instance is not None and "version" not in attrs:
            raise serializers.ValidationError(
                {"version": [_("Give the version of the event your change was made from.")]}
            )
        return attrs


class RespondPermissions(ChangeOnPostPermissions):
    """Answering an invitation changes no event: an attendee who may see it may answer."""

    perms_map = {**ChangeOnPostPermissions.perms_map, "POST": ["%(app_label)s.view_%(model_name)s"]}


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        help_text=_("The version the cancellation was made from; refused (409) when stale.")
    )


class RespondSerializer(serializers.Serializer):
    response = serializers.ChoiceField(
        choices=[
            EventAttendee.Response.ACCEPTED,
            EventAttendee.Response.DECLINED,
            EventAttendee.Response.TENTATIVE,
        ],
        help_text=_("The caller's answer to their invitation."),
    )


def _moment(value: str, *, name: str, end: bool = False) -> datetime:
    """An ISO 8601 time, or a date: its start (for `end`, the next day's) in the caller's zone."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError({name: [_("Give an ISO 8601 date or time.")]}) from exc
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _service_arguments(data: dict) -> tuple[dict, list[int] | None, list[tuple] | None]:
    """The serializer's data as the services take it: the event's values, attendees, guests."""
    values = dict(data)
    attendee_ids = values.pop("attendee_ids", None)
    guests = values.pop("guests", None)
    values.pop("version", None)
    if guests is not None:
        guests = [(guest["guest_type"], guest["guest_id"]) for guest in guests]
    return values, attendee_ids, guests


RANGE_PARAMETERS = [
    OpenApiParameter(
        "start", OpenApiTypes.STR, required=True, description=_("Range start: ISO date or time.")
    ),
    OpenApiParameter(
        "end",
        OpenApiTypes.STR,
        required=True,
        description=_("Range end (a date counts whole): at most 100 days after the start."),
    ),
    OpenApiParameter(
        "scope",
        OpenApiTypes.STR,
        enum=list(selectors.SCOPES),
        description=_("mine (organised or attended, the default) or team."),
    ),
    OpenApiParameter(
        "team", OpenApiTypes.INT, description=_("With scope=team: one team's events only.")
    ),
]


class EventViewSet(
    FieldsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Events on the shared calendar the caller may see: theirs, their teams', those they attend.

    The list needs `start` and `end` (at most 100 days apart) and returns the events overlapping
    that range, soonest first.
    """

    serializer_class = EventSerializer
    filter_backends: list = []
    pagination_class = None

    def get_queryset(self):
        if self.action != "list":
            return selectors.events_visible_detailed(user=self.request.user)
        params = self.request.query_params
        if not params.get("start") or not params.get("end"):
            raise ValidationError(
                {
                    name: [_("Give the range: start and end.")]
                    for name in ("start", "end")
                    if not params.get(name)
                }
            )
        start = _moment(params["start"], name="start")
        end = _moment(params["end"], name="end", end=True)
        if end <= start:
            raise ValidationError({"end": [_("The end must come after the start.")]})
        if end - start > timedelta(days=MAX_RANGE_DAYS):
            raise ValidationError(
                {"end": [_("At most %(days)d days at a time.") % {"days": MAX_RANGE_DAYS}]}
            )
        scope = params.get("scope", "mine")
        if scope not in selectors.SCOPES:
            raise ValidationError({"scope": [_("mine or team.")]})
        team = None
        if params.get("team"):
            teams = selectors.calendar_teams(user=self.request.user)
            team = teams.filter(pk=params["team"]).first() if params["team"].isdigit() else None
            if team is None:
                raise ValidationError({"team": [_("Not one of your teams.")]})
        return selectors.events_in_range(
            user=self.request.user, start=start, end=end, scope=scope, team=team
        )

    @extend_schema(parameters=RANGE_PARAMETERS)
    def list(self, request, *args, **kwargs):
        """The events overlapping [start, end), with attendees and guests."""
        return super().list(request, *args, **kwargs)

    def _reread(self, event: Event) -> Event:
        return selectors.event_get_visible(user=self.request.user, pk=event.pk)

    def perform_create(self, serializer):
        values, attendee_ids, guests = _service_arguments(serializer.validated_data)
        event = call_service(
            services.event_create,
            actor=self.request.user,
            values=values,
            attendee_ids=attendee_ids or (),
            guests=guests or (),
        )
        serializer.instance = self._reread(event)

    def perform_update(self, serializer):
        values, attendee_ids, guests = _service_arguments(serializer.validated_data)
        event = call_service(
            services.event_update,
            actor=self.request.user,
            event=serializer.instance,
            values=values,
            version=serializer.validated_data["version"],
            attendee_ids=attendee_ids,
            guests=guests,
        )
        serializer.instance = self._reread(event)

    def perform_destroy(self, instance):
        call_service(services.event_delete, actor=self.request.user, event=instance)

    @extend_schema(request=VersionSerializer, responses=EventSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def cancel(self, request, pk=None):
        """Call the event off: it stays, marked cancelled, and its attendees are told."""
        event = self.get_object()
        data = VersionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = call_service(
            services.event_cancel,
            actor=request.user,
            event=event,
            version=data.validated_data["version"],
        )
        return Response(self.get_serializer(self._reread(event)).data)

    @extend_schema(request=RespondSerializer, responses=AttendeeSerializer)
    @action(detail=True, methods=["post"], permission_classes=[RespondPermissions])
    def respond(self, request, pk=None):
        """The caller's answer to their invitation (only attendees may answer)."""
        event = self.get_object()
        data = RespondSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attendee = call_service(
            services.event_respond,
            user=request.user,
            event=event,
            response=data.validated_data["response"],
        )
        return Response(AttendeeSerializer(attendee).data)


routes = [("events", EventViewSet, "event")]
urlpatterns: list = []
