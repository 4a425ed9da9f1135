"""Celery beat for a cluster: any number of beat hosts may run, and each job is sent once.

The schedule is django-celery-beat's, in the database. Only the beat holding the leader lock in
Redis sends: it renews the lock on every tick (at most every few seconds), and a standby takes the
lock over within CRM_BEAT_LOCK_SECONDS of the leader stopping. A beat that becomes the leader
first reads the schedule again, with the run times the previous leader saved.
"""

import contextlib
import logging
import os
import socket
import uuid

import redis
from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

LOCK_KEY = "crm:beat:leader"
# Renews the lock only while this beat still holds it; a lock another beat took over is left.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class Leadership:
    """The cluster-wide leader lock of one beat process."""

    def __init__(self, redis_url: str, *, seconds: int) -> None:
        self.client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        self.milliseconds = seconds * 1000
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held = False

    def hold(self) -> tuple[bool, bool]:
        """(whether this beat leads now, whether it has just become the leader)."""
        was_held = self.held
        try:
            if was_held:
                self.held = bool(
                    self.client.eval(_RENEW, 1, LOCK_KEY, self.identity, self.milliseconds)
                )
            if not self.held:
                self.held = bool(
                    self.client.set(LOCK_KEY, self.identity, nx=True, px=self.milliseconds)
                )
        except redis.RedisError as error:
            # Without Redis nobody can know who leads, and no task could be sent anyway.
            logger.warning("beat: Redis unreachable, not sending: %s", error)
            self.held = False
        if was_held and not self.held:
            logger.warning("beat %s lost the leader lock; standing by", self.identity)
        if self.held and not was_held:
            logger.info("beat %s is the leader", self.identity)
        return self.held, self.held and not was_held

    def release(self) -> None:
        """Hand the lock over at once (a beat that stops cleanly), if this beat holds it."""
        if self.held:
            with contextlib.suppress(redis.RedisError):
                self.client.eval(_RELEASE, 1, LOCK_KEY, self.identity)
            self.held = False


class ClusterScheduler(DatabaseScheduler):
    """DatabaseScheduler that sends only while it holds the cluster's leader lock."""

    def __init__(self, *args, **kwargs) -> None:
        self.leadership = (
            Leadership(settings.REDIS_URL, seconds=settings.CRM_BEAT_LOCK_SECONDS)
            if settings.REDIS_URL
            else None
        )
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs) -> float:
        if self.leadership is None:
            return super().tick(*args, **kwargs)
        leads, newly = self.leadership.hold()
        # A standby asks again well within the lock's lifetime, so a takeover is prompt.
        standby_wait = min(self.max_interval, self.leadership.milliseconds / 3000)
        if not leads:
            return standby_wait
        if newly:
            # The schedule in memory is as old as this process; the previous leader saved later
            # run times, and without them jobs it already sent would be sent again.
            self._initial_read = True
            self._heap = None
        return min(super().tick(*args, **kwargs), standby_wait)

    def close(self) -> None:
        super().close()
        if self.leadership is not None:
            self.leadership.release()
