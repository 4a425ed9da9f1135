"""Reads of notifications. A notification is its recipient's alone: nobody else lists it, an
administrator included."""

from django.db.models import QuerySet

from collaboration.models import Notification
from crm.accounts.models import User


def notification_list_for(*, user: User, unread: bool | None = None) -> QuerySet[Notification]:
    """The user's notifications, newest first; only the unread (or read) ones when asked."""
    if not user.is_authenticated:
        return Notification.objects.none()
    notifications = Notification.objects.filter(recipient=user)
    if unread is not None:
        notifications = notifications.filter(read_at__isnull=unread)
    return notifications.select_related("related_type").order_by("-created_at", "-id")


def notification_get_for(*, user: User, pk: int) -> Notification:
    """The user's notification; Notification.DoesNotExist for anyone else's."""
    return notification_list_for(user=user).get(pk=pk)


def notification_unread_count(*, user: User) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
