"""Locks that last as long as the process holding them, so a worker that dies loses them at once.

A task delivered again after its worker was killed must tell a run whose worker died from one
still going on another worker. Progress timestamps can only guess (a slow batch looks like a
dead worker, a dead worker looks alive until its lease runs out); a PostgreSQL session advisory
lock is held by the worker's connection, which the database drops when the process dies. Other
databases have no such lock: there `run_lock` always succeeds and the callers keep their leases.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

# One namespace per kind of run, kept apart from the single-key transaction locks elsewhere
# (which are below 2**32).
IMPORT_RUN = 1
MODEL_TRAINING = 2
MAILBOX_POLL = 3

# The database notices a killed client's closed socket at once, but a redelivered task can
# arrive a moment before the dead run's lock is released.
RELEASE_GRACE_SECONDS = 10.0
_POLL_SECONDS = 0.2


def run_locks_supported() -> bool:
    """Whether a free run lock proves that no live process is running the work."""
    return connection.vendor == "postgresql"


def _try_lock(key: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        return cursor.fetchone()[0]


@contextmanager
def run_lock(*, kind: int, pk: int, grace: float | None = None) -> Iterator[bool]:
    """Hold the lock on run `pk` of `kind` for the block: yields True when it is ours, False
    (holding nothing) when another live process still holds it after `grace` seconds
    (RELEASE_GRACE_SECONDS unless given)."""
    if not run_locks_supported():
        yield True
        return
    key = (kind << 32) + pk
    deadline = time.monotonic() + (RELEASE_GRACE_SECONDS if grace is None else grace)
    acquired = _try_lock(key)
    while not acquired and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
        acquired = _try_lock(key)
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
