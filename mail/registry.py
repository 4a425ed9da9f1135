"""What the apps built on customers contribute to email, without mail importing them.

Sales and service register here from their AppConfig.ready():
- thread kinds: the records mail can be sent from and threaded back to (deals, tickets), each
  with the prefix of its reply token, its template placeholders, and what it does with a reply;
- thread openers: what mail to a mailbox of some purpose opens when it belongs to no thread
  (a ticket, for a support mailbox);
- engagement listeners: told when campaign mail is opened, clicked, bounced or unsubscribed
  from, so the campaign's own counts follow.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class InboundAttachment:
    name: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class InboundMail:
    """A received message, parsed: what the thread kinds and openers are given."""

    message_id: str
    from_address: str
    from_name: str = ""
    to_addresses: tuple[str, ...] = ()
    cc_addresses: tuple[str, ...] = ()
    subject: str = ""
    text: str = ""
    html: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    date: datetime | None = None
    # Only the attachments that passed the upload checks.
    attachments: tuple[InboundAttachment, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ThreadKind:
    # The model, as "app_label.model_name" (lower case).
    model: str
    # The reply token's prefix in subjects: "T" makes "[#T42-1a2b3c]".
    prefix: str
    # The EmailTemplate.Context its templates are written for.
    context: str
    # The mailbox purpose whose address replies go to when the thread has none yet.
    mailbox_purpose: str
    # record -> its customer (who mail from the record is written to).
    customer_of: Callable[[Any], Any]
    # (record, language) -> {"deal.amount": "¥12,000.00", ...}: its template placeholders.
    placeholders: Callable[[Any, str], dict[str, str]]
    # Placeholder names with their labels, for the template form; the same keys as above.
    placeholder_labels: dict[str, Any]
    # (record, mail, customer) -> the Interaction the reply was recorded as on the record (a
    # ticket message from the customer), or None to have mail log a plain email interaction.
    take_reply: Callable[[Any, InboundMail, Any], Any] | None = None
    # (actor, record, subject, body) -> the Interaction the record keeps for mail sent from it
    # (a public ticket reply), or None to have mail log a plain email interaction.
    record_sent: Callable[[Any, Any, str, str], Any] | None = None


# (mailbox, mail, customer) -> (record opened, the Interaction it was recorded as).
ThreadOpener = Callable[[Any, InboundMail, Any], tuple[Any, Any]]
# (message, event) with event one of "opened", "clicked", "bounced", "complained",
# "unsubscribed".
EngagementListener = Callable[[Any, str], None]

_thread_kinds: dict[str, ThreadKind] = {}
_thread_openers: dict[str, ThreadOpener] = {}
_engagement_listeners: list[EngagementListener] = []


def register_thread_kind(kind: ThreadKind) -> None:
    _thread_kinds[kind.model] = kind


def register_thread_opener(*, purpose: str, opener: ThreadOpener) -> None:
    _thread_openers[purpose] = opener


def register_engagement_listener(listener: EngagementListener) -> None:
    if listener not in _engagement_listeners:
        _engagement_listeners.append(listener)


def thread_kind_for_model(model: str) -> ThreadKind | None:
    return _thread_kinds.get(model)


def thread_kind_for_prefix(prefix: str) -> ThreadKind | None:
    return next((kind for kind in _thread_kinds.values() if kind.prefix == prefix), None)


def thread_kinds() -> list[ThreadKind]:
    return list(_thread_kinds.values())


def thread_opener_for(purpose: str) -> ThreadOpener | None:
    return _thread_openers.get(purpose)


def engagement_listeners() -> list[EngagementListener]:
    return list(_engagement_listeners)
