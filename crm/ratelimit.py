"""Counting requests per key in fixed windows, for the public forms (web-to-lead, support)."""

from django.core.cache import cache


def rate_limit_reached(*, key: str, limit: int, window_seconds: int) -> bool:
    """Count one more request under `key`; True once more than `limit` came in the window.

    The count lives in the cache (Redis when configured, so it holds across workers) for a
    fixed window that starts with the first request."""
    cache.add(key, 0, timeout=window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:
        # The window ended between add and incr.
        cache.set(key, 1, timeout=window_seconds)
        count = 1
    return count > limit
