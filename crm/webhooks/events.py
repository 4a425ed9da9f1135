"""The events the CRM announces to integrators (webhooks) and to workflow rules.

An app's service calls `event_publish` inside the transaction that made the change; subscribers
hear of it only once that transaction commits. An app registers, once in its AppConfig.ready(),
each kind of record its events carry: how to show it (the payload, the same shape as the record's
API representation) and who may see it (the app's visibility selector), so an event about a
record reaches only subscribers whose owner may see that record.

A higher app that acts on events (workflow rules) registers a listener; it hears each event on
commit, with the `cause` that was current when the event was published: what the listener
itself set with `event_cause_set` while acting, so it can tell the events its own actions set off
(and stop a rule that sets itself off)."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _

EVENTS: dict[str, str] = {
    "customer.created": _("A customer was created"),
    "customer.updated": _("A customer was updated"),
    "customer.merged": _("Customers were merged into one"),
    "deal.created": _("A deal was created"),
    "deal.updated": _("A deal was updated"),
    "deal.stage_changed": _("A deal moved to another stage"),
    "deal.won": _("A deal was won"),
    "deal.lost": _("A deal was lost"),
    "ticket.created": _("A ticket was opened"),
    "ticket.updated": _("A ticket was updated"),
    "ticket.resolved": _("A ticket was resolved"),
    "ticket.sla_breached": _("A ticket missed an SLA target"),
    "survey.answered": _("A satisfaction survey was answered"),
    "import.finished": _("A customer import finished"),
    "email.sent": _("An email was handed to the mail server"),
    "email.received": _("An email was received"),
    "email.bounced": _("An email bounced"),
}


@dataclass(frozen=True)
class RecordType:
    payload: Callable[[Model], dict]
    visible: Callable[..., QuerySet]
    # hidden_fields(user) -> payload fields that user may not see; None: the field rules of the
    # record's own model (crm.accounts.field_security).
    hidden_fields: Callable[..., frozenset[str]] | None = None


_record_types: dict[str, RecordType] = {}

logger = logging.getLogger(__name__)

# listener(event=, announcements=[(record, extra)], cause=) called on commit.
EventListener = Callable[..., None]
_listeners: list[EventListener] = []
_cause: ContextVar[tuple] = ContextVar("event_cause", default=())


def register_event_listener(listener: EventListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


@contextmanager
def event_cause_set(cause: tuple) -> Iterator[None]:
    """Within this block, events published carry `cause` to the listeners."""
    token = _cause.set(cause)
    try:
        yield
    finally:
        _cause.reset(token)


def _listeners_tell(*, event: str, announcements: list[tuple[Model, dict]], cause: tuple) -> None:
    for listener in _listeners:
        try:
            listener(event=event, announcements=announcements, cause=cause)
        except Exception:
            # The change is committed; a listener's failure must not turn the user's request
            # into an error after the fact. It is logged for the operators.
            logger.exception("event listener %r failed on %s", listener, event)


def register_record_type(
    *,
    model: type[Model],
    payload: Callable[[Model], dict],
    visible: Callable[..., QuerySet],
    hidden_fields: Callable[..., frozenset[str]] | None = None,
) -> None:
    """`payload(record)` gives the JSON-ready dict sent as the event's `data`; `visible(user=)`
    gives the records of this model that user may see; `hidden_fields(user)`, when the fields a
    user may not see are not the model's own field rules, names them."""
    _record_types[model._meta.label_lower] = RecordType(
        payload=payload, visible=visible, hidden_fields=hidden_fields
    )


def record_type_for(model: type[Model]) -> RecordType:
    try:
        return _record_types[model._meta.label_lower]
    except KeyError:
        raise LookupError(f"{model._meta.label} has no webhook record type registered") from None


def event_publish(*, event: str, record: Model, extra: dict | None = None) -> None:
    """Announce `event` about `record` once the current transaction commits. `extra` is added
    to the payload beside the record (for example the stage a deal left)."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    record_type_for(type(record))
    from crm.webhooks.services import webhook_deliveries_create

    cause = _cause.get()

    def announce() -> None:
        webhook_deliveries_create(event=event, record=record, extra=extra or {})
        _listeners_tell(event=event, announcements=[(record, extra or {})], cause=cause)

    transaction.on_commit(announce)


def event_publish_many(*, event: str, announcements: list[tuple[Model, dict]]) -> None:
    """`event_publish` for many records of one model (each with its `extra`), fanned out in
    one go on commit so a bulk write does not query the subscriptions once per record."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    if not announcements:
        return
    record_type_for(type(announcements[0][0]))
    from crm.webhooks.services import webhook_deliveries_create_many

    cause = _cause.get()

    def announce() -> None:
        webhook_deliveries_create_many(event=event, announcements=announcements)
        _listeners_tell(event=event, announcements=announcements, cause=cause)

    transaction.on_commit(announce)
