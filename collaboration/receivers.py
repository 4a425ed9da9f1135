"""Receivers of the ground floor's signals, connected in CollaborationConfig.ready()."""

from django.utils import translation
from django.utils.translation import gettext as _

from collaboration.models import Notification
from collaboration.services.notifications import notification_send


def notify_webhook_disabled(sender, *, owner, name: str, reason: str, url: str, **kwargs) -> None:
    """Tell a webhook's owner that it was switched off after too many failed deliveries."""
    if not owner.is_active:
        return
    with translation.override(owner.language or translation.get_language()):
        title = _("Your webhook “%(name)s” was switched off") % {"name": name}
    notification_send(
        recipient=owner,
        kind=Notification.Kind.WEBHOOK_DISABLED,
        title=title,
        body=reason,
        url=url,
    )
