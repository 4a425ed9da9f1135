"""Telling a user about something: a notification row they see in their list until they read it.

Every other app notifies through `notification_send`, so a later live push (issue 6) is added in
one place.
"""

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.utils import timezone

from collaboration.models import Notification
from crm.accounts.models import User


def notification_send(
    *,
    recipient: User,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    related: Model | None = None,
) -> Notification:
    notification = Notification(
        recipient=recipient, kind=kind, title=title[:200], body=body, url=url[:500]
    )
    if related is not None:
        notification.related_type = ContentType.objects.get_for_model(related)
        notification.related_id = related.pk
    notification.save()
    return notification


def notifications_mark_read(
    *, recipient: User, notification_ids: Iterable[int] | None = None
) -> int:
    """Mark the recipient's unread notifications (all, or these) read; returns how many."""
    unread = Notification.objects.filter(recipient=recipient, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())
