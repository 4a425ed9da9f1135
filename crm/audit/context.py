"""Where a change or an event came from: the request being served, if any.

django-simple-history's middleware keeps the request for the length of each request; changes made
outside one (Celery tasks, commands) have no origin and only the user the service was given,
unless the caller says on whose behalf it acts (a workflow rule acts for its owner).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.http import HttpRequest
from simple_history.models import HistoricalRecords

from crm.api.authentication import api_token_for_request


@dataclass(frozen=True)
class RequestOrigin:
    ip_address: str | None = None
    user_agent: str = ""
    api_token: str = ""


NO_ORIGIN = RequestOrigin()


def current_request() -> HttpRequest | None:
    return getattr(HistoricalRecords.context, "request", None)


def request_origin(request: HttpRequest | None) -> RequestOrigin:
    if request is None:
        return NO_ORIGIN
    token = api_token_for_request(request)
    return RequestOrigin(
        ip_address=request.META.get("REMOTE_ADDR") or None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        api_token=token.prefix if token is not None else "",
    )


@dataclass(frozen=True)
class OnBehalf:
    user: object
    reason: str


_on_behalf: ContextVar[OnBehalf | None] = ContextVar("audit_on_behalf", default=None)


@contextmanager
def changes_made_for(*, user, reason: str) -> Iterator[None]:
    """Record the changes made in this block as `user`'s, with `reason` (history rows keep up to
    100 characters of it)."""
    token = _on_behalf.set(OnBehalf(user=user, reason=reason))
    try:
        yield
    finally:
        _on_behalf.reset(token)


def on_behalf() -> OnBehalf | None:
    return _on_behalf.get()
