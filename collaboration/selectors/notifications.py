"""Reads of notifications and of how each user wants them. A notification is its recipient's
alone: nobody else lists it, an administrator included. The bell and the list show only the
notifications kept in the app; those a user wanted by email only wait for the digest."""

from django.db.models import QuerySet

from collaboration.models import Notification, NotificationPreference
from crm.accounts.models import User

# A kind without a preference row: shown in the app, left out of the email digest.
DEFAULT_IN_APP = True
DEFAULT_EMAIL_DIGEST = False


def notification_list_for(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's in-app notifications, newest first; only the unread ones when asked."""
    if not user.is_authenticated:
        return Notification.objects.none()
    notifications = Notification.objects.filter(recipient=user, in_app=True)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.select_related("related_type").order_by("-created_at", "-id")


def notification_get_for(*, user: User, pk: int) -> Notification:
    """The user's notification; Notification.DoesNotExist for anyone else's."""
    return notification_list_for(user=user).get(pk=pk)


def notification_unread_count(*, user: User) -> int:
    """How many in-app notifications the user has not read (the bell's badge)."""
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True, in_app=True).count()


def notification_delivery_for(*, user: User, kind: str) -> tuple[bool, bool]:
    """(in the app, in the email digest) for one kind, as the user set it."""
    preference = (
        NotificationPreference.objects.filter(user=user, kind=kind)
        .values_list("in_app", "email_digest")
        .first()
    )
    return preference or (DEFAULT_IN_APP, DEFAULT_EMAIL_DIGEST)


def notification_preferences_for(*, user: User) -> list[tuple[str, str, bool, bool]]:
    """(kind, label, in the app, in the email digest) for every kind, in the kinds' order."""
    saved = {
        kind: (in_app, email_digest)
        for kind, in_app, email_digest in NotificationPreference.objects.filter(
            user=user
        ).values_list("kind", "in_app", "email_digest")
    }
    return [
        (kind, label, *saved.get(kind, (DEFAULT_IN_APP, DEFAULT_EMAIL_DIGEST)))
        for kind, label in Notification.Kind.choices
    ]
