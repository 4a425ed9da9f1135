"""Reads of chat rooms and messages, each through the room's access rule.

Who may read a room depends on its kind (collaboration.models.ChatRoom): a team room belongs to
the team's members and manager, a direct or group room to the users with a membership row, and a
record room to whoever may see the record under the visibility rule, so a discussion about a
customer follows the customer when it is reassigned or shared.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from collaboration.chat_text import mention_tokens, message_html
from collaboration.models import Attachment, ChatMembership, ChatMessage, ChatRoom
from crm.accounts.models import Team, TeamMembership, User
from crm.accounts.selectors import record_is_visible_to, records_visible_to, user_team_ids
from customers.registry import TimelineEntry

# The sidebar lists at most this many rooms, the most recently active first.
MAX_SIDEBAR_ROOMS = 200

# The records that have a discussion room.
DISCUSSION_TYPES = ("customers.customer", "sales.deal", "service.ticket")


# Access ------------------------------------------------------------------------------------------


def _is_signed_in(user: User) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def chat_room_accessible(*, user: User, room: ChatRoom) -> bool:
    if not _is_signed_in(user):
        return False
    if room.kind == ChatRoom.Kind.TEAM:
        return room.team_id in user_team_ids(user)
    if room.kind == ChatRoom.Kind.RECORD:
        record = room.related_record
        return record is not None and record_is_visible_to(user=user, record=record)
    return ChatMembership.objects.filter(room=room, user=user).exists()


def chat_room_get_for_user(*, user: User, room_id: int) -> ChatRoom:
    """The room, or ChatRoom.DoesNotExist when it is missing or `user` may not read it, so pages
    and the API answer both alike (404) and reveal nothing."""
    room = ChatRoom.objects.select_related("team", "related_type").get(pk=room_id)
    if not chat_room_accessible(user=user, room=room):
        raise ChatRoom.DoesNotExist
    return room


def chat_room_members(*, room: ChatRoom) -> QuerySet[User]:
    """The active users a room's messages are for: the team (members and manager) for a team
    room, the membership rows for the other kinds (for a record room, those who have joined the
    discussion)."""
    users = User.objects.filter(is_active=True)
    if room.kind == ChatRoom.Kind.TEAM:
        return users.filter(
            Q(team_memberships__team_id=room.team_id) | Q(managed_teams__pk=room.team_id)
        ).distinct()
    return users.filter(chat_memberships__room=room)


def _direct_other(room: ChatRoom, user: User) -> User | None:
    memberships = getattr(room, "member_rows", None)
    if memberships is None:
        memberships = list(room.memberships.select_related("user"))
    others = [row.user for row in memberships if row.user_id != user.pk]
    return others[0] if others else None


def chat_room_label(*, room: ChatRoom, user: User) -> str:
    """How `user` sees the room named: a direct room by the other person."""
    if room.kind == ChatRoom.Kind.DIRECT:
        other = _direct_other(room, user)
        return other.label if other is not None else _("Only you")
    return str(room)


def chat_room_for_record_get(*, record: Model) -> ChatRoom | None:
    return ChatRoom.objects.filter(
        kind=ChatRoom.Kind.RECORD,
        related_type=ContentType.objects.get_for_model(record),
        related_id=record.pk,
    ).first()


# The sidebar and unread counts -------------------------------------------------------------------


def _unread_in_room(*, room_ref: OuterRef, user_ref: Any, last_read_ref: Any) -> Coalesce:
    """Count of messages in the outer row's room after a read position, not the user's own."""
    messages = (
        ChatMessage.objects.filter(
            room=room_ref,
            id__gt=last_read_ref,
            deleted_at__isnull=True,
        )
        .exclude(author_id=user_ref)
        .order_by()
        .values("room")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(messages, output_field=IntegerField()), Value(0))


def _visible_record_room_ids(*, user: User, rooms: Iterable[ChatRoom]) -> set[int]:
    """The record rooms whose record `user` may see: one query per kind of record."""
    by_type: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for room in rooms:
        by_type[room.related_type_id][room.related_id].append(room.pk)
    visible: set[int] = set()
    for type_id, rooms_by_record in by_type.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        if model is None:
            continue
        records = model._default_manager.filter(pk__in=list(rooms_by_record))
        for record_id in records_visible_to(user=user, queryset=records).values_list(
            "pk", flat=True
        ):
            visible.update(rooms_by_record[record_id])
    return visible


def chat_rooms_for_user(*, user: User) -> list[ChatRoom]:
    """The rooms of the user's sidebar, most recently active first, each with `unread_count` and
    `display_name`: the team rooms of their teams, and the direct, group and record rooms they hold
    a membership in (a record room only while the record is visible to them).

    Team rooms are listed once they exist: pages call
    collaboration.services.chat.chat_rooms_ensure_for_teams first."""
    if not _is_signed_in(user):
        return []
    my_membership = ChatMembership.objects.filter(room=OuterRef("pk"), user=user)
    last_read = Coalesce(
        Subquery(my_membership.values("last_read_message_id")[:1]),
        Value(0),
        output_field=IntegerField(),
    )
    rooms = (
        ChatRoom.objects.filter(
            Q(kind=ChatRoom.Kind.TEAM, team_id__in=user_team_ids(user))
            | Q(~Q(kind=ChatRoom.Kind.TEAM), Exists(my_membership))
        )
        .annotate(my_last_read=last_read)
        .annotate(
            unread_count=_unread_in_room(
                room_ref=OuterRef("pk"), user_ref=user.pk, last_read_ref=OuterRef("my_last_read")
            )
        )
        .select_related("team")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=ChatMembership.objects.filter(room__kind=ChatRoom.Kind.DIRECT)
                .select_related("user")
                .order_by("user_id"),
                to_attr="member_rows",
            )
        )
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")[:MAX_SIDEBAR_ROOMS]
    )
    rooms = list(rooms)
    record_rooms = [room for room in rooms if room.kind == ChatRoom.Kind.RECORD]
    visible_records = _visible_record_room_ids(user=user, rooms=record_rooms)
    listed = [
        room for room in rooms if room.kind != ChatRoom.Kind.RECORD or room.pk in visible_records
    ]
    for room in listed:
        room.display_name = chat_room_label(room=room, user=user)
    return listed


def chat_unread_counts(*, room: ChatRoom, user_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """user id -> (unread in `room`, unread over all their rooms), for the pushes after a message.

    A few queries whatever the number of users. The total counts the rooms a user holds a
    membership in (their team rooms only while they are in the team); a record room whose record
    they can no longer see still counts until they open chat, where the sidebar leaves it out."""
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    in_team = Exists(
        TeamMembership.objects.filter(
            team_id=OuterRef("room__team_id"), user_id=OuterRef("user_id")
        )
    )
    rows = (
        ChatMembership.objects.filter(user_id__in=user_ids)
        .filter(
            ~Q(room__kind=ChatRoom.Kind.TEAM) | in_team | Q(room__team__manager_id=F("user_id"))
        )
        .annotate(
            unread=_unread_in_room(
                room_ref=OuterRef("room_id"),
                user_ref=OuterRef("user_id"),
                last_read_ref=OuterRef("last_read_message_id"),
            )
        )
        .values_list("user_id", "room_id", "unread")
    )
    counts = {user_id: [0, 0] for user_id in user_ids}
    with_position: set[int] = set()
    for user_id, room_id, unread in rows:
        counts[user_id][1] += unread
        if room_id == room.pk:
            counts[user_id][0] = unread
            with_position.add(user_id)
    without_position = [user_id for user_id in user_ids if user_id not in with_position]
    if room.kind == ChatRoom.Kind.TEAM and without_position:
        # A team member who never opened chat has no read position there: everything is new.
        for user_id, unread in _unread_without_position(
            room=room, user_ids=without_position
        ).items():
            counts[user_id][0] = unread
            counts[user_id][1] += unread
    return {user_id: (pair[0], pair[1]) for user_id, pair in counts.items()}


def _unread_without_position(*, room: ChatRoom, user_ids: list[int]) -> dict[int, int]:
    messages = ChatMessage.objects.filter(room=room, deleted_at__isnull=True)
    everything = messages.count()
    own = dict(
        messages.filter(author_id__in=user_ids)
        .order_by()
        .values("author_id")
        .annotate(count=Count("pk"))
        .values_list("author_id", "count")
    )
    return {user_id: everything - own.get(user_id, 0) for user_id in user_ids}


def chat_unread_total(*, user: User) -> int:
    """Unread messages over all the user's rooms (counted as chat_unread_counts does)."""
    if not _is_signed_in(user):
        return 0
    in_team = Exists(
        TeamMembership.objects.filter(team_id=OuterRef("room__team_id"), user_id=user.pk)
    )
    rows = (
        ChatMembership.objects.filter(user=user)
        .filter(~Q(room__kind=ChatRoom.Kind.TEAM) | in_team | Q(room__team__manager=user))
        .annotate(
            unread=_unread_in_room(
                room_ref=OuterRef("room_id"),
                user_ref=user.pk,
                last_read_ref=OuterRef("last_read_message_id"),
            )
        )
        .values_list("unread", flat=True)
    )
    return sum(rows)


def chat_room_unread(*, user: User, room: ChatRoom) -> int:
    """Messages in `room` after the user's read position, not their own and not deleted."""
    last_read = (
        ChatMembership.objects.filter(room=room, user=user)
        .values_list("last_read_message_id", flat=True)
        .first()
    ) or 0
    return (
        ChatMessage.objects.filter(room=room, id__gt=last_read, deleted_at__isnull=True)
        .exclude(author=user)
        .count()
    )


# Messages ----------------------------------------------------------------------------------------


def chat_mention_labels(*, body: str, users: Iterable[User], teams: Iterable[Team]) -> dict:
    """token -> label of the mentions in `body` that name one of `users` or `teams`."""
    tokens = mention_tokens(body)
    labels = {
        user.username.lower(): user.label for user in users if user.username.lower() in tokens
    }
    for team in teams:
        if slugify(team.name) in tokens:
            labels.setdefault(slugify(team.name), team.name)
    return labels


def chat_message_get_for_user(*, user: User, message_id: int) -> ChatMessage:
    """The message when `user` may read its room; ChatMessage.DoesNotExist otherwise, so a message
    in a room one may not read looks exactly like a missing one."""
    message = ChatMessage.objects.select_related("room", "author").get(pk=message_id)
    if not chat_room_accessible(user=user, room=message.room):
        raise ChatMessage.DoesNotExist
    return message


def chat_messages_prepare(messages: list[ChatMessage]) -> list[ChatMessage]:
    """Load what the payload shows for a page of messages: attachments and mentioned users in
    one query each, and the teams once when some message mentions a name that is not a user."""
    if not messages:
        return messages
    message_type = ContentType.objects.get_for_model(ChatMessage)
    attachments: dict[int, list[Attachment]] = defaultdict(list)
    for attachment in Attachment.objects.filter(
        related_type=message_type, related_id__in=[message.pk for message in messages]
    ).order_by("created_at", "id"):
        attachments[attachment.related_id].append(attachment)
    mentioned: dict[int, list[User]] = defaultdict(list)
    through = ChatMessage.mentioned_users.through
    for row in through.objects.filter(
        chatmessage_id__in=[message.pk for message in messages]
    ).select_related("user"):
        mentioned[row.chatmessage_id].append(row.user)
    teams: list[Team] | None = None
    for message in messages:
        message.attachment_list = attachments.get(message.pk, [])
        users = mentioned.get(message.pk, [])
        tokens = mention_tokens(message.body)
        if tokens - {user.username.lower() for user in users} and teams is None:
            teams = list(Team.objects.only("name"))
        message.mention_labels = chat_mention_labels(
            body=message.body, users=users, teams=teams or []
        )
    return messages


def _page(
    user: User, room: ChatRoom, messages: QuerySet[ChatMessage], limit: int, newest: bool
) -> tuple[list[ChatMessage], bool]:
    if not chat_room_accessible(user=user, room=room):
        raise ChatRoom.DoesNotExist
    ordered = messages.filter(room=room).select_related("author")
    ordered = ordered.order_by("-id" if newest else "id")
    page = list(ordered[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    if newest:
        page.reverse()
    return chat_messages_prepare(page), has_more


def chat_messages_before(
    *, user: User, room: ChatRoom, before_id: int | None = None, limit: int = 50
) -> tuple[list[ChatMessage], bool]:
    """A page of history older than `before_id` (the newest when None), oldest first, and
    whether there is more before it. ChatRoom.DoesNotExist when `user` may not read the room."""
    messages = ChatMessage.objects.all()
    if before_id is not None:
        messages = messages.filter(id__lt=before_id)
    return _page(user, room, messages, limit, newest=True)


def chat_messages_after(
    *, user: User, room: ChatRoom, after_id: int, limit: int = 200
) -> tuple[list[ChatMessage], bool]:
    """The messages after `after_id`, oldest first (what a reconnecting tab missed), and whether
    there are more than `limit` of them."""
    return _page(user, room, ChatMessage.objects.filter(id__gt=after_id), limit, newest=False)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def chat_message_payload(message: ChatMessage) -> dict[str, Any]:
    """The JSON shape of a message on the socket and in the API."""
    deleted = message.deleted_at is not None
    author = message.author
    attachments = [] if deleted else getattr(message, "attachment_list", [])
    return {
        "id": message.pk,
        "room": message.room_id,
        "author": {"id": author.pk, "name": author.label} if author is not None else None,
        "body": "" if deleted else message.body,
        "html": ""
        if deleted
        else message_html(message.body, mentions=getattr(message, "mention_labels", {})),
        "created_at": _iso(message.created_at),
        "edited_at": _iso(message.edited_at),
        "deleted": deleted,
        "attachments": [
            {
                "id": attachment.pk,
                "name": attachment.name,
                "size": attachment.size,
                "url": reverse("collaboration:attachment_download", args=[attachment.pk]),
            }
            for attachment in attachments
        ],
        "client_id": message.client_id,
    }


# The customer timeline ---------------------------------------------------------------------------


def chat_timeline_entries(
    customer: Model, user: User, before: datetime | None, limit: int
) -> list[TimelineEntry]:
    """The customer's discussion on the customer 360 timeline, newest first. The timeline only
    asks about a customer the user may see, and the room follows that customer's visibility."""
    messages = ChatMessage.objects.filter(
        room__kind=ChatRoom.Kind.RECORD,
        room__related_type=ContentType.objects.get_for_model(customer),
        room__related_id=customer.pk,
        deleted_at__isnull=True,
    )
    if before is not None:
        messages = messages.filter(created_at__lt=before)
    return [
        TimelineEntry(
            at=message.created_at,
            kind="chat",
            title=_("Message from %(author)s")
            % {"author": message.author.label if message.author else _("a former user")},
            body=message.body,
            url=reverse("collaboration:chat_room", args=[message.room_id])
            + f"#message-{message.pk}",
            actor=message.author.label if message.author else "",
            sort_key=f"{message.pk:012d}",
        )
        for message in messages.select_related("author").order_by("-created_at", "-id")[:limit]
    ]
