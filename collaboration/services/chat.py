"""Chat: opening rooms, posting, editing and deleting messages, read positions and typing.

The WebSocket consumer, the chat pages and the API all call these functions, so a message is
checked, stored and pushed the same way whichever way it was sent. Pushes go out after the
transaction commits (collaboration.live): the room's group hears the message itself, each
member's own group only that the room has news and how many unread messages they have, because
a user's group is joined without a room access check.
"""

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Model, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from collaboration.chat_text import mention_tokens
from collaboration.live import (
    live_send,
    live_send_many,
    live_send_on_commit,
    room_group,
    room_members_group,
    team_presence_group,
    user_group,
)
from collaboration.models import ChatMembership, ChatMessage, ChatRoom, Notification
from collaboration.selectors.chat import (
    chat_mention_labels,
    chat_message_payload,
    chat_messages_prepare,
    chat_room_accessible,
    chat_room_members,
    chat_room_unread,
    chat_unread_total,
)
from collaboration.services.notifications import notification_send
from crm.accounts.models import Team, User
from crm.accounts.selectors import record_is_visible_to, user_team_ids
from crm.ratelimit import rate_limit_reached

MAX_MESSAGE_LENGTH = 4000
# Messages one user may send per window, across all their tabs and rooms.
SEND_RATE_LIMIT = 20
SEND_RATE_WINDOW_SECONDS = 10
# A message to a huge room tells at most this many members' other tabs about it.
MAX_ACTIVITY_RECIPIENTS = 1000
MAX_GROUP_NAME_LENGTH = 120


class ChatRateLimited(Exception):
    """The author sent more than SEND_RATE_LIMIT messages in the window."""


# Rooms -------------------------------------------------------------------------------------------


def _latest_message_id(room: ChatRoom) -> int:
    return room.messages.aggregate(latest=Max("id"))["latest"] or 0


def _membership_ensure(*, room: ChatRoom, user: User, read_to_latest: bool = False) -> None:
    """Give `user` a row in `room` (the read position; for direct and group rooms the membership
    itself). A new row in a room with history starts read when `read_to_latest`, so joining a
    team does not arrive with its whole past unread."""
    if ChatMembership.objects.filter(room=room, user=user).exists():
        return
    position = _latest_message_id(room) if read_to_latest else 0
    with transaction.atomic():
        ChatMembership.objects.bulk_create(
            [ChatMembership(room=room, user=user, last_read_message_id=position)],
            ignore_conflicts=True,
        )
        _announce_membership(room=room, user_ids=[user.pk], joined=True)


def chat_room_for_team(*, team: Team) -> ChatRoom:
    room = ChatRoom.objects.filter(kind=ChatRoom.Kind.TEAM, team=team).first()
    if room is not None:
        return room
    try:
        with transaction.atomic():
            return ChatRoom.objects.create(kind=ChatRoom.Kind.TEAM, team=team, name=team.name)
    except IntegrityError:
        # Another request created it first (team is one-to-one).
        return ChatRoom.objects.get(kind=ChatRoom.Kind.TEAM, team=team)


def chat_rooms_ensure_for_teams(*, user: User) -> None:
    """Make sure every team the user belongs to or manages has its room and the user a read
    position in it; pages call this before listing the sidebar."""
    if not user.is_authenticated:
        return
    team_ids = user_team_ids(user)
    if not team_ids:
        return
    have_room = set(
        ChatRoom.objects.filter(kind=ChatRoom.Kind.TEAM, team_id__in=team_ids).values_list(
            "team_id", flat=True
        )
    )
    for team in Team.objects.filter(pk__in=team_ids - have_room):
        chat_room_for_team(team=team)
    missing = ChatRoom.objects.filter(kind=ChatRoom.Kind.TEAM, team_id__in=team_ids).exclude(
        memberships__user=user
    )
    for room in missing:
        _membership_ensure(room=room, user=user, read_to_latest=True)


def _refuse_inactive(users: Iterable[User]) -> None:
    if any(not user.is_active for user in users):
        raise ValidationError(_("Inactive users cannot take part in a chat."), code="invalid")


def chat_room_direct(*, user: User, other: User) -> ChatRoom:
    """The one direct room of two users, created on first use."""
    if user.pk == other.pk:
        raise ValidationError(_("You cannot start a conversation with yourself."), code="invalid")
    _refuse_inactive([user, other])
    low, high = sorted([user.pk, other.pk])
    key = f"{low}:{high}"
    room = ChatRoom.objects.filter(kind=ChatRoom.Kind.DIRECT, direct_key=key).first()
    if room is None:
        try:
            with transaction.atomic():
                room = ChatRoom.objects.create(
                    kind=ChatRoom.Kind.DIRECT, direct_key=key, created_by=user
                )
        except IntegrityError:
            # Both opened the conversation at once: the unique direct_key kept one room.
            room = ChatRoom.objects.get(kind=ChatRoom.Kind.DIRECT, direct_key=key)
    for member in (user, other):
        _membership_ensure(room=room, user=member)
    return room


def chat_room_group_create(*, creator: User, name: str, members: Iterable[User]) -> ChatRoom:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the group a name.")}, code="invalid")
    if len(name) > MAX_GROUP_NAME_LENGTH:
        raise ValidationError({"name": _("The name is too long.")}, code="too_long")
    users = {user.pk: user for user in [creator, *members]}
    _refuse_inactive(users.values())
    with transaction.atomic():
        room = ChatRoom.objects.create(kind=ChatRoom.Kind.GROUP, name=name, created_by=creator)
        ChatMembership.objects.bulk_create(
            [ChatMembership(room=room, user=user) for user in users.values()]
        )
        _announce_membership(room=room, user_ids=users, joined=True)
    return room


def _require_group_member(*, user: User, room: ChatRoom) -> None:
    if room.kind != ChatRoom.Kind.GROUP:
        raise ValidationError(_("Only private groups have members to change."), code="invalid")
    if not ChatMembership.objects.filter(room=room, user=user).exists():
        raise PermissionDenied


def chat_room_members_add(*, actor: User, room: ChatRoom, users: Iterable[User]) -> None:
    _require_group_member(user=actor, room=room)
    users = list(users)
    _refuse_inactive(users)
    position = _latest_message_id(room)
    # Newcomers start at the current message: the past is there to read, not to count as unread.
    ChatMembership.objects.bulk_create(
        [ChatMembership(room=room, user=user, last_read_message_id=position) for user in users],
        ignore_conflicts=True,
    )
    _announce_membership(room=room, user_ids=[user.pk for user in users], joined=True)


def chat_room_leave(*, user: User, room: ChatRoom) -> None:
    _require_group_member(user=user, room=room)
    ChatMembership.objects.filter(room=room, user=user).delete()
    _announce_membership(room=room, user_ids=[user.pk], joined=False)


def chat_room_for_record(*, user: User, record: Model) -> ChatRoom:
    """The discussion room of a record (a customer, deal or ticket), created on first use, with
    `user` given a membership row so that it shows in their sidebar."""
    if not record_is_visible_to(user=user, record=record):
        raise PermissionDenied
    related_type = ContentType.objects.get_for_model(record)
    lookup = {"kind": ChatRoom.Kind.RECORD, "related_type": related_type, "related_id": record.pk}
    room = ChatRoom.objects.filter(**lookup).first()
    if room is None:
        try:
            with transaction.atomic():
                room = ChatRoom.objects.create(**lookup, name=str(record)[:120], created_by=user)
        except IntegrityError:
            room = ChatRoom.objects.get(**lookup)
    _membership_ensure(room=room, user=user)
    return room


# Messages ----------------------------------------------------------------------------------------


def _mentioned(body: str) -> tuple[list[User], list[Team]]:
    """The users named by @username (any case) and the teams named by @slug of their name."""
    tokens = mention_tokens(body)
    if not tokens:
        return [], []
    by_name = Q()
    for token in tokens:
        by_name |= Q(username__iexact=token)
    users = list(User.objects.filter(by_name, is_active=True))
    teams = [team for team in Team.objects.all() if slugify(team.name) in tokens]
    if teams:
        named = {user.pk for user in users}
        for member in User.objects.filter(
            Q(team_memberships__team__in=teams) | Q(managed_teams__in=teams), is_active=True
        ).distinct():
            if member.pk not in named:
                users.append(member)
                named.add(member.pk)
    return users, teams


def _readers(room: ChatRoom, users: list[User]) -> list[User]:
    """Those of `users` who may read `room`."""
    if room.kind == ChatRoom.Kind.RECORD:
        return [user for user in users if chat_room_accessible(user=user, room=room)]
    member_ids = set(
        chat_room_members(room=room)
        .filter(pk__in=[user.pk for user in users])
        .values_list("pk", flat=True)
    )
    return [user for user in users if user.pk in member_ids]


def _validate_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("Write a message first."), code="invalid")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise ValidationError(
            _("A message can be at most %(limit)d characters long.")
            % {"limit": MAX_MESSAGE_LENGTH},
            code="too_long",
        )
    return body


def _push_message(message: ChatMessage, kind: str) -> None:
    def push() -> None:
        # Built after the commit, so files attached in the same transaction are in it.
        chat_messages_prepare([message])
        live_send(
            group=room_group(message.room_id),
            payload={"type": kind, "message": chat_message_payload(message)},
        )

    transaction.on_commit(push)


def _push_room_activity(*, room: ChatRoom, message: ChatMessage, author: User) -> None:
    # One send to the members' group, not one per member: a 500-member room costs one round trip.
    # Each socket drops it for a room it is subscribed to (it has the message itself) and for its
    # own user's messages; the browser counts the rest as unread.
    live_send_on_commit(
        group=room_members_group(room.pk),
        payload={
            "type": "room.activity",
            "room": room.pk,
            "message_id": message.pk,
            "author": author.pk,
        },
    )


def _announce_membership(*, room: ChatRoom, user_ids: Iterable[int], joined: bool) -> None:
    """Tell the user's open sockets to start (or stop) hearing the room's activity."""
    payload = {"type": "room.joined" if joined else "room.left", "room": room.pk}
    pushes = [(user_group(user_id), payload) for user_id in user_ids]
    transaction.on_commit(lambda: live_send_many(pushes))


def _notify_mentions(*, room: ChatRoom, message: ChatMessage, author: User, users: list[User]):
    url = reverse("collaboration:chat_room", args=[room.pk])
    for user in _readers(room, [user for user in users if user.pk != author.pk]):
        notification_send(
            recipient=user,
            kind=Notification.Kind.MENTION,
            title=_("%(author)s mentioned you in %(room)s")
            % {"author": author.label, "room": room.name or _("a conversation")},
            body=message.body[:300],
            url=f"{url}#message-{message.pk}",
            related=room,
        )


def chat_message_post(
    *, author: User, room: ChatRoom, body: str, client_id: str = ""
) -> ChatMessage:
    """Store a message and push it to the room.

    Sending the same `client_id` again (a retry after a dropped connection) returns the stored
    message without storing or pushing it twice. Mentioned users who may read the room are
    notified."""
    if not chat_room_accessible(user=author, room=room):
        raise PermissionDenied
    body = _validate_body(body)
    client_id = (client_id or "")[:64]
    if client_id:
        stored = _stored_by_client_id(author=author, client_id=client_id)
        if stored is not None:
            return stored
    if rate_limit_reached(
        key=f"chat-send:{author.pk}", limit=SEND_RATE_LIMIT, window_seconds=SEND_RATE_WINDOW_SECONDS
    ):
        raise ChatRateLimited
    users, teams = _mentioned(body)
    try:
        with transaction.atomic():
            message = ChatMessage.objects.create(
                room=room, author=author, body=body, client_id=client_id
            )
    except IntegrityError:
        stored = _stored_by_client_id(author=author, client_id=client_id)
        if stored is None:
            raise
        return stored
    with transaction.atomic():
        if users:
            message.mentioned_users.set(users)
        ChatRoom.objects.filter(pk=room.pk).update(last_message_at=message.created_at)
        room.last_message_at = message.created_at
        if room.kind == ChatRoom.Kind.RECORD:
            _membership_ensure(room=room, user=author)
        # The author has read their own message.
        ChatMembership.objects.filter(room=room, user=author).update(
            last_read_message_id=message.pk
        )
        message.attachment_list = []
        message.mention_labels = chat_mention_labels(body=body, users=users, teams=teams)
        _notify_mentions(room=room, message=message, author=author, users=users)
        _push_message(message, "message.new")
        _push_room_activity(room=room, message=message, author=author)
    return message


def _stored_by_client_id(*, author: User, client_id: str) -> ChatMessage | None:
    stored = ChatMessage.objects.filter(author=author, client_id=client_id).select_related("author")
    return next(iter(chat_messages_prepare(list(stored))), None)


def _require_author(*, actor: User, message: ChatMessage) -> None:
    if message.author_id != actor.pk or not chat_room_accessible(user=actor, room=message.room):
        raise PermissionDenied
    if message.deleted_at is not None:
        raise ValidationError(_("This message was deleted."), code="invalid")


def chat_message_edit(*, actor: User, message: ChatMessage, body: str) -> ChatMessage:
    _require_author(actor=actor, message=message)
    message.body = _validate_body(body)
    message.edited_at = timezone.now()
    users, _teams = _mentioned(message.body)
    with transaction.atomic():
        message.save(update_fields=["body", "edited_at"])
        message.mentioned_users.set(users)
        chat_messages_prepare([message])
        _push_message(message, "message.updated")
    return message


def chat_message_delete(*, actor: User, message: ChatMessage) -> ChatMessage:
    """Delete softly: the row stays (so read positions and threads hold) with its text cleared."""
    _require_author(actor=actor, message=message)
    message.body = ""
    message.deleted_at = timezone.now()
    with transaction.atomic():
        message.save(update_fields=["body", "deleted_at"])
        message.mentioned_users.clear()
        _push_message(message, "message.updated")
    return message


# Reading and typing ------------------------------------------------------------------------------


def chat_room_mark_read(*, user: User, room: ChatRoom, message_id: int | None = None) -> int:
    """Move the user's read position in `room` up to `message_id` (the latest when None); it
    never moves back. Returns the room's unread count afterwards and pushes it (with the total)
    to the user's other tabs."""
    if not chat_room_accessible(user=user, room=room):
        raise PermissionDenied
    latest = _latest_message_id(room)
    target = latest if message_id is None else min(int(message_id), latest)
    _membership_ensure(room=room, user=user)
    ChatMembership.objects.filter(room=room, user=user, last_read_message_id__lt=target).update(
        last_read_message_id=target
    )
    unread = chat_room_unread(user=user, room=room)
    live_send_on_commit(
        group=user_group(user.pk),
        payload={
            "type": "unread",
            "room": room.pk,
            "count": unread,
            "total": chat_unread_total(user=user),
        },
    )
    return unread


def chat_typing(*, user: User, room: ChatRoom) -> None:
    """Tell the room `user` is typing; nothing is stored."""
    if not chat_room_accessible(user=user, room=room):
        raise PermissionDenied
    live_send_on_commit(
        group=room_group(room.pk),
        payload={
            "type": "typing",
            "room": room.pk,
            "user": {"id": user.pk, "name": user.label},
        },
    )


def chat_presence_announce(*, user: User, status: str) -> None:
    """Tell the user's teams that they are "online", "away" or "offline"."""
    for team_id in sorted(user_team_ids(user)):
        live_send_on_commit(
            group=team_presence_group(team_id),
            payload={"type": "presence", "user": user.pk, "status": status},
        )
