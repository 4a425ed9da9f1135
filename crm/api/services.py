"""Idempotency keys: claim a key for a request, keep its first response, forget old ones."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.api.models import IdempotencyKey

# The response headers a replay repeats; the others (Vary, cookies, security headers) are set
# afresh by the middleware stack on every response.
REPLAYED_HEADERS = ("Content-Type", "Location")
ABANDONED_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class IdempotencyClaim:
    """What a request sent with a key may do: run (`record` is its fresh, unfinished row), or
    not run because the key already has a `record` (finished, still running or reused for
    another request)."""

    record: IdempotencyKey
    claimed: bool


def idempotency_key_cutoff(*, now: datetime | None = None) -> datetime:
    """Keys created before this moment have expired."""
    return (now or timezone.now()) - timedelta(hours=settings.CRM_IDEMPOTENCY_TTL_HOURS)


def _is_expired(record: IdempotencyKey) -> bool:
    if record.created_at < idempotency_key_cutoff():
        return True
    # A request still unfinished long after any request's time limit died with its process.
    return record.status_code is None and record.created_at < timezone.now() - ABANDONED_AFTER


def idempotency_key_claim(*, scope: str, key: str, fingerprint: str) -> IdempotencyClaim:
    """Insert the key's row, or find the row another request inserted first.

    The insert commits in its own transaction before the view runs, so a concurrent request
    with the same key sees it (the unique constraint makes the second insert fail) and the row
    does not vanish with a view whose transaction rolls back (ATOMIC_REQUESTS wraps the view,
    inside the middleware). An expired row, or one whose request died unfinished, is
    replaced."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    scope=scope, key=key, fingerprint=fingerprint
                )
            return IdempotencyClaim(record=record, claimed=True)
        except IntegrityError:
            existing = IdempotencyKey.objects.filter(scope=scope, key=key).first()
        if existing is None:
            # The first request failed and released the key between our insert and our read.
            continue
        if not _is_expired(existing):
            return IdempotencyClaim(record=existing, claimed=False)
        IdempotencyKey.objects.filter(pk=existing.pk).delete()
    raise IntegrityError(f"Idempotency key {scope} {key} keeps changing under this request.")


def idempotency_key_finish(
    *, record: IdempotencyKey, status_code: int, body: bytes, headers: Mapping[str, str]
) -> None:
    """Keep the first response so that retries get it back."""
    IdempotencyKey.objects.filter(pk=record.pk).update(
        status_code=status_code,
        response_body=body,
        response_headers={
            name: headers[name] for name in REPLAYED_HEADERS if headers.get(name) is not None
        },
    )


def idempotency_key_release(*, record: IdempotencyKey) -> None:
    """Forget a key whose request failed or was not kept, so the client may retry with it."""
    IdempotencyKey.objects.filter(pk=record.pk).delete()


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Delete the keys that have expired; returns how many."""
    deleted, _by_model = IdempotencyKey.objects.filter(
        created_at__lt=idempotency_key_cutoff(now=now)
    ).delete()
    return deleted
