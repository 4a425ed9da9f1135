"""Telling a user about something: a notification row in their bell and list until they read it,
and/or a line in their daily email digest, as their preferences for its kind say.

Every other app notifies through `notification_send`, so preferences and the live push to the
user's open tabs are applied in one place.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db.models import Model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from collaboration.live import live_send_on_commit, user_group
from collaboration.models import Notification, NotificationPreference
from collaboration.selectors.notifications import (
    notification_delivery_for,
    notification_unread_count,
)
from crm.accounts.models import User
from crm.accounts.selectors import user_time_zone

logger = logging.getLogger(__name__)

# Users whose digests are built together: one query for the users, one for their notifications.
DIGEST_CHUNK_SIZE = 200
# A digest lists at most this many notifications, newest first, and counts the rest.
DIGEST_MAX_ITEMS = 50


def _notification_frame(notification: Notification) -> dict:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "created_at": notification.created_at.isoformat(),
    }


def notification_send(
    *,
    recipient: User,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    related: Model | None = None,
) -> Notification | None:
    """Notify the recipient as their preference for `kind` says: in the app (pushed at once to
    their open tabs), in the next email digest, both, or not at all (then nothing is stored and
    None is returned)."""
    in_app, email_digest = notification_delivery_for(user=recipient, kind=kind)
    if not in_app and not email_digest:
        return None
    notification = Notification(
        recipient=recipient,
        kind=kind,
        title=title[:200],
        body=body,
        url=url[:500],
        in_app=in_app,
        email_pending=email_digest,
    )
    if related is not None:
        notification.related_type = ContentType.objects.get_for_model(related)
        notification.related_id = related.pk
    notification.save()
    if in_app:
        live_send_on_commit(
            group=user_group(recipient.pk),
            payload={
                "type": "notification",
                "notification": _notification_frame(notification),
                "unread": notification_unread_count(user=recipient),
            },
        )
    return notification


def notifications_mark_read(
    *, recipient: User, notification_ids: Iterable[int] | None = None
) -> int:
    """Mark the recipient's unread notifications (all, or these) read; returns how many. Their
    open tabs hear the new unread count, so every bell agrees."""
    unread = Notification.objects.filter(recipient=recipient, in_app=True, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    marked = unread.update(read_at=timezone.now())
    if marked:
        live_send_on_commit(
            group=user_group(recipient.pk),
            payload={
                "type": "notification.read",
                "unread": notification_unread_count(user=recipient),
            },
        )
    return marked


# Preferences -------------------------------------------------------------------------------------


def notification_preferences_save(
    *, user: User, values: Mapping[str, Mapping[str, bool]]
) -> list[NotificationPreference]:
    """Store how the user wants each kind named in `values` ({kind: {"in_app": bool,
    "email_digest": bool}}) and return those preferences; kinds left out keep their
    setting. An unknown kind refuses the whole change."""
    unknown = sorted(set(values) - set(Notification.Kind.values))
    if unknown:
        raise ValidationError(
            {"kind": _("Unknown notification kinds: %(kinds)s.") % {"kinds": ", ".join(unknown)}},
            code="invalid",
        )
    return NotificationPreference.objects.bulk_create(
        [
            NotificationPreference(
                user=user,
                kind=kind,
                in_app=bool(value.get("in_app")),
                email_digest=bool(value.get("email_digest")),
            )
            for kind, value in values.items()
        ],
        update_conflicts=True,
        unique_fields=["user", "kind"],
        update_fields=["in_app", "email_digest"],
    )


def notification_preference_delete(*, preference: NotificationPreference) -> None:
    """Forget one preference: its kind goes back to the default (in the app, no email)."""
    preference.delete()


# Email digest ------------------------------------------------------------------------------------


def _absolute(url: str) -> str:
    return url if url.startswith(("http://", "https://")) else settings.CRM_SITE_URL + url


def _digest_email(user: User, notifications: list[Notification]) -> EmailMultiAlternatives:
    language = user.language or settings.LANGUAGE_CODE
    shown = notifications[:DIGEST_MAX_ITEMS]
    list_url = _absolute(reverse("collaboration:notification_list"))
    context = {
        "user": user,
        "count": len(notifications),
        "more": len(notifications) - len(shown),
        "items": [
            {
                "title": notification.title,
                "kind": notification.get_kind_display(),
                "created_at": notification.created_at,
                "url": _absolute(notification.url) if notification.url else list_url,
            }
            for notification in shown
        ],
        "list_url": list_url,
        "preferences_url": _absolute(reverse("collaboration:notification_preferences")),
    }
    # In the recipient's language and time zone, not the worker's.
    with translation.override(language), timezone.override(user_time_zone(user)):
        subject = render_to_string("collaboration/email/notification_digest_subject.txt", context)
        text = render_to_string("collaboration/email/notification_digest.txt", context)
        html = render_to_string("collaboration/email/notification_digest.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=[user.email],
        headers={"Content-Language": language},
    )
    message.attach_alternative(html, "text/html")
    return message


def _pending_recipient_ids(*, until: datetime, after: int, limit: int) -> list[int]:
    return list(
        Notification.objects.filter(
            email_pending=True, created_at__lte=until, recipient_id__gt=after
        )
        .order_by("recipient_id")
        .values_list("recipient_id", flat=True)
        .distinct()[:limit]
    )


def notifications_send_digests(*, now: datetime | None = None) -> int:
    """Email each user one digest of the notifications waiting for it (created up to `now`),
    then take those off the waiting list; returns how many emails were sent.

    A user without an email address (or no longer active) gets none and their notifications
    stop waiting. A mail
    server that refuses one email is logged and leaves that user's notifications waiting for
    the next run; anything already sent is taken off the list even when the run stops midway,
    so a retry sends nobody the same digest twice.
    """
    until = now or timezone.now()
    sent = 0
    after = 0
    while recipient_ids := _pending_recipient_ids(
        until=until, after=after, limit=DIGEST_CHUNK_SIZE
    ):
        after = recipient_ids[-1]
        users = User.objects.in_bulk(recipient_ids)
        pending: dict[int, list[Notification]] = defaultdict(list)
        for notification in Notification.objects.filter(
            recipient_id__in=recipient_ids, email_pending=True, created_at__lte=until
        ).order_by("-created_at", "-id"):
            pending[notification.recipient_id].append(notification)
        done: list[int] = []
        try:
            for user_id, notifications in pending.items():
                user = users[user_id]
                if user.email and user.is_active:
                    try:
                        _digest_email(user, notifications).send()
                    except OSError:
                        logger.warning(
                            "notification digest to user %s failed", user_id, exc_info=True
                        )
                        continue
                    sent += 1
                done.append(user_id)
        finally:
            Notification.objects.filter(
                recipient_id__in=done, email_pending=True, created_at__lte=until
            ).update(email_pending=False)
    return sent
