"""/api/v1/ for follow-up tasks.

Reads go through the selectors (so through the visibility rule: a task is its assignee's) and
writes through the services, so the API validates exactly as the browser forms do. An update
names the `version` it was made from and gets 409 when the task has changed since.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from collaboration.models import Task, TaskComment
from collaboration.selectors import task_comments as comment_selectors
from collaboration.selectors import tasks as selectors
from collaboration.services import task_comments as comment_services
from collaboration.services import tasks as services
from crm.accounts.api import UserSummarySerializer
from crm.accounts.models import Team
from crm.accounts.selectors import user_list_active
from crm.api.calls import ServiceWritesMixin, call_service
from crm.api.fields import ExpandableSerializerMixin, FieldsMixin
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


class TaskSerializer(ExpandableSerializerMixin, StrictModelSerializer):
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

    expandable_fields = {"assignee": UserSummarySerializer}

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


class TaskCommentSerializer(serializers.ModelSerializer):
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = TaskComment
        fields = ["id", "task", "author", "author_name", "body", "created_at", "updated_at"]
        read_only_fields = ["id", "task", "author", "author_name", "created_at", "updated_at"]
        extra_kwargs = {
            "body": {
                "help_text": _("Up to 5000 characters; @username lets that colleague know."),
            }
        }

    def get_author_name(self, comment: TaskComment) -> str:
        return str(comment.author) if comment.author else ""


class TaskCommentPermissions(BasePermission):
    """Reading a task's comments takes seeing tasks and comments; writing one, adding comments."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user.is_authenticated or not user.has_perm("collaboration.view_task"):
            return False
        if request.method in SAFE_METHODS:
            return user.has_perm("collaboration.view_taskcomment")
        return user.has_perm("collaboration.add_taskcomment")


class TaskViewSet(FieldsMixin, ServiceWritesMixin, viewsets.ModelViewSet):
    """Follow-up tasks the caller may see: their own, their teams' and those shared with them.

    Filters: `mine`, `my_teams`, `open`, `overdue`, `due_today` (true/false), `status` (repeat
    for several), `priority`, `kind`, `assignee`, `team`, `due_from`/`due_to` (dates, whole days),
    `related_type` with `related_id` (the tasks about one record) and `q` (title and description).
    """

    serializer_class = TaskSerializer
    filterset_class = selectors.TaskFilter
    search_fields = ["title", "description"]
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

    @extend_schema(
        methods=["GET"],
        responses=TaskCommentSerializer(many=True),
        description=_("The task's comments, oldest first."),
    )
    @extend_schema(
        methods=["POST"],
        request=TaskCommentSerializer,
        responses={201: TaskCommentSerializer},
        description=_(
            "Comment on the task. Its assignee and creator hear of it, and so does anyone "
            "named as @username who may see the task."
        ),
    )
    @action(
        detail=True,
        methods=["get", "post"],
        permission_classes=[TaskCommentPermissions],
        filterset_class=None,
        ordering_fields=[],
    )
    def comments(self, request, pk=None):
        task = self.get_object()
        if request.method == "POST":
            data = TaskCommentSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            comment = call_service(
                comment_services.task_comment_add,
                actor=request.user,
                task=task,
                body=data.validated_data["body"],
            )
            return Response(TaskCommentSerializer(comment).data, status=status.HTTP_201_CREATED)
        comments = comment_selectors.task_comments_for(user=request.user, task=task)
        page = self.paginate_queryset(comments)
        if page is not None:
            return self.get_paginated_response(TaskCommentSerializer(page, many=True).data)
        return Response(TaskCommentSerializer(comments, many=True).data)


class TaskCommentViewSet(
    FieldsMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """One comment on a task the caller may see; its author (or an admin) may delete it. List
    and add comments under `/tasks/{id}/comments/`."""

    serializer_class = TaskCommentSerializer

    def get_queryset(self):
        return comment_selectors.task_comment_list_visible(user=self.request.user)

    def perform_destroy(self, instance):
        call_service(
            comment_services.task_comment_delete, actor=self.request.user, comment=instance
        )


routes = [
    ("tasks", TaskViewSet, "task"),
    ("task-comments", TaskCommentViewSet, "task-comment"),
]
urlpatterns: list = []
