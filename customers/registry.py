"""What the apps built on customers contribute to it, without customers importing them.

Sales, service, collaboration and analytics register here from their AppConfig.ready():
- timeline sources: entries on the customer 360 timeline (deals, tickets, tasks, chat...);
- profile panels: boxes on the 360 page (scores, open deals...);
- merge handlers: move their rows from a merged customer to the one kept;
- privacy exporters and erasers: their part of a data export or an erasure;
- record URLs: where a deal or ticket an interaction belongs to is shown.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    title: str
    body: str = ""
    url: str = ""
    actor: str = ""
    badges: tuple[str, ...] = field(default_factory=tuple)
    # Makes the order of entries at the same instant stable across pages.
    sort_key: str = ""


# fetch(customer, user, before, limit) -> entries older than `before` (or newest), newest first.
TimelineFetch = Callable[[Any, Any, datetime | None, int], list[TimelineEntry]]


@dataclass(frozen=True)
class TimelineSource:
    key: str
    label: str
    fetch: TimelineFetch


@dataclass(frozen=True)
class ProfilePanel:
    title: str
    rows: list[tuple[str, str]]
    url: str = ""
    # A panel that needs more than label/value rows (a chart, a list of reasons) renders its own
    # partial with `context`; the rows are then ignored.
    template: str = ""
    context: dict = field(default_factory=dict)


_timeline_sources: dict[str, TimelineSource] = {}
_profile_panels: list[tuple[int, Callable[[Any, Any], ProfilePanel | None]]] = []
_merge_handlers: dict[str, Callable[[Any, Any], int]] = {}
_privacy_exporters: dict[str, Callable[[Any], Any]] = {}
_erasers: dict[str, Callable[[Any], None]] = {}
_record_urls: dict[str, Callable[[int], str]] = {}


def register_timeline_source(*, key: str, label: str, fetch: TimelineFetch) -> None:
    _timeline_sources[key] = TimelineSource(key=key, label=label, fetch=fetch)


def timeline_sources() -> list[TimelineSource]:
    return list(_timeline_sources.values())


def register_profile_panel(*, order: int, provider: Callable[[Any, Any], ProfilePanel | None]):
    _profile_panels.append((order, provider))
    _profile_panels.sort(key=lambda entry: entry[0])


def profile_panels() -> list[Callable[[Any, Any], ProfilePanel | None]]:
    return [provider for _order, provider in _profile_panels]


def register_merge_handler(*, key: str, handler: Callable[[Any, Any], int]) -> None:
    """handler(merged, kept) moves the app's rows to `kept` and returns how many it moved."""
    _merge_handlers[key] = handler


def merge_handlers() -> dict[str, Callable[[Any, Any], int]]:
    return dict(_merge_handlers)


def register_privacy_exporter(*, key: str, exporter: Callable[[Any], Any]) -> None:
    """exporter(customer) returns JSON-serialisable data the app holds about the customer."""
    _privacy_exporters[key] = exporter


def privacy_exporters() -> dict[str, Callable[[Any], Any]]:
    return dict(_privacy_exporters)


def register_eraser(*, key: str, eraser: Callable[[Any], None]) -> None:
    """eraser(customer) removes or anonymises the personal data the app holds about them."""
    _erasers[key] = eraser


def erasers() -> dict[str, Callable[[Any], None]]:
    return dict(_erasers)


def register_record_url(*, model_label: str, url: Callable[[int], str]) -> None:
    """url(pk) is the page of a record of `model_label` ("sales.deal")."""
    _record_urls[model_label] = url


def record_url(*, model_label: str, pk: int) -> str:
    """The page of that record, or "" when no app shows that kind of record."""
    url = _record_urls.get(model_label)
    return url(pk) if url else ""
