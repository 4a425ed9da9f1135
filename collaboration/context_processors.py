"""Template context every page needs from collaboration: the bell's unread count."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from collaboration.selectors.notifications import notification_unread_count


def unread_count_for(request: HttpRequest) -> int:
    """The signed-in user's unread count, kept for the rest of the request once counted, so the
    bell and the page showing it cost one query between them. A view that marks notifications
    read asks for it only afterwards."""
    if not hasattr(request, "_notification_unread_count"):
        request._notification_unread_count = notification_unread_count(user=request.user)
    return request._notification_unread_count


def notifications(request: HttpRequest) -> dict:
    """`notification_unread_count` for a signed-in user, counted only when a template uses it;
    nothing (and no query) for anyone else."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notification_unread_count": SimpleLazyObject(lambda: unread_count_for(request))}
