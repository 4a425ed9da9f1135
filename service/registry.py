"""What the apps built on service contribute to it, without service importing them.

Analytics registers here from its AppConfig.ready():
- ticket-created listeners: called once a new ticket is committed (to read its text and suggest
  a category), never inside the ticket's transaction;
- ticket panels: boxes on a ticket's page (the suggested category and queue...).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TicketPanel:
    """A box beside a ticket's thread; it renders its own partial `template` with `context`
    (as `panel_context`)."""

    title: str
    template: str
    context: dict = field(default_factory=dict)


# provider(ticket, user) -> the panel, or None when there is nothing to show that user.
TicketPanelProvider = Callable[[Any, Any], TicketPanel | None]

_ticket_created_listeners: dict[str, Callable[[Any], None]] = {}
_ticket_panels: dict[str, tuple[int, TicketPanelProvider]] = {}


def register_ticket_created_listener(*, key: str, listener: Callable[[Any], None]) -> None:
    """listener(ticket) runs after the transaction that created the ticket has committed."""
    _ticket_created_listeners[key] = listener


def ticket_created_notify(ticket) -> None:
    """Tell every listener about a committed new ticket. A listener that fails is logged and
    skipped: whatever it adds is extra, and the ticket is already saved."""
    for key, listener in _ticket_created_listeners.items():
        try:
            listener(ticket)
        except Exception:
            logger.exception("ticket-created listener %s failed for ticket %s", key, ticket.pk)


def register_ticket_panel(*, key: str, order: int, provider: TicketPanelProvider) -> None:
    _ticket_panels[key] = (order, provider)


def ticket_panels_for(ticket, user) -> list[TicketPanel]:
    """The panels registered providers offer `user` on `ticket`'s page, in their order."""
    providers = sorted(_ticket_panels.values(), key=lambda entry: entry[0])
    return [panel for _order, provider in providers if (panel := provider(ticket, user))]
