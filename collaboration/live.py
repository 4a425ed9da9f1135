"""Pushing events to open browser tabs over the channel layer.

Every tab holds one WebSocket (`ws/live/`, collaboration.consumers.LiveConsumer) that joins its
user's group and the groups of the chat rooms it has subscribed to. Services push after their
transaction commits, so a browser never hears of a row that was rolled back; a push that fails
(Redis unreachable) is logged and dropped, because the row is stored and every client catches up
from the database when it reconnects.
"""

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# The consumer method that forwards a pushed payload to the browser as it is.
LIVE_EVENT_TYPE = "live.event"
# Sends in flight at once from one `live_send_many`: enough to overlap the round trips to Redis,
# few enough to stay inside channels-redis's connection pool.
CONCURRENT_SENDS = 16


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def room_group(room_id: int) -> str:
    return f"chat.room.{room_id}"


def room_members_group(room_id: int) -> str:
    """Every socket of every member of the room, subscribed to it or not: activity without content
    goes here, so one send reaches them all however big the room."""
    return f"chat.members.{room_id}"


def team_presence_group(team_id: int) -> str:
    return f"presence.team.{team_id}"


def live_send(*, group: str, payload: dict[str, Any]) -> None:
    """Push `payload` (a JSON-able dict with a "type") to every socket in `group`, now."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": LIVE_EVENT_TYPE, "payload": payload})
    except Exception:  # any layer failure: the row is stored and clients catch up
        logger.warning("live push to %s failed", group, exc_info=True)


def live_send_many(pushes: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Push several (group, payload) pairs at once: one hop into the event loop with the sends
    running concurrently, instead of a hop and a round trip to Redis per member of a room."""
    layer = get_channel_layer()
    pushes = list(pushes)
    if layer is None or not pushes:
        return

    slots = asyncio.Semaphore(CONCURRENT_SENDS)

    async def send(group: str, payload: dict[str, Any]) -> None:
        async with slots:
            await layer.group_send(group, {"type": LIVE_EVENT_TYPE, "payload": payload})

    async def send_all() -> None:
        results = await asyncio.gather(
            *(send(group, payload) for group, payload in pushes), return_exceptions=True
        )
        for (group, _payload), result in zip(pushes, results, strict=True):
            if isinstance(result, BaseException):
                logger.warning("live push to %s failed: %r", group, result)

    try:
        async_to_sync(send_all)()
    except Exception:  # any layer failure: the rows are stored and clients catch up
        logger.warning("live pushes failed", exc_info=True)


def live_send_on_commit(*, group: str, payload: dict[str, Any]) -> None:
    """Push once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: live_send(group=group, payload=payload))
