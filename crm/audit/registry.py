"""The kinds of record whose history is shown on their pages, registered by the apps that own them.

The audit app lives on the ground floor and imports none of the apps; each app registers, from its
AppConfig.ready(), the models whose page has a history section, with the selector that gives the
records a user may see (and so whose history they may read) and the URL of a record's page.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class HistoryKind:
    model: type[Model]
    # visible(user=) -> the records of `model` that user may see.
    visible: Callable[..., QuerySet]
    # url(pk) -> the page of a record, or "" when it has none of its own.
    url: Callable[[int], str] | None = None

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    def record_url(self, pk: int) -> str:
        return self.url(pk) if self.url is not None else ""


_kinds: dict[str, HistoryKind] = {}


def register_record_history(
    *,
    model: type[Model],
    visible: Callable[..., QuerySet],
    url: Callable[[int], str] | None = None,
) -> None:
    if not hasattr(model, "history"):
        raise ValueError(f"{model._meta.label} keeps no history")
    _kinds[model._meta.label_lower] = HistoryKind(model=model, visible=visible, url=url)


def record_history_kind(label: str) -> HistoryKind | None:
    """The registered kind named "app_label.model", or None."""
    return _kinds.get((label or "").strip().lower())
