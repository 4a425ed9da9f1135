"""Which database a read goes to: a PostgreSQL read replica, or the primary.

Replicas (DATABASE_REPLICA_URLS) take the heavy reads that can be a second or two behind:
dashboards, reports, exports, searches and model training. They enter `replica_reads()` (or
`@reads_from_replica`), or ask `replica_alias()` for a queryset that is read later, lazily. Every
other read, and every write, goes to the primary, and so does a read that must see a write:

- inside a transaction on the primary (its own writes, its locks);
- after the same block wrote through the ORM;
- for `CRM_REPLICA_PIN_SECONDS` after the person saved something (`PrimaryAfterWriteMiddleware`
  pins them with a cookie), so the page after a save, or a dashboard opened right after it, shows
  what was saved; and the response to a write is always read on the primary.

A replica that refuses connections is left alone for `CRM_REPLICA_RETRY_SECONDS`, and the
primary serves its reads meanwhile.
"""

import functools
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

PIN_COOKIE = "crm_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


@dataclass
class _Scope:
    replica: str | None = None
    pinned: bool = False
    wrote: bool = False


_scope: ContextVar[_Scope | None] = ContextVar("crm_database_scope", default=None)
# When each replica that refused a connection may be tried again (time.monotonic()).
_unreachable_until: dict[str, float] = {}


def _primary_pinned() -> bool:
    scope = _scope.get()
    return scope is not None and (scope.pinned or scope.wrote)


def _reachable(alias: str) -> bool:
    if _unreachable_until.get(alias, 0.0) > time.monotonic():
        return False
    try:
        connections[alias].ensure_connection()
    except OperationalError as error:
        logger.warning("replica %s unreachable, reading from the primary: %s", alias, error)
        _unreachable_until[alias] = time.monotonic() + settings.CRM_REPLICA_RETRY_SECONDS
        return False
    _unreachable_until.pop(alias, None)
    return True


def replica_alias() -> str:
    """The database for a read that may lag a little: a reachable replica, unless there is
    none or this read must see the primary's latest writes."""
    replicas = list(settings.CRM_DATABASE_REPLICAS)
    if not replicas or _primary_pinned() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    random.shuffle(replicas)
    return next((alias for alias in replicas if _reachable(alias)), DEFAULT_DB_ALIAS)


@contextmanager
def replica_reads() -> Iterator[None]:
    """The ORM's reads in the block go to one replica (the same one throughout)."""
    scope = _Scope(pinned=_primary_pinned())
    token = _scope.set(scope)
    try:
        scope.replica = replica_alias()
        yield
    finally:
        _scope.reset(token)


def replica_reads_when(condition: bool) -> AbstractContextManager:
    """replica_reads() when `condition` holds (a list that is a search), else nothing."""
    return replica_reads() if condition else nullcontext()


def reads_from_replica(function: Callable) -> Callable:
    """A view (function or method) whose reads go to a replica."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with replica_reads():
            return function(*args, **kwargs)

    return wrapper


@contextmanager
def primary_pinned(*, pinned: bool) -> Iterator[None]:
    """Reads in the block stay on the primary when `pinned` (a request that writes, or one from
    a person who just did)."""
    token = _scope.set(_Scope(pinned=pinned))
    try:
        yield
    finally:
        _scope.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str | None:
        scope = _scope.get()
        if scope is None or scope.replica is None or scope.wrote:
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return scope.replica

    def db_for_write(self, model, **hints) -> str:
        scope = _scope.get()
        # Only a write among replica reads pins the rest of them; the request's own bookkeeping
        # (the session's last activity, a token's last use) does not.
        if scope is not None and scope.replica is not None:
            scope.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # A replica holds the primary's rows: objects read from either may be related.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS


class PrimaryAfterWriteMiddleware:
    """A request that may write, and every request of its person for CRM_REPLICA_PIN_SECONDS
    after it, reads from the primary: replicas may not have the change yet."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.CRM_DATABASE_REPLICAS:
            return self.get_response(request)
        writes = request.method not in SAFE_METHODS
        pinned = writes or _pin_unexpired(request.COOKIES.get(PIN_COOKIE, ""))
        with primary_pinned(pinned=pinned):
            response = self.get_response(request)
        if writes and settings.CRM_REPLICA_PIN_SECONDS > 0:
            response.set_cookie(
                PIN_COOKIE,
                str(int(time.time()) + settings.CRM_REPLICA_PIN_SECONDS),
                max_age=settings.CRM_REPLICA_PIN_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


def _pin_unexpired(value: str) -> bool:
    try:
        return int(value) > time.time()
    except ValueError:
        return False
