"""Signals a higher app sends so that a lower one can act without the higher app importing it
(collaboration tells customers a meeting took place). Receivers connect in their AppConfig.ready().
"""

from django.dispatch import Signal

meeting_held = Signal()
"""A meeting with customers has taken place; sent once per meeting, inside the transaction that
marks it logged, so what a receiver writes commits (or rolls back) with that mark.

Keyword arguments:
- event_id (int): the calendar event (collaboration.Event);
- title (str): the event's title;
- summary (str): its description, as the organiser wrote it;
- starts_at, ends_at (datetime, aware): when it began and ended;
- guest_ids (list[int]): the customers.Customer ids of its guests;
- handled_by (User | None): the organiser;
- location (str): where it was held, "" when not said.
"""

webhook_subscription_disabled = Signal()
"""A webhook subscription was switched off after too many failed deliveries in a row; sent on
commit, so its owner can be told.

Keyword arguments:
- subscription_id (int), name (str), owner (User), reason (str), url (str): its page.
"""
