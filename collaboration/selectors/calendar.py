"""Reads of the shared calendar, every one through the visibility rule (an event is its
organiser's; its attendees see it too), and the grids the calendar page draws from them.

Day boundaries are those of the current time zone, which on a page is the user's own
(crm.accounts.middleware). Weeks start on Monday.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Model,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast
from django.utils import timezone

from collaboration.models import CalendarFeed, Event, EventAttendee, EventGuest
from crm.accounts.field_security import field_access
from crm.accounts.models import Team, TeamMembership, User
from crm.accounts.selectors import (
    record_is_editable_by,
    records_visible_to,
    user_is_admin,
    user_team_ids,
)

# The kinds of record that may be an event's guest, as "app_label.model".
GUEST_TYPES = ("customers.customer",)

# An event lasts at most this long, so a range query can bound its scan by the start time (the
# starts_at index) and still find events that began before the range and run into it.
MAX_EVENT_DAYS = 31
UPCOMING_DAYS = 7
UPCOMING_LIMIT = 5

# A reminder further ahead than four weeks is not a reminder.
MAX_REMIND_MINUTES = 4 * 7 * 24 * 60

VIEWS = ("month", "week", "day")
SCOPES = ("mine", "team")

# The month grid shows this many events a day and "+n more" for the rest.
MONTH_DAY_LIMIT = 3

GUEST_SEARCH_LIMIT = 20

# The iCalendar feed serves this window around now, so a calendar app polling it stays cheap.
FEED_DAYS_BACK = 30
FEED_DAYS_AHEAD = 365


# Guests ------------------------------------------------------------------------------------------


def guest_content_type(label: str) -> ContentType | None:
    """The content type of a kind of record that may be a guest ("customers.customer")."""
    label = (label or "").strip().lower()
    if label not in GUEST_TYPES:
        return None
    app_label, _dot, model = label.partition(".")
    try:
        content_type = ContentType.objects.get_by_natural_key(app_label, model)
    except ContentType.DoesNotExist:
        return None
    return content_type if content_type.model_class() is not None else None


def guest_records_visible(
    *, user: User | None, content_type: ContentType, record_ids: list[int]
) -> dict[int, Model]:
    """The records among `record_ids` that `user` may see, by id (no user: the system, sees all)."""
    model = content_type.model_class()
    records = model._default_manager.filter(pk__in=record_ids)
    if user is not None:
        records = records_visible_to(user=user, queryset=records)
    return {record.pk: record for record in records}


def guest_search(*, user: User, query: str, limit: int = GUEST_SEARCH_LIMIT) -> list[Model]:
    """Customers `user` may see whose name, or email if they may see it, contains `query`, for
    the guest picker."""
    query = (query or "").strip()
    content_type = guest_content_type("customers.customer")
    if not query or content_type is None:
        return []
    model = content_type.model_class()
    records = records_visible_to(user=user, queryset=model._default_manager.all())
    matches = Q(name__icontains=query)
    if field_access(user=user, model=model).can_see("email"):
        matches |= Q(email__icontains=query)
    records = records.filter(matches)
    if any(f.name == "erased_at" for f in model._meta.get_fields()):
        records = records.filter(erased_at__isnull=True)
    return list(records.order_by("name", "pk")[:limit])


# Events ------------------------------------------------------------------------------------------


def _with_people(events: QuerySet[Event]) -> QuerySet[Event]:
    return events.select_related("organizer", "team", "related_type").prefetch_related(
        Prefetch("attendees", queryset=EventAttendee.objects.select_related("user")),
        Prefetch("guests", queryset=EventGuest.objects.select_related("guest_type")),
    )


def events_visible_to(*, user: User) -> QuerySet[Event]:
    return records_visible_to(user=user, queryset=Event.objects.all()).order_by("starts_at", "id")


def events_visible_detailed(*, user: User) -> QuerySet[Event]:
    """The events `user` may see, with organiser, team, attendees and guests read along."""
    return _with_people(events_visible_to(user=user))


def event_get_visible(*, user: User, pk: int) -> Event:
    """The event, attendees and guests read along, if `user` may see it; else Event.DoesNotExist."""
    return events_visible_detailed(user=user).get(pk=pk)


def _overlapping(events: QuerySet[Event], start: datetime, end: datetime) -> QuerySet[Event]:
    return events.filter(
        Q(ends_at__gt=start) | Q(starts_at__gte=start),
        starts_at__lt=end,
        starts_at__gte=start - timedelta(days=MAX_EVENT_DAYS),
    )


def _taking_part(user: User) -> Q:
    attending = EventAttendee.objects.filter(user=user).values("event_id")
    return Q(organizer=user) | Q(pk__in=attending)


def calendar_teams(*, user: User) -> QuerySet[Team]:
    """The teams whose calendar `user` may open: all of them for an admin, else their own."""
    teams = Team.objects.order_by("name")
    return teams if user_is_admin(user) else teams.filter(pk__in=user_team_ids(user))


def events_in_range(
    *,
    user: User,
    start: datetime,
    end: datetime,
    scope: str = "mine",
    team: Team | None = None,
) -> QuerySet[Event]:
    """The events `user` may see that overlap [start, end), with attendees and guests.

    "mine" is what they organise or attend; "team" the events of `team` (or of all their teams):
    filed under it or organised by one of its members.
    """
    events = _overlapping(events_visible_to(user=user), start, end)
    if scope == "team":
        team_ids = [team.pk] if team is not None else list(user_team_ids(user))
        members = TeamMembership.objects.filter(team_id__in=team_ids).values("user_id")
        events = events.filter(Q(team_id__in=team_ids) | Q(organizer_id__in=members))
    else:
        events = events.filter(_taking_part(user))
    return _with_people(events)


def events_upcoming(
    *, user: User, now: datetime, days: int = UPCOMING_DAYS, limit: int = UPCOMING_LIMIT
) -> list[Event]:
    """The next events `user` organises or attends within `days`, soonest first (the home page)."""
    events = _overlapping(events_visible_to(user=user), now, now + timedelta(days=days))
    return list(events.filter(_taking_part(user))[:limit])


def event_can_change(*, user: User | None, event: Event) -> bool:
    """Whether `user` may change or cancel `event`: its organiser, or someone who may edit it
    (their team, an edit share). No user is the system, which may."""
    if user is None:
        return True
    if not user.has_perm("collaboration.change_event"):
        return False
    return event.organizer_id == user.pk or record_is_editable_by(user=user, record=event)


def event_attendee(*, event: Event, user: User) -> EventAttendee | None:
    """`user`'s invitation to `event` (from the prefetched attendees when there are some)."""
    for attendee in event.attendees.all():
        if attendee.user_id == user.pk:
            return attendee
    return None


# The grids of the calendar page ------------------------------------------------------------------


@dataclass
class CalendarDay:
    day: date
    events: list[Event]
    in_period: bool = True
    is_today: bool = False
    more: int = 0
    hours: list[tuple[int, list[Event]]] = field(default_factory=list)


@dataclass
class CalendarGrid:
    view: str
    day: date
    start: date
    end: date  # exclusive
    previous: date
    next: date
    days: list[CalendarDay]

    @property
    def weeks(self) -> list[list[CalendarDay]]:
        return [self.days[index : index + 7] for index in range(0, len(self.days), 7)]


def start_of_day(day: date) -> datetime:
    """Midnight at the start of `day` in the current time zone."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _add_months(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 + months
    return date(month_index // 12, month_index % 12 + 1, 1)


def calendar_period(*, view: str, day: date) -> tuple[date, date, date, date]:
    """(first day shown, day after the last, the previous period's day, the next one's)."""
    if view == "day":
        return day, day + timedelta(days=1), day - timedelta(days=1), day + timedelta(days=1)
    if view == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=7), day - timedelta(days=7), day + timedelta(days=7)
    first = day.replace(day=1)
    following = _add_months(first, 1)
    start = first - timedelta(days=first.weekday())
    last = following - timedelta(days=1)
    end = last + timedelta(days=7 - last.weekday())
    return start, end, _add_months(first, -1), following


def _local_dates(event: Event, first: date, end: date) -> list[date]:
    """The days (in the current time zone) of [first, end) that `event` takes place on."""
    starts = timezone.localdate(event.starts_at)
    # An event ending exactly at midnight does not spill into the next day.
    ends = timezone.localtime(event.ends_at)
    last = (
        ends.date()
        if ends.time() != time.min or ends.date() == starts
        else ends.date() - timedelta(days=1)
    )
    day, days = max(starts, first), []
    while day <= last and day < end:
        days.append(day)
        day += timedelta(days=1)
    return days


def calendar_grid(
    *, user: User, view: str, day: date, scope: str = "mine", team: Team | None = None
) -> CalendarGrid:
    """The days of one month, week or day of `user`'s calendar with the events on each, read with
    a fixed number of queries however many events there are."""
    start, end, previous, following = calendar_period(view=view, day=day)
    events = list(
        events_in_range(
            user=user,
            start=start_of_day(start),
            end=start_of_day(end),
            scope=scope,
            team=team,
        )
    )
    today = timezone.localdate()
    by_day: dict[date, list[Event]] = {}
    for event in events:
        for event_day in _local_dates(event, start, end):
            by_day.setdefault(event_day, []).append(event)
    days = []
    current = start
    while current < end:
        day_events = sorted(
            by_day.get(current, []), key=lambda e: (not e.all_day, e.starts_at, e.pk)
        )
        calendar_day = CalendarDay(
            day=current,
            events=day_events,
            in_period=view != "month" or current.month == day.month,
            is_today=current == today,
        )
        if view == "month" and len(day_events) > MONTH_DAY_LIMIT:
            calendar_day.events = day_events[:MONTH_DAY_LIMIT]
            calendar_day.more = len(day_events) - MONTH_DAY_LIMIT
        if view == "day":
            calendar_day.hours = _by_hour(day_events, current)
        days.append(calendar_day)
        current += timedelta(days=1)
    return CalendarGrid(
        view=view, day=day, start=start, end=end, previous=previous, next=following, days=days
    )


def _by_hour(events: list[Event], day: date) -> list[tuple[int, list[Event]]]:
    """Events starting on `day` grouped by their local starting hour; those all day or begun on
    an earlier day come first, under hour -1."""
    hours: dict[int, list[Event]] = {}
    for event in events:
        local = timezone.localtime(event.starts_at)
        hour = -1 if event.all_day or local.date() < day else local.hour
        hours.setdefault(hour, []).append(event)
    return sorted(hours.items())


# Reminders and meetings to log (read by the services that act on them) --------------------------


def events_reminder_due(*, now: datetime) -> QuerySet[Event]:
    """Events not yet begun nor cancelled whose reminder time has come and not gone out."""
    lead_time = ExpressionWrapper(
        Cast("remind_minutes_before", IntegerField()) * Value(timedelta(minutes=1)),
        output_field=DurationField(),
    )
    return (
        Event.objects.filter(
            cancelled_at__isnull=True,
            reminded_at__isnull=True,
            remind_minutes_before__gt=0,
            starts_at__gte=now,
            starts_at__lte=now + timedelta(minutes=MAX_REMIND_MINUTES),
        )
        .alias(
            remind_at=ExpressionWrapper(F("starts_at") - lead_time, output_field=DateTimeField())
        )
        .filter(remind_at__lte=now)
    )


def meetings_to_log(*, now: datetime) -> QuerySet[Event]:
    """Meetings with customer guests that have ended, were not cancelled and are not logged."""
    return Event.objects.filter(
        kind=Event.Kind.MEETING,
        cancelled_at__isnull=True,
        logged_at__isnull=True,
        ends_at__lte=now,
        guests__isnull=False,
    ).distinct()


# The iCalendar feed ------------------------------------------------------------------------------


def calendar_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_feed_for_token(*, token: str) -> CalendarFeed | None:
    """The feed the token opens, with its (active) user; None for an unknown or revoked token."""
    return (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=calendar_token_hash(token), user__is_active=True)
        .first()
    )


def calendar_feed_of(*, user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user).first()


def calendar_feed_events(*, user: User, now: datetime | None = None) -> QuerySet[Event]:
    """The events `user` organises or attends from a month back to a year ahead, cancelled ones
    included (so a subscribed calendar app drops them)."""
    now = now or timezone.now()
    start = now - timedelta(days=FEED_DAYS_BACK)
    end = now + timedelta(days=FEED_DAYS_AHEAD)
    events = _overlapping(Event.objects.filter(_taking_part(user)), start, end)
    return events.select_related("organizer").order_by("starts_at", "id")
