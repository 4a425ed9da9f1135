"""The Redis cache, made to degrade instead of fail while Redis cannot be reached.

Nothing the CRM keeps in its cache is the only copy of anything: rate counts, presence, computed
figures. So while Redis is down (or a call to it times out) every call answers the way Django's
DummyCache does, as a cache that forgets everything at once, and logs a warning; pages and the API
keep working and /healthz (crm.health) reports the cache as down.
"""

import hashlib
import logging
from collections.abc import Iterable

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from django.utils import timezone, translation
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


def _unreachable(operation: str) -> None:
    logger.warning("cache %s skipped: Redis is unreachable", operation, exc_info=True)


class FailSoftRedisCache(RedisCache):
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except UNREACHABLE:
            _unreachable("add")
            return True

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except UNREACHABLE:
            _unreachable("get")
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except UNREACHABLE:
            _unreachable("set")

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except UNREACHABLE:
            _unreachable("touch")
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except UNREACHABLE:
            _unreachable("delete")
            return False

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except UNREACHABLE:
            _unreachable("get_many")
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except UNREACHABLE:
            _unreachable("has_key")
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except UNREACHABLE:
            _unreachable("incr")
            # What every cache answers for a key it does not hold; callers already handle it.
            raise ValueError(f"Key '{key}' not found") from None

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except UNREACHABLE:
            _unreachable("set_many")
            return []

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except UNREACHABLE:
            _unreachable("delete_many")

    def clear(self):
        try:
            return super().clear()
        except UNREACHABLE:
            _unreachable("clear")
            return False

    def ping(self) -> None:
        """Raise unless Redis answers: the health check must see the failure this class hides."""
        self._cache.get_client(write=True).ping()


# How long computed dashboard figures are kept: the dashboards show figures up to a minute old
# rather than aggregating every order and ticket of the period again on each request.
FIGURES_SECONDS = 60


def user_figures_key(namespace: str, *, user, parts: Iterable[object]) -> str:
    """Where figures computed for `user` are cached: per user (two users may see different
    records), per language (labels arrive translated), per time zone (day boundaries) and per
    `parts` (what the figures were asked for with)."""
    text = "|".join(
        str(part)
        for part in (
            user.pk,
            translation.get_language() or "",
            timezone.get_current_timezone_name(),
            *parts,
        )
    )
    return f"{namespace}:" + hashlib.sha256(text.encode()).hexdigest()
