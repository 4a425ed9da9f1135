"""/api/v1/ for follow-up tasks and the caller's notifications.

Reads go through the selectors (so through the visibility rule: a task is its assignee's) and
writes through the services, so the API validates exactly as the browser forms do. An update
names the `version` it was made from and gets 409 when the task has changed since.
"""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from collaboration.models import Notification, Task
from collaboration.selectors import notifications as notification_selectors
from collaboration.selectors import tasks as selectors
from collaboration.services import tasks as services
from collaboration.services.notifications import notifications_mark_read
from crm.accounts.models import Team
from crm.accounts.selectors import user_list_active
from crm.api.calls import ServiceWritesMixin, call_service
from crm.api.permissions import ModelPermissions
from crm.api.serializers import StrictModelSerializer


class ChangeOnPostPermissions(ModelPermissions):
    """For actions that change existing records through POST (`/tasks/{id}/complete/`)."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


@extend_schema_field(
    {
        "type": "string",
        "enum": list(selectors.TASK_RELATED_TYPES),
        "example": "sales.deal",
        "nullable": True,
    }
)
class RelatedTypeField(serializers.Field):
    """The kind of record a task is about, as "app_label.model"."""

    default_error_messages = {"unknown": _("A task cannot be about a record of type “{value}”.")}

    def to_representation(self, value) -> str:
        return selectors.content_type_label(value)

    def to_internal_value(self, data):
        content_type = selectors.related_content_type(str(data))
        if content_type is None:
            self.fail("unknown", value=data)
        return content_type


# Tasks -------------------------------------------------------------------------------------------


class TaskSerializer(StrictModelSerializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=user_list_active(),
        required=False,
        allow_null=True,
        help_text=_("Left out, the caller."),
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Left out, the assignee's first team."),
    )
    related_type = RelatedTypeField(
        required=False,
        allow_null=True,
        help_text=_("The kind of record the task is about: customers.customer or sales.deal."),
    )
    version = serializers.IntegerField(
        required=False,
        help_text=_(
            "Required on update: the version the change was made from. Set by the server on "
            "create; each change adds one."
        ),
    )

    class Meta:
        model = Task
        fields = [
            "id",
            "title",
            "description",
            "kind",
            "status",
            "priority",
            "due_at",
            "remind_minutes_before",
            "assignee",
            "team",
            "related_type",
            "related_id",
            "created_by",
            "completed_at",
            "reminded_at",
            "overdue_notified_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "created_by",
            "completed_at",
            "reminded_at",
            "overdue_notified_at",
            "created_at",
            "updated_at",
        ]

    def validate(self, attrs):
        if self.instance is None and "version" in attrs:
            raise serializers.ValidationError({"version": [_("A new task starts at version 1.")]})
        if self.instance is not None and "version" not in attrs:
            raise serializers.ValidationError(
                {"version": [_("Give the version of the task your change was made from.")]}
            )
        return attrs


class TaskStatusChangeSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        help_text=_("When given, the change is refused (409) unless it is the current version."),
    )


class TaskViewSet(ServiceWritesMixin, viewsets.ModelViewSet):
    """Follow-up tasks the caller may see: their own, their teams' and those shared with them.

    Filters: `mine`, `my_teams`, `open`, `overdue`, `due_today` (true/false), `status` (repeat
    for several), `priority`, `kind`, `assignee`, `team`, `due_from`/`due_to` (dates, whole days),
    `related_type` with `related_id` (the tasks about one record) and `q` (title and description).
    """

    serializer_class = TaskSerializer
    filterset_class = selectors.TaskFilter
    ordering_fields = ["due_at", "created_at", "priority", "status", "title"]

    def get_queryset(self):
        return selectors.task_list_visible(user=self.request.user)

    create_service = services.task_create
    update_service = services.task_update
    delete_service = services.task_delete
    record_argument = "task"

    def _change_status(self, request, service):
        task = self.get_object()
        data = TaskStatusChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = call_service(
            service, actor=request.user, task=task, version=data.validated_data.get("version")
        )
        return Response(self.get_serializer(task).data)

    @extend_schema(request=TaskStatusChangeSerializer, responses=TaskSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def complete(self, request, pk=None):
        """Mark the task done now; completing a done task changes nothing."""
        return self._change_status(request, services.task_complete)

    @extend_schema(request=TaskStatusChangeSerializer, responses=TaskSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def reopen(self, request, pk=None):
        """Open a done or cancelled task again."""
        return self._change_status(request, services.task_reopen)


# Notifications -----------------------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    related_type = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "url",
            "related_type",
            "related_id",
            "created_at",
            "read_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True, "example": "collaboration.task"})
    def get_related_type(self, notification: Notification) -> str | None:
        if notification.related_type is None:
            return None
        return selectors.content_type_label(notification.related_type)


class NotificationFilter(filters.FilterSet):
    unread = filters.BooleanFilter(
        field_name="read_at", lookup_expr="isnull", label=_("Unread only (true) or read (false)")
    )

    class Meta:
        model = Notification
        fields = ["kind", "unread"]


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        max_length=1000,
        help_text=_("The notifications to mark read; left out, all of the caller's unread ones."),
    )


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The caller's own notifications, newest first; nobody sees anyone else's."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return notification_selectors.notification_list_for(user=self.request.user)

    @extend_schema(request=MarkReadSerializer, responses=MarkedReadSerializer)
    @action(
        detail=False,
        methods=["post"],
        url_path="mark-read",
        permission_classes=[ChangeOnPostPermissions],
    )
    def mark_read(self, request):
        """Mark the caller's notifications read: those named in `ids`, or all of them."""
        data = MarkReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        marked = notifications_mark_read(
            recipient=request.user, notification_ids=data.validated_data.get("ids")
        )
        return Response(MarkedReadSerializer({"marked": marked}).data)


routes = [
    ("tasks", TaskViewSet, "task"),
    ("notifications", NotificationViewSet, "notification"),
]
urlpatterns: list = []
