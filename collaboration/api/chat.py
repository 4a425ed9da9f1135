"""/api/v1/chat/: the caller's rooms, their messages, and the HTTP path for sending.

The browser sends over the WebSocket (collaboration.consumers); this API is the fallback while
the socket is down and the way for other clients. Both call collaboration.services.chat, so a
message is checked, stored and pushed alike; a room the caller may not read is a 404, the same
as a missing one. Messages come as the socket's MESSAGE payload (chat_message_payload).

Message history pages by message id rather than by page number, so a page does not shift while
new messages arrive: `?before=<id>` for older messages, `?after=<id>` for newer ones, each page
newest first with a `next` link that continues in the same direction.
"""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from collaboration.api.tasks import ChangeOnPostPermissions
from collaboration.models import ChatMessage, ChatRoom
from collaboration.selectors import chat as selectors
from collaboration.selectors.files import record_from_label
from collaboration.selectors.tasks import content_type_label
from collaboration.services import chat as services
from crm.accounts.selectors import user_list_active
from crm.api.calls import call_service
from crm.api.fields import FieldsMixin
from crm.api.permissions import ModelPermissions
from crm.api.serializers import StrictSerializer

# The kinds of record that have a discussion room, as "app_label.model".
MESSAGES_PAGE_SIZE = 50
MESSAGES_MAX_PAGE_SIZE = 200


class TooLong(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("The message is too long.")
    default_code = "too_long"


class RateLimited(exceptions.Throttled):
    default_detail = _("You are sending messages too fast. Wait a few seconds and try again.")
    default_code = "rate_limited"

    def __init__(self):
        super().__init__(wait=services.SEND_RATE_WINDOW_SECONDS, code=self.default_code)


def call_chat_service(function, /, **kwargs):
    """call_service, with the two refusals a chat client handles on its own given their own codes:
    a message over the length limit (400 too_long) and sending too fast (429 rate_limited, with
    Retry-After)."""

    def run():
        try:
            return function(**kwargs)
        except DjangoValidationError as exc:
            if getattr(exc, "code", None) == "too_long":
                raise TooLong(exc.messages[0]) from exc
            raise
        except services.ChatRateLimited as exc:
            raise RateLimited from exc

    return call_service(run)


# Serializers -------------------------------------------------------------------------------------


class ChatAuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ChatAttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    size = serializers.IntegerField(help_text=_("In bytes."))
    url = serializers.CharField(help_text=_("The download address (signed-in session)."))


class ChatMessageSerializer(serializers.Serializer):
    """A message exactly as the WebSocket pushes it."""

    id = serializers.IntegerField()
    room = serializers.IntegerField()
    author = ChatAuthorSerializer(allow_null=True, help_text=_("Null for a deleted user."))
    body = serializers.CharField(help_text=_("The text as written; empty once deleted."))
    html = serializers.CharField(
        help_text=_("The text escaped, with links and @mentions marked up: safe to show as HTML.")
    )
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    deleted = serializers.BooleanField()
    attachments = ChatAttachmentSerializer(many=True)
    client_id = serializers.CharField(help_text=_("The sender's own id for the message."))

    def to_representation(self, instance: ChatMessage) -> dict:
        return selectors.chat_message_payload(instance)


class ChatMessagePageSerializer(serializers.Serializer):
    results = ChatMessageSerializer(many=True, help_text=_("Newest first."))
    next = serializers.URLField(
        allow_null=True, help_text=_("The following page in the same direction, if any.")
    )


class ChatMessageCreateSerializer(serializers.Serializer):
    body = serializers.CharField(
        trim_whitespace=True,
        help_text=_("The text, at most %(limit)d characters.")
        % {"limit": services.MAX_MESSAGE_LENGTH},
    )
    client_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text=_(
            "The client's own id for the message (a UUID). Sending the same id again returns the "
            "stored message (200) instead of storing it twice."
        ),
    )


class ChatMessageEditSerializer(StrictSerializer):
    body = serializers.CharField(trim_whitespace=True)


class ChatMessageCursorSerializer(serializers.Serializer):
    before = serializers.IntegerField(required=False, min_value=1)
    after = serializers.IntegerField(required=False, min_value=0)
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MESSAGES_MAX_PAGE_SIZE,
        default=MESSAGES_PAGE_SIZE,
    )

    def validate(self, attrs):
        if "before" in attrs and "after" in attrs:
            raise serializers.ValidationError(_("Give either before or after, not both."))
        return attrs


class ChatRoomSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(
        help_text=_("How the caller sees the room named: a direct room by the other person.")
    )
    unread_count = serializers.SerializerMethodField()
    related_type = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text=_("The room's page."))

    class Meta:
        model = ChatRoom
        fields = [
            "id",
            "kind",
            "name",
            "team",
            "related_type",
            "related_id",
            "last_message_at",
            "unread_count",
            "url",
        ]
        read_only_fields = fields

    def get_name(self, room: ChatRoom) -> str:
        return room.display_name

    def get_unread_count(self, room: ChatRoom) -> int:
        return room.unread_count

    @extend_schema_field({"type": "string", "nullable": True, "example": "customers.customer"})
    def get_related_type(self, room: ChatRoom) -> str | None:
        if room.related_type_id is None:
            return None
        return content_type_label(room.related_type)

    def get_url(self, room: ChatRoom) -> str:
        return reverse("collaboration:chat_room", args=[room.pk])


class ChatGroupCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=120)
    members = serializers.PrimaryKeyRelatedField(
        queryset=user_list_active(),
        many=True,
        required=False,
        help_text=_("Active users to add; the caller is always a member."),
    )


class ChatMembersAddSerializer(serializers.Serializer):
    users = serializers.PrimaryKeyRelatedField(queryset=user_list_active(), many=True)


class ChatDirectSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(
        queryset=user_list_active(), help_text=_("The other person.")
    )


class ChatForRecordSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=selectors.DISCUSSION_TYPES)
    id = serializers.IntegerField(min_value=1)


class ChatMarkReadSerializer(serializers.Serializer):
    message = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("Read up to this message; left out, up to the latest."),
    )


class ChatUnreadSerializer(serializers.Serializer):
    room = serializers.IntegerField()
    unread = serializers.IntegerField()


# Rooms -------------------------------------------------------------------------------------------


def _room_for_api(*, user, room: ChatRoom) -> ChatRoom:
    """The room with the caller's unread count and label, as the room list gives them."""
    room.unread_count = selectors.chat_room_unread(user=user, room=room)
    room.display_name = selectors.chat_room_label(room=room, user=user)
    return room


class ChatRoomViewSet(FieldsMixin, viewsets.GenericViewSet):
    """The caller's chat rooms: their teams' rooms, direct messages, private groups and the record
    discussions they joined, most recently active first, each with its unread count."""

    # For the permission check and the schema; the rows come from the chat selectors.
    queryset = ChatRoom.objects.none()
    serializer_class = ChatRoomSerializer
    filter_backends: list = []

    def get_object(self) -> ChatRoom:
        try:
            room = selectors.chat_room_get_for_user(
                user=self.request.user, room_id=int(self.kwargs["pk"])
            )
        except (ChatRoom.DoesNotExist, ValueError) as exc:
            raise exceptions.NotFound() from exc
        self.check_object_permissions(self.request, room)
        return room

    def _room_response(self, room: ChatRoom, status_code: int = status.HTTP_200_OK) -> Response:
        room = _room_for_api(user=self.request.user, room=room)
        return Response(self.get_serializer(room).data, status=status_code)

    @extend_schema(responses=ChatRoomSerializer(many=True))
    def list(self, request):
        services.chat_rooms_ensure_for_teams(user=request.user)
        rooms = selectors.chat_rooms_for_user(user=request.user)
        page = self.paginate_queryset(rooms)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses=ChatRoomSerializer)
    def retrieve(self, request, pk=None):
        return self._room_response(self.get_object())

    @extend_schema(request=ChatGroupCreateSerializer, responses={201: ChatRoomSerializer})
    def create(self, request):
        """Create a private group with the caller and `members` in it."""
        data = ChatGroupCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        room = call_service(
            services.chat_room_group_create,
            creator=request.user,
            name=data.validated_data["name"],
            members=data.validated_data.get("members", []),
        )
        return self._room_response(room, status.HTTP_201_CREATED)

    @extend_schema(request=ChatMarkReadSerializer, responses=ChatUnreadSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def read(self, request, pk=None):
        """Move the caller's read position forward (it never moves back); answers the room's
        unread count afterwards."""
        room = self.get_object()
        data = ChatMarkReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        unread = call_service(
            services.chat_room_mark_read,
            user=request.user,
            room=room,
            message_id=data.validated_data.get("message"),
        )
        return Response(ChatUnreadSerializer({"room": room.pk, "unread": unread}).data)

    @extend_schema(request=ChatMembersAddSerializer, responses=ChatRoomSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def members(self, request, pk=None):
        """Add people to a private group the caller is in."""
        room = self.get_object()
        data = ChatMembersAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        call_service(
            services.chat_room_members_add,
            actor=request.user,
            room=room,
            users=data.validated_data["users"],
        )
        return self._room_response(room)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPostPermissions])
    def leave(self, request, pk=None):
        """Leave a private group."""
        call_service(services.chat_room_leave, user=request.user, room=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ChatDirectSerializer, responses=ChatRoomSerializer)
    @action(detail=False, methods=["post"])
    def direct(self, request):
        """The caller's direct room with `user`, created on first use."""
        data = ChatDirectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        room = call_service(
            services.chat_room_direct, user=request.user, other=data.validated_data["user"]
        )
        return self._room_response(room)

    @extend_schema(request=ChatForRecordSerializer, responses=ChatRoomSerializer)
    @action(detail=False, methods=["post"], url_path="for-record")
    def for_record(self, request):
        """The discussion room of a customer, deal or ticket, created on first use; a record the
        caller may not see is a 404, as a missing one is."""
        data = ChatForRecordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            record = record_from_label(
                type_label=data.validated_data["type"],
                record_id=data.validated_data["id"],
                allowed=selectors.DISCUSSION_TYPES,
            )
            room = services.chat_room_for_record(user=request.user, record=record)
        except (ObjectDoesNotExist, PermissionDenied) as exc:
            raise exceptions.NotFound() from exc
        return self._room_response(room)


# Messages ----------------------------------------------------------------------------------------


class ChatRoomMessagesView(FieldsMixin, generics.GenericAPIView):
    """A room's messages: history by id cursor, and sending over HTTP."""

    queryset = ChatMessage.objects.none()
    serializer_class = ChatMessageSerializer
    filter_backends: list = []
    pagination_class = None

    def _room(self) -> ChatRoom:
        try:
            return selectors.chat_room_get_for_user(
                user=self.request.user, room_id=self.kwargs["room_id"]
            )
        except ChatRoom.DoesNotExist as exc:
            raise exceptions.NotFound() from exc

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "before", OpenApiTypes.INT, description=str(_("Messages older than this id."))
            ),
            OpenApiParameter(
                "after", OpenApiTypes.INT, description=str(_("Messages newer than this id."))
            ),
            OpenApiParameter(
                "limit",
                OpenApiTypes.INT,
                description=str(_("Page size: 50 unless given, at most 200.")),
            ),
        ],
        responses=ChatMessagePageSerializer,
    )
    def get(self, request, room_id: int):
        """A page of the room's messages, newest first: the latest without a cursor, older ones
        with `before`, newer ones with `after` (what a client missed). `next` continues in the
        same direction."""
        room = self._room()
        cursor = ChatMessageCursorSerializer(data=request.query_params)
        cursor.is_valid(raise_exception=True)
        limit = cursor.validated_data["limit"]
        url = remove_query_param(
            remove_query_param(request.build_absolute_uri(), "before"), "after"
        )
        if "after" in cursor.validated_data:
            page, has_more = selectors.chat_messages_after(
                user=request.user, room=room, after_id=cursor.validated_data["after"], limit=limit
            )
            next_url = replace_query_param(url, "after", page[-1].pk) if has_more else None
        else:
            page, has_more = selectors.chat_messages_before(
                user=request.user,
                room=room,
                before_id=cursor.validated_data.get("before"),
                limit=limit,
            )
            next_url = replace_query_param(url, "before", page[0].pk) if has_more else None
        return Response(
            {
                "results": ChatMessageSerializer(list(reversed(page)), many=True).data,
                "next": next_url,
            }
        )

    @extend_schema(
        request=ChatMessageCreateSerializer,
        responses={201: ChatMessageSerializer, 200: ChatMessageSerializer},
    )
    def post(self, request, room_id: int):
        """Send a message (the fallback while the WebSocket is down). 201 with the message; 200
        with the stored one when its `client_id` was sent before; 400 `too_long`; 429
        `rate_limited` with Retry-After."""
        room = self._room()
        data = ChatMessageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        started = timezone.now()
        message = call_chat_service(
            services.chat_message_post,
            author=request.user,
            room=room,
            body=data.validated_data["body"],
            client_id=data.validated_data.get("client_id", ""),
        )
        # A retried client_id returns the message stored by the first try, made before this call.
        stored_before = message.created_at < started
        return Response(
            ChatMessageSerializer(message).data,
            status=status.HTTP_200_OK if stored_before else status.HTTP_201_CREATED,
        )


class ChatMessagePermissions(ModelPermissions):
    # Deleting a message clears it and keeps the row: a change, which every role may make.
    perms_map = {**ModelPermissions.perms_map, "DELETE": ["%(app_label)s.change_%(model_name)s"]}


class ChatMessageViewSet(FieldsMixin, viewsets.GenericViewSet):
    """One message: read it, or (its author only) edit or delete it. A message in a room the
    caller may not read is a 404; someone else's message in a room they read is a 403."""

    queryset = ChatMessage.objects.none()
    serializer_class = ChatMessageSerializer
    permission_classes = [ChatMessagePermissions]
    filter_backends: list = []

    def get_object(self) -> ChatMessage:
        try:
            message = selectors.chat_message_get_for_user(
                user=self.request.user, message_id=int(self.kwargs["pk"])
            )
        except (ChatMessage.DoesNotExist, ValueError) as exc:
            raise exceptions.NotFound() from exc
        self.check_object_permissions(self.request, message)
        return message

    @extend_schema(responses=ChatMessageSerializer)
    def retrieve(self, request, pk=None):
        message = self.get_object()
        selectors.chat_messages_prepare([message])
        return Response(self.get_serializer(message).data)

    @extend_schema(request=ChatMessageEditSerializer, responses=ChatMessageSerializer)
    def partial_update(self, request, pk=None):
        """Change the text of one's own message; it is marked edited."""
        message = self.get_object()
        data = ChatMessageEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = call_chat_service(
            services.chat_message_edit,
            actor=request.user,
            message=message,
            body=data.validated_data["body"],
        )
        return Response(self.get_serializer(message).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Delete one's own message: its text is cleared and it shows as deleted."""
        call_service(services.chat_message_delete, actor=request.user, message=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


routes = [
    ("chat/rooms", ChatRoomViewSet, "chat-room"),
    ("chat/messages", ChatMessageViewSet, "chat-message"),
]
urlpatterns = [
    path(
        "chat/rooms/<int:room_id>/messages/",
        ChatRoomMessagesView.as_view(),
        name="chat-room-messages",
    ),
]
