"""/api/v1/ for the caller's notifications, their unread count and the caller's notification
preferences. A notification is its recipient's alone; those a user wanted by email only are not
listed (they wait for the digest)."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from collaboration.api.tasks import ChangeOnPostPermissions
from collaboration.models import Notification
from collaboration.selectors import notifications as selectors
from collaboration.selectors.tasks import content_type_label
from collaboration.services.notifications import (
    notification_preferences_save,
    notifications_mark_read,
)
from crm.api.calls import call_service
from crm.api.fields import FieldsMixin


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
        return content_type_label(notification.related_type)


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


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField(help_text=_("Unread notifications shown in the app."))


class PreferenceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=Notification.Kind.choices,
        error_messages={"invalid_choice": _("“{input}” is not a kind of notification.")},
    )
    label = serializers.CharField(read_only=True)
    in_app = serializers.BooleanField(help_text=_("Shown in the app (the bell and the list)."))
    email_digest = serializers.BooleanField(help_text=_("Included in the daily email digest."))


class PreferencesPermissions(permissions.BasePermission):
    """Reading one's preferences needs view_notificationpreference, changing them
    change_notificationpreference (the notifications' own permissions do not apply)."""

    def has_permission(self, request, view) -> bool:
        action = "view" if request.method in permissions.SAFE_METHODS else "change"
        return bool(
            request.user
            and request.user.is_authenticated
            and request.user.has_perm(f"collaboration.{action}_notificationpreference")
        )


def _preferences_data(user) -> list[dict]:
    return PreferenceSerializer(
        [
            {"kind": kind, "label": label, "in_app": in_app, "email_digest": email_digest}
            for kind, label, in_app, email_digest in selectors.notification_preferences_for(
                user=user
            )
        ],
        many=True,
    ).data


class NotificationViewSet(
    FieldsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The caller's own notifications, newest first; nobody sees anyone else's."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return selectors.notification_list_for(user=self.request.user)

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

    @extend_schema(responses=UnreadCountSerializer)
    @action(detail=False, methods=["get"], url_path="unread-count", pagination_class=None)
    def unread_count(self, request):
        """How many of the caller's notifications shown in the app are unread (the bell's
        badge)."""
        count = selectors.notification_unread_count(user=request.user)
        return Response(UnreadCountSerializer({"unread": count}).data)

    @extend_schema(
        methods=["GET"],
        request=None,
        responses=PreferenceSerializer(many=True),
        description="How the caller wants each kind of notification, every kind listed.",
    )
    @extend_schema(
        methods=["PUT"],
        request=PreferenceSerializer(many=True),
        responses=PreferenceSerializer(many=True),
        description=(
            "Set how the caller wants the kinds listed; kinds left out keep their setting. "
            "An unknown kind refuses the whole change (400). Answers with every kind."
        ),
    )
    @action(
        detail=False,
        methods=["get", "put"],
        url_path="preferences",
        permission_classes=[PreferencesPermissions],
        pagination_class=None,
        filter_backends=[],
    )
    def preferences(self, request):
        if request.method == "PUT":
            data = PreferenceSerializer(data=request.data, many=True)
            data.is_valid(raise_exception=True)
            values = {
                row["kind"]: {"in_app": row["in_app"], "email_digest": row["email_digest"]}
                for row in data.validated_data
            }
            call_service(notification_preferences_save, user=request.user, values=values)
        return Response(_preferences_data(request.user))


routes = [
    ("notifications", NotificationViewSet, "notification"),
]
urlpatterns: list = []
