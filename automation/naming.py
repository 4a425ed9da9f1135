"""The records a rule's settings point at (a team, a stage, a campaign, a webhook), looked up
once per page or API answer: inside `names_remembered`, each record and each list of choices is
fetched once, and `names_preload` fetches many of one kind in one query, so describing a page
of rules costs a query per kind of record, not one per action."""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db.models import Model

_memo: ContextVar[dict | None] = ContextVar("automation_names", default=None)


@contextmanager
def names_remembered() -> Iterator[None]:
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def _key(model: type[Model], pk) -> tuple:
    return (model._meta.label_lower, str(pk))


def object_of(model: type[Model], pk) -> Any:
    """The record of `model` with this id, or None."""
    if not str(pk or "").isdigit():
        return None
    memo = _memo.get()
    key = _key(model, pk)
    if memo is not None and key in memo:
        return memo[key]
    found = model._default_manager.filter(pk=int(pk)).first()
    if memo is not None:
        memo[key] = found
    return found


def names_preload(model: type[Model], pks: Iterable) -> None:
    """Fetch these records of `model` in one query for the `object_of` calls to come."""
    memo = _memo.get()
    wanted = {str(pk) for pk in pks if str(pk or "").isdigit()}
    if memo is None:
        return
    wanted -= {pk for label, pk in memo if label == model._meta.label_lower}
    if not wanted:
        return
    found = {str(item.pk): item for item in model._default_manager.filter(pk__in=wanted)}
    for pk in wanted:
        memo[_key(model, pk)] = found.get(pk)


def choices_of(name: str, compute: Callable[[], list]) -> list:
    """A list of choices (the active users, the teams), computed once inside the block."""
    memo = _memo.get()
    if memo is None:
        return compute()
    key = ("choices", name)
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def record_name(record: Model) -> str:
    """How a record is named in a sentence: a user by their label, others as they print."""
    return getattr(record, "label", None) or str(record)
