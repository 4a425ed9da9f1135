"""The audit log over the API, read-only: its events, and the changes to records of one type.

Only those who may read the audit log (`audit.view_auditevent`) reach either list; every write
answers 405, since nothing may change the audit trail.
"""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission

from crm.accounts.field_security import field_access
from crm.api.fields import FieldsMixin
from crm.api.filters import IsoDateTimeFilter
from crm.api.pagination import CursorPagination
from crm.api.permissions import ReadOnlyTokenPermission
from crm.audit import selectors
from crm.audit.models import AuditEvent

AUDIT_LOG_PERMISSION = "audit.view_auditevent"


class AuditLogPermission(BasePermission):
    """Whoever may read the audit log, whatever the method: the lists take no write at all, so a
    write answers 405 rather than 403."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm(AUDIT_LOG_PERMISSION))


class AuditEventSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    target_type = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "kind",
            "kind_display",
            "occurred_at",
            "actor",
            "username",
            "ip_address",
            "user_agent",
            "api_token",
            "target_type",
            "target_id",
            "target_label",
            "details",
        ]
        read_only_fields = fields

    def get_target_type(self, event: AuditEvent) -> str | None:
        if event.target_type is None:
            return None
        return f"{event.target_type.app_label}.{event.target_type.model}"


class AuditEventFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=AuditEvent.Kind.choices)
    actor = filters.NumberFilter(field_name="actor_id")
    occurred_after = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    ip_address = filters.CharFilter(field_name="ip_address")

    class Meta:
        model = AuditEvent
        fields = ["kind", "actor", "occurred_after", "occurred_before", "ip_address"]


class AuditEventViewSet(FieldsMixin, viewsets.ReadOnlyModelViewSet):
    """The audit log's events (logins, exports, permission changes...), newest first."""

    serializer_class = AuditEventSerializer
    permission_classes = [ReadOnlyTokenPermission, AuditLogPermission]
    pagination_class = CursorPagination
    ordering = ("-occurred_at", "-id")
    filterset_class = AuditEventFilter
    filter_backends = [filters.DjangoFilterBackend]

    def get_queryset(self):
        return selectors.audit_event_list()


class RecordChangeSerializer(serializers.Serializer):
    history_id = serializers.IntegerField()
    record = serializers.IntegerField(source="id")
    action = serializers.CharField(source="history_type")
    at = serializers.DateTimeField(source="history_date")
    user = serializers.IntegerField(source="history_user_id", allow_null=True)
    username = serializers.SerializerMethodField()
    ip_address = serializers.IPAddressField(source="history_ip_address", allow_null=True)
    user_agent = serializers.CharField(source="history_user_agent")
    api_token = serializers.CharField(source="history_api_token")
    values = serializers.SerializerMethodField()

    def get_username(self, change) -> str:
        return change.history_user.get_username() if change.history_user else ""

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_values(self, change) -> dict:
        """The record as it stood after the change, field by field (what the caller may see)."""
        model = change.instance_type
        access = field_access(user=self.context["request"].user, model=model)
        return {
            model_field.attname: model_field.value_from_object(change)
            for model_field in model.history.model.tracked_fields
            if access.can_see(model_field.name)
        }


class RecordChangeFilter(filters.FilterSet):
    user = filters.NumberFilter(field_name="history_user_id")
    action = filters.ChoiceFilter(
        field_name="history_type", choices=list(selectors.CHANGE_KINDS.items())
    )
    changed_after = IsoDateTimeFilter(field_name="history_date", lookup_expr="gte")
    changed_before = IsoDateTimeFilter(field_name="history_date", lookup_expr="lt")
    record = filters.NumberFilter(field_name="id")


@extend_schema(
    parameters=[
        OpenApiParameter(
            "type",
            str,
            required=True,
            description='The record type, "app_label.model": customers.customer, sales.deal...',
        )
    ]
)
class RecordChangeViewSet(FieldsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every create, change and delete of records of one `type`, newest first, each with who made
    it, from where, and the record's values after it."""

    serializer_class = RecordChangeSerializer
    permission_classes = [ReadOnlyTokenPermission, AuditLogPermission]
    pagination_class = CursorPagination
    ordering = ("-history_date", "-history_id")
    filterset_class = RecordChangeFilter
    filter_backends = [filters.DjangoFilterBackend]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        model = selectors.history_tracked_model(self.request.query_params.get("type", ""))
        if model is None:
            raise ValidationError({"type": [_("Name a record type whose history is kept.")]})
        return selectors.record_change_list(model=model)
