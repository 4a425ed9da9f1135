"""The customer 360 timeline: one list, newest first, of everything about a customer.

Every app contributes its own entries through `customers.registry.register_timeline_source`
from its `AppConfig.ready()`: this app registers interactions, orders, needs and relationships
(their sources live in `customers.selectors.records`); sales, service and collaboration add
deals, tickets, tasks, chat and files the same way, so the customers app never imports them.

A page is cut with a cursor, the position (time, kind, sort key) of the last entry shown. Each
source is asked once for at most `limit + 1` entries up to the cursor's instant, so one page costs
one query per source however long the customer's history is. Sources should give every entry a
`sort_key` unique within its kind (the record's zero-padded id), which keeps entries at the same
instant in a stable order across pages.
"""

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm.accounts.models import User
from customers.models import Customer
from customers.registry import TimelineEntry, timeline_sources

TIMELINE_PAGE_SIZE = 20
TIMELINE_MAX_PAGE_SIZE = 100
_CURSOR_SEPARATOR = "|"


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in a list ordered newest first: a time and a key breaking ties at that time."""

    at: datetime
    key: str = ""

    def encode(self) -> str:
        text = f"{self.at.isoformat()}{_CURSOR_SEPARATOR}{self.key}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> "Cursor":
        """Read a cursor made by `encode`; raises ValueError for anything else."""
        try:
            text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError("not a cursor") from exc
        at_text, separator, key = text.partition(_CURSOR_SEPARATOR)
        if not separator:
            raise ValueError("not a cursor")
        at = datetime.fromisoformat(at_text)
        if at.tzinfo is None:
            raise ValueError("a cursor's time carries its time zone")
        return cls(at=at, key=key)


def entry_position(entry: TimelineEntry) -> Cursor:
    return Cursor(at=entry.at, key=f"{entry.kind}:{entry.sort_key}")


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: Cursor | None


def customer_timeline(
    *, customer: Customer, user: User, before: Cursor | None = None, limit: int = TIMELINE_PAGE_SIZE
) -> TimelinePage:
    """One page of the customer's timeline, newest first, older than `before` when given.

    The caller has already checked that `user` may see `customer`; each source applies the
    visibility rule to its own records.
    """
    limit = max(1, min(limit, TIMELINE_MAX_PAGE_SIZE))
    # Sources return entries strictly older than the time they are given; asking up to one
    # microsecond past the cursor's instant includes the entries that share it, and those
    # already shown are dropped by position below.
    up_to = before.at + timedelta(microseconds=1) if before else None
    collected: list[TimelineEntry] = []
    # Below the oldest entry of a source that filled its request, that source may hold entries
    # not fetched yet, so only entries at or above the highest such point are safe to show.
    safe_from: Cursor | None = None
    source_was_full = False
    for source in timeline_sources():
        fetch_limit = limit + 1
        while True:
            entries = source.fetch(customer, user, up_to, fetch_limit)
            fresh = [entry for entry in entries if before is None or entry_position(entry) < before]
            full = len(entries) >= fetch_limit
            if len(fresh) >= limit or not full:
                break
            # Entries at the cursor's instant that were shown already crowd the answer out: a
            # source with more entries at one instant than a page holds. Rare; ask for more.
            fetch_limit *= 2
        collected.extend(fresh)
        if full:
            source_was_full = True
            oldest = min(entry_position(entry) for entry in entries)
            safe_from = oldest if safe_from is None else max(safe_from, oldest)
    collected.sort(key=entry_position, reverse=True)
    shown = [
        entry for entry in collected if safe_from is None or entry_position(entry) >= safe_from
    ]
    page = shown[:limit]
    has_more = source_was_full or len(collected) > len(page)
    next_cursor = entry_position(page[-1]) if page and has_more else None
    return TimelinePage(entries=page, next_cursor=next_cursor)
