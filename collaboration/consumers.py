"""The one live socket each signed-in browser tab holds (`ws/live/`).

Thin: it authenticates (the session, through AuthMiddlewareStack), checks the shape of each
frame, calls a chat service or selector and turns their refusals into `error` frames. The
frames are described in the README ("WebSocket protocol"). A socket joins its user's group and
their teams' presence groups on connect, and a room's group only after the room's access check.
"""

import json
import logging
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from collaboration import presence
from collaboration.live import (
    LIVE_EVENT_TYPE,
    room_group,
    room_members_group,
    team_presence_group,
    user_group,
)
from collaboration.models import ChatMessage, ChatRoom
from collaboration.selectors.chat import (
    chat_message_get_for_user,
    chat_message_payload,
    chat_messages_after,
    chat_room_get_for_user,
    chat_room_members,
    chat_rooms_for_user,
)
from collaboration.services.chat import (
    ChatRateLimited,
    chat_message_delete,
    chat_message_edit,
    chat_message_post,
    chat_presence_announce,
    chat_room_mark_read,
    chat_typing,
)
from crm.accounts.selectors import user_team_ids

logger = logging.getLogger(__name__)

# A frame larger than this is refused unread: a message is at most 4,000 characters, and JSON
# escaping can at most quadruple that.
MAX_FRAME_CHARS = 16 * 1024
# Messages a reconnecting tab is sent at once; it fetches older ones over HTTP.
CATCH_UP_LIMIT = 200
# Presence states reported for at most this many members of a subscribed room.
PRESENCE_LIMIT = 200

CLOSE_SIGN_IN = 4401


class FrameError(Exception):
    def __init__(self, code: str, message: str, **context: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.context = context


def _positive_id(content: dict[str, Any], key: str) -> int:
    value = content.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise FrameError("invalid", _("“%(key)s” must be an id.") % {"key": key})
    return value


def _text(content: dict[str, Any], key: str) -> str:
    value = content.get(key, "")
    if not isinstance(value, str):
        raise FrameError("invalid", _("The message must be text."))
    return value


def _get_room(user, room_id: int) -> ChatRoom:
    try:
        return chat_room_get_for_user(user=user, room_id=room_id)
    except ChatRoom.DoesNotExist:
        raise PermissionDenied from None


def _get_message(user, message_id: int) -> ChatMessage:
    return chat_message_get_for_user(user=user, message_id=message_id)


def _catch_up(user, room: ChatRoom, after: int | None) -> tuple[list[dict], bool, dict[str, str]]:
    messages, more = [], False
    if after is not None:
        messages, more = chat_messages_after(
            user=user, room=room, after_id=after, limit=CATCH_UP_LIMIT
        )
    member_ids = list(chat_room_members(room=room).values_list("pk", flat=True)[:PRESENCE_LIMIT])
    statuses = presence.presence_of(member_ids)
    return (
        [chat_message_payload(message) for message in messages],
        more,
        {str(user_id): status for user_id, status in statuses.items() if status != "offline"},
    )


def _send(user, room_id: int, body: str, client_id: str) -> dict:
    message = chat_message_post(
        author=user, room=_get_room(user, room_id), body=body, client_id=client_id
    )
    return chat_message_payload(message)


def _edit(user, message_id: int, body: str) -> None:
    chat_message_edit(actor=user, message=_get_message(user, message_id), body=body)


def _delete(user, message_id: int) -> None:
    chat_message_delete(actor=user, message=_get_message(user, message_id))


def _typing(user, room_id: int) -> None:
    chat_typing(user=user, room=_get_room(user, room_id))


def _read(user, room_id: int, message_id: int | None) -> None:
    chat_room_mark_read(user=user, room=_get_room(user, room_id), message_id=message_id)


def _connect(user) -> tuple[list[int], list[int]]:
    """The user's teams (for presence) and rooms (for their activity), and the user counted in."""
    team_ids = sorted(user_team_ids(user))
    room_ids = [room.pk for room in chat_rooms_for_user(user=user)]
    presence.presence_connected(user.pk)
    chat_presence_announce(user=user, status=presence.presence_of([user.pk])[user.pk])
    return team_ids, room_ids


def _disconnect(user) -> None:
    if presence.presence_disconnected(user.pk):
        chat_presence_announce(user=user, status=presence.OFFLINE)


def _set_presence(user, status: str) -> None:
    presence.presence_set(user.pk, status)
    chat_presence_announce(user=user, status=status)


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.user = self.scope["user"]
        self.joined: set[str] = set()
        self.rooms: set[int] = set()
        self.counted = False
        if not self.user.is_authenticated:
            await self.close(code=CLOSE_SIGN_IN)
            return
        await self.accept()
        team_ids, room_ids = await database_sync_to_async(_connect)(self.user)
        self.counted = True
        await self._join(user_group(self.user.pk))
        for team_id in team_ids:
            await self._join(team_presence_group(team_id))
        for room_id in room_ids:
            await self._join(room_members_group(room_id))

    async def disconnect(self, code):
        for group in self.joined:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:  # any layer failure: the layer expires a dead channel by itself
                logger.info("could not leave %s on disconnect", group, exc_info=True)
        self.joined.clear()
        if self.counted:
            self.counted = False
            await database_sync_to_async(_disconnect)(self.user)

    async def dispatch(self, message):
        # Channels closes stale database connections before every handler, a hop to the one sync
        # thread of the process that a pushed frame would wait on behind every other socket's
        # (a message to a 500-member room queued 500 of them behind the send's own queries).
        # Pushes touch no database, and every handler that does goes through
        # database_sync_to_async, which closes stale connections itself.
        if message["type"] == LIVE_EVENT_TYPE:
            await self.live_event(message)
            return
        await super().dispatch(message)

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.joined.add(group)

    async def _leave(self, group: str) -> None:
        await self.channel_layer.group_discard(group, self.channel_name)
        self.joined.discard(group)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None or len(text_data) > MAX_FRAME_CHARS:
            await self._error("too_long", _("This frame is too large."))
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("invalid", _("Frames must be JSON objects."))
            return
        if not isinstance(content, dict):
            await self._error("invalid", _("Frames must be JSON objects."))
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        handler = self.HANDLERS.get(content.get("type"))
        if handler is None:
            await self._error("unknown_type", _("This kind of frame is not known."))
            return
        context = {key: content[key] for key in ("room", "client_id") if key in content}
        try:
            await handler(self, content)
        except FrameError as error:
            await self._error(error.code, error.message, **{**context, **error.context})
        except (PermissionDenied, ChatRoom.DoesNotExist):
            await self._error("forbidden", _("You cannot use this room."), **context)
        except ChatMessage.DoesNotExist:
            await self._error("not_found", _("This message does not exist."), **context)
        except ChatRateLimited:
            await self._error(
                "rate_limited", _("You are sending too fast; wait a moment."), **context
            )
        except ValidationError as error:
            code = "too_long" if error.code == "too_long" else "invalid"
            await self._error(code, " ".join(error.messages), **context)

    async def _error(self, code: str, message: str, **context: Any) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, **context})

    # Client frames -------------------------------------------------------------------------------

    async def on_ping(self, content):
        await sync_to_async(presence.presence_refresh)(self.user.pk)
        await self.send_json({"type": "pong", "id": content.get("id")})

    async def on_presence(self, content):
        status = content.get("status")
        if status not in presence.STATUSES:
            raise FrameError("invalid", _("Presence is online or away."))
        await database_sync_to_async(_set_presence)(self.user, status)

    async def on_subscribe(self, content):
        room_id = _positive_id(content, "room")
        after = content.get("after")
        if after is not None and (isinstance(after, bool) or not isinstance(after, int)):
            raise FrameError("invalid", _("Give the last message id seen, or null."))
        # Join before reading the missed messages, so one posted in between is not lost (the
        # tab may see it twice, and keeps one by id).
        room = await database_sync_to_async(_get_room)(self.user, room_id)
        await self._join(room_group(room.pk))
        self.rooms.add(room.pk)
        try:
            messages, more, statuses = await database_sync_to_async(_catch_up)(
                self.user, room, after
            )
        except Exception:
            await self._leave(room_group(room.pk))
            self.rooms.discard(room.pk)
            raise
        await self.send_json(
            {
                "type": "subscribed",
                "room": room_id,
                "messages": messages,
                "more": more,
                "presence": statuses,
            }
        )

    async def on_unsubscribe(self, content):
        room_id = _positive_id(content, "room")
        if room_id in self.rooms:
            self.rooms.discard(room_id)
            await self._leave(room_group(room_id))

    async def on_message_send(self, content):
        room_id = _positive_id(content, "room")
        client_id = _text(content, "client_id")
        message = await database_sync_to_async(_send)(
            self.user, room_id, _text(content, "body"), client_id
        )
        await self.send_json({"type": "message.ack", "client_id": client_id, "message": message})

    async def on_message_edit(self, content):
        message_id = _positive_id(content, "message")
        await database_sync_to_async(_edit)(self.user, message_id, _text(content, "body"))

    async def on_message_delete(self, content):
        await database_sync_to_async(_delete)(self.user, _positive_id(content, "message"))

    async def on_typing(self, content):
        await database_sync_to_async(_typing)(self.user, _positive_id(content, "room"))

    async def on_read(self, content):
        message_id = content.get("message")
        if message_id is not None:
            message_id = _positive_id(content, "message")
        await database_sync_to_async(_read)(self.user, _positive_id(content, "room"), message_id)

    HANDLERS = {
        "ping": on_ping,
        "presence": on_presence,
        "subscribe": on_subscribe,
        "unsubscribe": on_unsubscribe,
        "message.send": on_message_send,
        "message.edit": on_message_edit,
        "message.delete": on_message_delete,
        "typing": on_typing,
        "read": on_read,
    }

    # Pushes from the services (collaboration.live) -----------------------------------------------

    async def live_event(self, event):
        payload = event["payload"]
        kind = payload.get("type")
        if kind == "room.activity":
            # A subscribed room sends the message itself, and one's own messages are no news.
            if payload["room"] in self.rooms or payload.get("author") == self.user.pk:
                return
        elif kind == "room.joined":
            await self._join(room_members_group(payload["room"]))
        elif kind == "room.left":
            await self._leave(room_members_group(payload["room"]))
        await self.send_json(payload)
