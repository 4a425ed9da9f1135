"""Planning, changing and cancelling events on the shared calendar, the answers of those invited,
the reminders before an event, the logging of a held meeting on its customers' timelines, and the
private iCalendar feed: the one path the pages, the API, the admin and the Celery beat all use.

An event is its organiser's. The organiser, and whoever else may edit it under the visibility
rule (their team, an edit share), may change or cancel it; attendees may only answer. A change
names the `version` it was made from and is refused when the event has moved on.
"""

import contextlib
import logging
import secrets
import zoneinfo
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from collaboration.models import CalendarFeed, Event, EventAttendee, EventGuest, Notification
from collaboration.selectors.calendar import (
    GUEST_TYPES,
    MAX_EVENT_DAYS,
    MAX_REMIND_MINUTES,
    calendar_token_hash,
    event_can_change,
    events_reminder_due,
    guest_content_type,
    guest_records_visible,
    meetings_to_log,
)
from collaboration.selectors.tasks import (
    TASK_RELATED_TYPES,
    content_type_label,
    related_record_visible,
)
from collaboration.services.notifications import notification_send
from crm.accounts.models import User
from crm.accounts.selectors import user_default_team_id
from crm.activity.models import ActivityEvent
from crm.activity.services import activity_record
from crm.batching import in_pk_chunks
from crm.concurrency import version_check
from crm.signals import meeting_held

logger = logging.getLogger(__name__)

EVENT_EDITABLE_FIELDS = (
    "title",
    "description",
    "kind",
    "starts_at",
    "ends_at",
    "all_day",
    "location",
    "video_url",
    "team",
    "related_type",
    "related_id",
    "remind_minutes_before",
)

# The beat works through events a chunk at a time, so one run never holds a huge result set.
CHUNK_SIZE = 500

# (app_label.model, id) of a record invited as a guest: ("customers.customer", 42).
GuestRef = tuple[str, int]


# Checks ------------------------------------------------------------------------------------------


def _refuse_unknown(values: dict[str, Any]) -> None:
    unknown = set(values) - set(EVENT_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be set here.") for name in sorted(unknown)}
        )


def _require_perm(actor: User | None, permission: str) -> None:
    """No actor is the system itself (the beat, the demo), which may do anything."""
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied


def _require_change(actor: User | None, event: Event) -> None:
    if not event_can_change(user=actor, event=event):
        raise PermissionDenied


def _check_times(event: Event) -> None:
    if event.starts_at is None or event.ends_at is None:
        return
    if event.ends_at < event.starts_at:
        raise ValidationError({"ends_at": _("The event cannot end before it starts.")})
    if event.ends_at - event.starts_at > timedelta(days=MAX_EVENT_DAYS):
        raise ValidationError(
            {"ends_at": _("An event lasts at most %(days)d days.") % {"days": MAX_EVENT_DAYS}}
        )


def _check_video_url(event: Event) -> None:
    if event.video_url and not event.video_url.lower().startswith(("http://", "https://")):
        raise ValidationError(
            {"video_url": _("The video link must start with http:// or https://.")}
        )


def _check_remind(event: Event) -> None:
    if event.remind_minutes_before > MAX_REMIND_MINUTES:
        raise ValidationError(
            {
                "remind_minutes_before": _("At most %(max)d minutes (four weeks).")
                % {"max": MAX_REMIND_MINUTES}
            }
        )


def _check_related(event: Event, *, actor: User | None) -> None:
    if event.related_type_id is None and event.related_id is None:
        return
    if event.related_type_id is None:
        raise ValidationError({"related_type": _("Say what kind of record the event is about.")})
    if event.related_id is None:
        raise ValidationError({"related_id": _("Say which record the event is about.")})
    if content_type_label(event.related_type) not in TASK_RELATED_TYPES:
        raise ValidationError(
            {"related_type": _("An event cannot be about a record of this kind.")}
        )
    record = related_record_visible(
        user=actor, content_type=event.related_type, record_id=event.related_id
    )
    if record is None:
        raise ValidationError({"related_id": _("No such record.")})


def _clean(event: Event, *, actor: User | None, related_changed: bool = True) -> None:
    event.title = (event.title or "").strip()
    if not event.title:
        raise ValidationError({"title": _("Give the event a title.")})
    _check_times(event)
    _check_video_url(event)
    _check_remind(event)
    if related_changed:
        _check_related(event, actor=actor)
    event.full_clean()


def _attendees_resolved(attendee_ids: Iterable[int], *, organizer_id: int | None) -> list[User]:
    """The users invited, the organiser left out (they need no invitation to their own event)."""
    try:
        ids = {int(pk) for pk in attendee_ids}
    except (TypeError, ValueError) as exc:
        raise ValidationError({"attendee_ids": _("Name attendees by their user id.")}) from exc
    ids.discard(organizer_id)
    users = list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))
    missing = ids - {user.pk for user in users}
    if missing:
        raise ValidationError(
            {
                "attendee_ids": _("These users are not active users: %(ids)s.")
                % {"ids": ", ".join(str(pk) for pk in sorted(missing))}
            }
        )
    return users


def _guest_keys(guests: Iterable[GuestRef]) -> dict[tuple[int, int], ContentType]:
    """(content type id, record id) of each guest named, checked to be a kind of guest."""
    keys = {}
    for label, record_id in guests:
        content_type = guest_content_type(label)
        if content_type is None:
            raise ValidationError(
                {
                    "guests": _("Guests are customers (%(types)s), not “%(label)s”.")
                    % {"types": ", ".join(GUEST_TYPES), "label": label}
                }
            )
        try:
            keys[(content_type.pk, int(record_id))] = content_type
        except (TypeError, ValueError) as exc:
            raise ValidationError({"guests": _("Name each guest by its id.")}) from exc
    return keys


def _guests_resolved(
    keys: dict[tuple[int, int], ContentType], *, actor: User | None
) -> list[EventGuest]:
    """Unsaved guest rows for the records named, each of which the actor must be able to see."""
    wanted: dict[ContentType, set[int]] = {}
    for (_type_id, record_id), content_type in keys.items():
        wanted.setdefault(content_type, set()).add(record_id)
    rows = []
    for content_type, record_ids in wanted.items():
        records = guest_records_visible(
            user=actor, content_type=content_type, record_ids=sorted(record_ids)
        )
        missing = record_ids - set(records)
        if missing:
            raise ValidationError(
                {
                    "guests": _("No such customers: %(ids)s.")
                    % {"ids": ", ".join(str(pk) for pk in sorted(missing))}
                }
            )
        rows.extend(
            EventGuest(
                guest_type=content_type,
                guest_id=record.pk,
                name=str(record)[:200],
                email=getattr(record, "email", "") or "",
            )
            for record in records.values()
        )
    return rows


# Notices -----------------------------------------------------------------------------------------


def _event_url(event: Event) -> str:
    return reverse("collaboration:event_detail", args=[event.pk])


def _in_recipients_zone(recipient: User, moment: datetime) -> str:
    zone = timezone.get_current_timezone()
    if recipient.time_zone:
        with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo(recipient.time_zone)
    return formats.date_format(timezone.localtime(moment, zone), "SHORT_DATETIME_FORMAT")


def _notify(event: Event, *, recipient: User, kind: str, what: str) -> None:
    # Written in the recipient's language and time zone, not the sender's or the worker's.
    with translation.override(recipient.language or translation.get_language()):
        values = {"title": event.title, "at": _in_recipients_zone(recipient, event.starts_at)}
        titles = {
            "invited": _("Invitation: %(title)s on %(at)s"),
            "moved": _("Moved: %(title)s is now on %(at)s"),
            "cancelled": _("Cancelled: %(title)s on %(at)s"),
            "reminder": _("Starting soon: %(title)s at %(at)s"),
        }
        notification_send(
            recipient=recipient,
            kind=kind,
            title=titles[what] % values,
            body=event.description[:1000],
            url=_event_url(event),
            related=event,
        )


def _notify_all(event: Event, users: Iterable[User], *, actor: User | None, what: str) -> None:
    kind = (
        Notification.Kind.EVENT_REMINDER
        if what == "reminder"
        else Notification.Kind.EVENT_INVITATION
    )
    for user in users:
        if actor is None or user.pk != actor.pk:
            _notify(event, recipient=user, kind=kind, what=what)


# Writes ------------------------------------------------------------------------------------------


def event_create(
    *,
    actor: User | None,
    values: dict[str, Any],
    attendee_ids: Iterable[int] = (),
    guests: Iterable[GuestRef] = (),
) -> Event:
    """Plan an event organised by `actor`, filed under their first team unless told otherwise;
    each attendee gets an invitation."""
    _refuse_unknown(values)
    _require_perm(actor, "collaboration.add_event")
    event = Event(**values)
    event.organizer = actor
    if "team" not in values:
        event.team_id = user_default_team_id(actor)
    _clean(event, actor=actor)
    attendees = _attendees_resolved(attendee_ids, organizer_id=event.organizer_id)
    guest_rows = _guests_resolved(_guest_keys(guests), actor=actor)
    with transaction.atomic():
        event.save()
        EventAttendee.objects.bulk_create(
            [EventAttendee(event=event, user=user) for user in attendees]
        )
        for row in guest_rows:
            row.event = event
        EventGuest.objects.bulk_create(guest_rows)
        _notify_all(event, attendees, actor=actor, what="invited")
    return event


def _event_lock(event: Event) -> Event:
    return Event.objects.select_for_update(of=("self",)).get(pk=event.pk)


def _sync_attendees(event: Event, attendee_ids: Iterable[int]) -> list[User]:
    """Invite the users newly named and drop those left out (answers of the others are kept);
    returns the newly invited."""
    wanted = {
        user.pk: user for user in _attendees_resolved(attendee_ids, organizer_id=event.organizer_id)
    }
    current = set(event.attendees.values_list("user_id", flat=True))
    event.attendees.exclude(user_id__in=wanted).delete()
    added = [user for pk, user in wanted.items() if pk not in current]
    EventAttendee.objects.bulk_create([EventAttendee(event=event, user=user) for user in added])
    return added


def _sync_guests(event: Event, guests: Iterable[GuestRef], *, actor: User | None) -> None:
    """Make the event's guests those named. Only the newly named must be visible to the actor:
    a colleague editing the event keeps the guests the organiser invited."""
    wanted = _guest_keys(guests)
    current = {(guest.guest_type_id, guest.guest_id): guest.pk for guest in event.guests.all()}
    EventGuest.objects.filter(
        pk__in=[pk for key, pk in current.items() if key not in wanted]
    ).delete()
    new = _guests_resolved(
        {key: value for key, value in wanted.items() if key not in current}, actor=actor
    )
    for row in new:
        row.event = event
    EventGuest.objects.bulk_create(new)


def event_update(
    *,
    actor: User | None,
    event: Event,
    values: dict[str, Any],
    version: int | str | None,
    attendee_ids: Iterable[int] | None = None,
    guests: Iterable[GuestRef] | None = None,
) -> Event:
    """Change an event made from `version`. Attendees and guests, when given, replace the old
    lists. A new start time re-arms the reminder and tells the attendees; new attendees get an
    invitation."""
    _refuse_unknown(values)
    _require_change(actor, event)
    with transaction.atomic():
        locked = _event_lock(event)
        version_check(record=locked, given_version=version)
        if locked.cancelled_at is not None:
            raise ValidationError(_("A cancelled event cannot be changed."))
        changed = {name for name, value in values.items() if getattr(locked, name) != value}
        for name in changed:
            setattr(locked, name, values[name])
        if changed & {"starts_at", "remind_minutes_before"}:
            locked.reminded_at = None
        _clean(locked, actor=actor, related_changed=bool(changed & {"related_type", "related_id"}))
        locked.version += 1
        locked.save()
        added = _sync_attendees(locked, attendee_ids) if attendee_ids is not None else []
        if guests is not None:
            _sync_guests(locked, guests, actor=actor)
        _notify_all(locked, added, actor=actor, what="invited")
        if changed & {"starts_at", "ends_at"}:
            added_ids = {user.pk for user in added}
            others = [
                attendee.user
                for attendee in locked.attendees.select_related("user")
                if attendee.user_id not in added_ids
                and attendee.response != EventAttendee.Response.DECLINED
            ]
            _notify_all(locked, others, actor=actor, what="moved")
    return locked


def event_cancel(*, actor: User | None, event: Event, version: int | str | None) -> Event:
    """Call the event off; it stays on the calendar, marked cancelled, and its attendees hear of
    it. Cancelling a cancelled event changes nothing."""
    _require_change(actor, event)
    with transaction.atomic():
        locked = _event_lock(event)
        version_check(record=locked, given_version=version)
        if locked.cancelled_at is not None:
            return locked
        locked.cancelled_at = timezone.now()
        locked.version += 1
        locked.save(update_fields=["cancelled_at", "version", "updated_at"])
        attendees = [
            attendee.user
            for attendee in locked.attendees.select_related("user")
            if attendee.response != EventAttendee.Response.DECLINED
        ]
        _notify_all(locked, attendees, actor=actor, what="cancelled")
    return locked


def event_respond(*, user: User, event: Event, response: str) -> EventAttendee:
    """`user`'s answer to their invitation: accepted, declined or tentative (maybe)."""
    answers = {
        EventAttendee.Response.ACCEPTED,
        EventAttendee.Response.DECLINED,
        EventAttendee.Response.TENTATIVE,
    }
    if response not in answers:
        raise ValidationError(
            {"response": _("Answer accepted, declined or tentative.")}, code="invalid"
        )
    if event.cancelled_at is not None:
        raise ValidationError(_("The event was cancelled."))
    attendee = EventAttendee.objects.filter(event=event, user=user).first()
    if attendee is None:
        raise PermissionDenied
    if attendee.response != response:
        attendee.response = response
        attendee.save(update_fields=["response"])
    return attendee


def event_delete(*, actor: User | None, event: Event) -> None:
    """Remove the event for good (cancelling keeps it on the calendar and tells the attendees)."""
    _require_perm(actor, "collaboration.delete_event")
    _require_change(actor, event)
    event.delete()


# Reminders and held meetings (the beat runs these every few minutes) -----------------------------


def events_send_reminders(*, now: datetime | None = None) -> int:
    """Remind the organiser and every attendee who has not declined, once, of the events whose
    reminder time has come. Returns how many events were reminded of.

    Each event is claimed with a conditional UPDATE before its notices are written, so two runs at
    once (a slow beat overlapping the next) remind once, not twice.
    """
    now = now or timezone.now()
    reminded = 0
    due = events_reminder_due(now=now).select_related("organizer")
    for chunk in in_pk_chunks(due, size=CHUNK_SIZE):
        attendees: dict[int, list[User]] = {}
        for attendee in (
            EventAttendee.objects.filter(event__in=chunk, user__is_active=True)
            .exclude(response=EventAttendee.Response.DECLINED)
            .select_related("user")
        ):
            attendees.setdefault(attendee.event_id, []).append(attendee.user)
        for event in chunk:
            with transaction.atomic():
                claimed = Event.objects.filter(
                    pk=event.pk,
                    reminded_at__isnull=True,
                    cancelled_at__isnull=True,
                    starts_at=event.starts_at,
                ).update(reminded_at=now)
                if not claimed:
                    continue
                recipients = list(attendees.get(event.pk, []))
                if event.organizer is not None and event.organizer.is_active:
                    recipients.insert(0, event.organizer)
                _notify_all(event, recipients, actor=None, what="reminder")
                reminded += 1
    return reminded


def _meeting_summary(event: Event) -> str:
    parts = [event.description.strip()]
    if event.location:
        parts.append(_("Where: %(location)s") % {"location": event.location})
    return "\n\n".join(part for part in parts if part)


def events_log_meetings(*, now: datetime | None = None) -> int:
    """Log each meeting with customer guests that has ended on those customers' timelines, once
    (through crm.signals.meeting_held, which customers listens to), and in the team's activity
    feed. Returns how many meetings were logged.

    The claim, what the receivers write and the activity entry commit together: a receiver that
    fails leaves the meeting unlogged for the next run, and the others still go through.
    """
    now = now or timezone.now()
    logged = 0
    to_log = meetings_to_log(now=now).select_related("organizer", "team")
    for chunk in in_pk_chunks(to_log, size=CHUNK_SIZE):
        guest_ids: dict[int, list[int]] = {}
        customer_type = guest_content_type("customers.customer")
        for guest in EventGuest.objects.filter(event__in=chunk, guest_type=customer_type):
            guest_ids.setdefault(guest.event_id, []).append(guest.guest_id)
        for event in chunk:
            try:
                with transaction.atomic():
                    claimed = Event.objects.filter(
                        pk=event.pk,
                        logged_at__isnull=True,
                        cancelled_at__isnull=True,
                        ends_at=event.ends_at,
                    ).update(logged_at=now)
                    if not claimed:
                        continue
                    meeting_held.send(
                        sender=Event,
                        event_id=event.pk,
                        title=event.title,
                        summary=_meeting_summary(event),
                        starts_at=event.starts_at,
                        ends_at=event.ends_at,
                        guest_ids=sorted(guest_ids.get(event.pk, [])),
                        handled_by=event.organizer,
                        location=event.location,
                    )
                    activity_record(
                        verb=ActivityEvent.Verb.MEETING_HELD,
                        summary=event.title,
                        actor=event.organizer,
                        team=event.team,
                        target=event,
                        url=_event_url(event),
                    )
            except Exception:
                # One meeting a receiver refuses must not hold up all the others; it is retried.
                logger.exception("Logging meeting %s failed", event.pk)
                continue
            logged += 1
    return logged


# The iCalendar feed ------------------------------------------------------------------------------


def calendar_feed_create(*, user: User) -> str:
    """Give `user` a private feed address and return its token; only its hash is kept, so this is
    the one time it can be shown. Any earlier token stops working."""
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(
        user=user, defaults={"token_hash": calendar_token_hash(token), "last_used_at": None}
    )
    return token


def calendar_feed_revoke(*, user: User) -> None:
    CalendarFeed.objects.filter(user=user).delete()


def calendar_feed_mark_used(*, feed: CalendarFeed, now: datetime | None = None) -> None:
    now = now or timezone.now()
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
