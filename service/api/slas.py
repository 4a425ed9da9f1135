"""/api/v1/sla-policies/ and /api/v1/business-calendars/ (each with its holidays): read by every
service role, written by managers through service.services.sla_policies, so the API refuses
exactly what the SLA pages refuse, with the same messages.

Changed targets and calendars apply to tickets created (or re-prioritised) afterwards; due times
already set stay as they were promised.
"""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, viewsets

from crm.api.calls import ServiceWritesMixin
from crm.api.fields import FieldsMixin
from crm.api.serializers import StrictModelSerializer
from service.api.tickets import PriorityField
from service.models import BusinessCalendar, Holiday, SlaPolicy
from service.selectors import sla_policies as selectors
from service.services import sla_policies as services


class SlaPolicySerializer(StrictModelSerializer):
    """Targets for tickets of one service tier and priority, in business minutes of its
    calendar; a blank tier or priority matches any, and the most specific active policy
    applies."""

    calendar = serializers.PrimaryKeyRelatedField(
        queryset=BusinessCalendar.objects.all(),
        required=False,
        help_text=_("Left out, the default calendar."),
    )
    calendar_name = serializers.CharField(source="calendar.name", read_only=True)
    priority = PriorityField(
        required=False,
        allow_blank=True,
        help_text=_("low, normal, high or urgent; blank for any priority."),
    )

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            *services.SLA_POLICY_EDITABLE_FIELDS,
            "calendar_name",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The policy service checks the targets and one active policy per tier × priority,
        # with the SLA pages' messages.
        validators: list = []


class SlaPolicyViewSet(FieldsMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """SLA policies, active and not. Activating a second policy for the same tier × priority is
    refused (400, naming `priority`); deactivate the other one first."""

    queryset = selectors.sla_policy_list()
    serializer_class = SlaPolicySerializer
    filterset_fields = ["is_active", "tier", "priority", "calendar"]
    search_fields = ["name"]
    ordering_fields = ["name", "tier", "priority", "first_response_minutes", "resolution_minutes"]

    create_service = services.sla_policy_create
    update_service = services.sla_policy_update
    delete_service = services.sla_policy_delete
    record_argument = "policy"


class HolidaySerializer(serializers.ModelSerializer):
    class Meta:
        model = Holiday
        fields = ["id", "date", "name"]
        read_only_fields = fields


class BusinessCalendarSerializer(StrictModelSerializer):
    """The hours SLA clocks run: the working weekdays (1 = Monday … 7 = Sunday) between a start
    and an end time in a time zone, minus the holidays (listed here, kept on the SLA pages)."""

    working_days = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text=_("ISO weekdays, 1 = Monday … 7 = Sunday; left out, Monday to Friday."),
    )
    holidays = HolidaySerializer(many=True, read_only=True)
    policy_count = serializers.IntegerField(
        read_only=True, help_text=_("How many SLA policies use the calendar.")
    )

    class Meta:
        model = BusinessCalendar
        fields = [
            "id",
            *services.CALENDAR_EDITABLE_FIELDS,
            "holidays",
            "policy_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The calendar service checks the name, the time zone, the hours and the one default.
        validators: list = []
        extra_kwargs = {
            "name": {"validators": []},
            "time_zone": {"help_text": _("An IANA name, such as Asia/Shanghai.")},
            "is_default": {
                "validators": [],
                "help_text": _(
                    "Set, the calendar becomes the default instead of the current one; it cannot "
                    "be unset (make another calendar the default instead)."
                ),
            },
        }


class BusinessCalendarViewSet(FieldsMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """Business calendars with their holidays. The default calendar, or one that SLA policies
    use (in_use), cannot be deleted."""

    queryset = selectors.calendar_list().prefetch_related(
        Prefetch("holidays", queryset=Holiday.objects.order_by("date"))
    )
    serializer_class = BusinessCalendarSerializer
    filterset_fields = ["is_default"]
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]

    create_service = services.calendar_create
    update_service = services.calendar_update
    delete_service = services.calendar_delete
    record_argument = "calendar"

    def reread(self, record: BusinessCalendar) -> BusinessCalendar:
        return self.get_queryset().get(pk=record.pk)


routes = [
    ("sla-policies", SlaPolicyViewSet, "sla-policy"),
    ("business-calendars", BusinessCalendarViewSet, "business-calendar"),
]
urlpatterns: list = []
