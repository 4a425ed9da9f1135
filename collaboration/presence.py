"""Who is online: per user, how many tabs hold a live socket and whether the user is away.

Kept in the Django cache (Redis when REDIS_URL is set, so every worker shares it; process memory
otherwise). Each entry lives PRESENCE_TTL_SECONDS and is refreshed by the tab's pings (every 25
s), so a worker that dies without running its disconnects lets its users fall offline by
themselves instead of leaving them online for ever.
"""

import logging
from collections.abc import Iterable

from django.core.cache import cache

logger = logging.getLogger(__name__)

PRESENCE_TTL_SECONDS = 90

ONLINE = "online"
AWAY = "away"
OFFLINE = "offline"
STATUSES = (ONLINE, AWAY)


def _connections_key(user_id: int) -> str:
    return f"presence:tabs:{user_id}"


def _status_key(user_id: int) -> str:
    return f"presence:status:{user_id}"


def presence_connected(user_id: int) -> None:
    """One more tab of the user is connected."""
    key = _connections_key(user_id)
    if not cache.add(key, 1, timeout=PRESENCE_TTL_SECONDS):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=PRESENCE_TTL_SECONDS)
        cache.touch(key, PRESENCE_TTL_SECONDS)
    cache.add(_status_key(user_id), ONLINE, timeout=PRESENCE_TTL_SECONDS)


def presence_disconnected(user_id: int) -> bool:
    """One tab fewer; True when that was the user's last one (they are now offline)."""
    key = _connections_key(user_id)
    try:
        remaining = cache.decr(key)
    except ValueError:
        remaining = 0
    if remaining > 0:
        return False
    cache.delete_many([key, _status_key(user_id)])
    return True


def presence_refresh(user_id: int) -> None:
    """Keep a connected user's entries alive (called on each ping)."""
    cache.touch(_connections_key(user_id), PRESENCE_TTL_SECONDS)
    cache.touch(_status_key(user_id), PRESENCE_TTL_SECONDS)


def presence_set(user_id: int, status: str) -> None:
    """Mark a connected user online or away (their tabs report idleness)."""
    if status not in STATUSES:
        raise ValueError(status)
    cache.set(_status_key(user_id), status, timeout=PRESENCE_TTL_SECONDS)
    cache.touch(_connections_key(user_id), PRESENCE_TTL_SECONDS)


def presence_of(user_ids: Iterable[int]) -> dict[int, str]:
    """user id -> "online", "away" or "offline", in one cache round trip; everyone is shown offline
    while the cache cannot be reached, so the chat page still loads."""
    user_ids = list(user_ids)
    try:
        found = cache.get_many(
            [_connections_key(user_id) for user_id in user_ids]
            + [_status_key(user_id) for user_id in user_ids]
        )
    except Exception:  # any cache backend failure (a Redis connection error, say)
        logger.warning("presence unknown: the cache is unreachable", exc_info=True)
        found = {}
    statuses = {}
    for user_id in user_ids:
        if found.get(_connections_key(user_id), 0) > 0:
            statuses[user_id] = found.get(_status_key(user_id), ONLINE)
        else:
            statuses[user_id] = OFFLINE
    return statuses
