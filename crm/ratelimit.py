"""Counting requests per key in fixed windows, for the public forms (web-to-lead, support)."""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)


def rate_limit_reached(*, key: str, limit: int, window_seconds: int) -> bool:
    """Count one more request under `key`; True once more than `limit` came in the window.

    The count lives in the cache (Redis when configured, so it holds across workers) for a
    fixed window that starts with the first request. When the cache cannot be reached the request
    is let through: a lost limit for a while is better than refusing every form and chat message
    while Redis is down."""
    try:
        cache.add(key, 0, timeout=window_seconds)
        try:
            count = cache.incr(key)
        except ValueError:
            # The window ended between add and incr.
            cache.set(key, 1, timeout=window_seconds)
            count = 1
    except Exception:  # any cache backend failure (a Redis connection error, say)
        logger.warning(
            "rate limit for %s not counted: the cache is unreachable", key, exc_info=True
        )
        return False
    return count > limit
