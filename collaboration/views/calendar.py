"""Pages of the shared calendar: the month, week and day grids, an event's page and its forms,
the guest picker's search, and the private iCalendar feed a calendar app subscribes to.

A customer, deal or ticket page links to the new-event form with the record filled in:
`/collaboration/calendar/events/new/?related_type=sales.deal&related_id=42`; a day of the grid
with `?start=2026-05-04T10:00`.
"""

from datetime import UTC, date

import icalendar
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from collaboration.forms_calendar import CUSTOMER, EventForm, RespondForm
from collaboration.models import Event
from collaboration.selectors import calendar as selectors
from collaboration.selectors.tasks import (
    content_type_label,
    related_content_type,
    related_record_visible,
)
from collaboration.services import calendar as services
from crm.concurrency import StaleRecordError
from crm.home import HomeEntry, HomeList
from crm.pages import form_errors_from_service
from customers.registry import record_url


def _event_url(event: Event) -> str:
    return reverse("collaboration:event_detail", args=[event.pk])


def _event_or_404(request: HttpRequest, pk: int) -> Event:
    try:
        return selectors.event_get_visible(user=request.user, pk=pk)
    except Event.DoesNotExist as exc:
        raise Http404(_("No such event.")) from exc


def _related(user, label: str, record_id) -> tuple[object | None, str]:
    """The record an event is about, when `user` may see it, and the address of its page."""
    content_type = related_content_type(label) if label else None
    if content_type is None:
        return None, ""
    try:
        record_id = int(record_id)
    except (TypeError, ValueError):
        return None, ""
    record = related_record_visible(user=user, content_type=content_type, record_id=record_id)
    if record is None:
        return None, ""
    return record, record_url(model_label=content_type_label(content_type), pk=record_id)


def _chosen_guests(request: HttpRequest, form: EventForm, event: Event | None) -> list[dict]:
    """The guests the form holds, with names: those already invited as they were invited, the
    others as the user may see them."""
    ids = form.guest_ids()
    names = {guest.guest_id: guest.name for guest in event.guests.all()} if event else {}
    unnamed = [pk for pk in ids if pk not in names]
    content_type = selectors.guest_content_type(CUSTOMER)
    if unnamed and content_type is not None:
        records = selectors.guest_records_visible(
            user=request.user, content_type=content_type, record_ids=unnamed
        )
        names |= {pk: str(record) for pk, record in records.items()}
    return [{"id": pk, "name": names[pk]} for pk in dict.fromkeys(ids) if pk in names]


def _form_page(request, form, *, event, status=200):
    related, related_link = _related(
        request.user, form["related_type"].value(), form["related_id"].value()
    )
    return render(
        request,
        "collaboration/calendar_event_form.html",
        {
            "form": form,
            "event": event,
            "related": related,
            "related_link": related_link,
            "guests": _chosen_guests(request, form, event),
            "stale": status == 409,
        },
        status=status,
    )


# The grids ---------------------------------------------------------------------------------------


def _requested_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return timezone.localdate()


@login_required
@permission_required("collaboration.view_event", raise_exception=True)
def calendar(request: HttpRequest) -> HttpResponse:
    view = request.GET.get("view", "month")
    if view not in selectors.VIEWS:
        view = "month"
    scope = request.GET.get("scope", "mine")
    if scope not in selectors.SCOPES:
        scope = "mine"
    teams = list(selectors.calendar_teams(user=request.user))
    team = next((t for t in teams if str(t.pk) == request.GET.get("team", "")), None)
    day = _requested_day(request.GET.get("date", ""))
    grid = selectors.calendar_grid(user=request.user, view=view, day=day, scope=scope, team=team)
    return render(
        request,
        "collaboration/calendar.html",
        {
            "grid": grid,
            "view": view,
            "views": [("month", _("Month")), ("week", _("Week")), ("day", _("Day"))],
            "scope": scope,
            "team": team,
            "teams": teams,
            "today": timezone.localdate(),
            "feed": selectors.calendar_feed_of(user=request.user),
        },
    )


# Events ------------------------------------------------------------------------------------------


@login_required
@permission_required("collaboration.add_event", raise_exception=True)
def event_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = EventForm(request.POST)
        if form.is_valid():
            try:
                event = services.event_create(
                    actor=request.user,
                    values=form.service_values(),
                    attendee_ids=form.attendee_ids(),
                    guests=form.guest_refs(),
                )
            except ValidationError as exc:
                form_errors_from_service(form, exc, field_names={"attendee_ids": "attendees"})
            else:
                messages.success(request, _("Event “%(title)s” added.") % {"title": event.title})
                return redirect(_event_url(event))
    else:
        form = EventForm(initial=EventForm.initial_from_query(request.GET))
    return _form_page(request, form, event=None)


@login_required
@permission_required("collaboration.view_event", raise_exception=True)
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event_or_404(request, pk)
    related, related_link = None, ""
    if event.related_type_id is not None:
        related, related_link = _related(
            request.user, content_type_label(event.related_type), event.related_id
        )
    guests = [
        {
            "guest": guest,
            "url": record_url(model_label=content_type_label(guest.guest_type), pk=guest.guest_id),
        }
        for guest in event.guests.all()
    ]
    return render(
        request,
        "collaboration/calendar_event_detail.html",
        {
            "event": event,
            "related": related,
            "related_link": related_link,
            "guests": guests,
            "can_change": selectors.event_can_change(user=request.user, event=event),
            "invitation": selectors.event_attendee(event=event, user=request.user),
            "answers": RespondForm.base_fields["response"].choices,
        },
    )


@login_required
@permission_required("collaboration.change_event", raise_exception=True)
def event_update(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event_or_404(request, pk)
    if not selectors.event_can_change(user=request.user, event=event):
        raise PermissionDenied
    status = 200
    if request.method == "POST":
        form = EventForm(request.POST, editing=True)
        if form.is_valid():
            try:
                event = services.event_update(
                    actor=request.user,
                    event=event,
                    values=form.service_values(),
                    version=form.cleaned_data["version"],
                    attendee_ids=form.attendee_ids(),
                    guests=form.guest_refs(),
                )
            except ValidationError as exc:
                form_errors_from_service(form, exc, field_names={"attendee_ids": "attendees"})
            except StaleRecordError as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                messages.success(request, _("Event “%(title)s” saved.") % {"title": event.title})
                return redirect(_event_url(event))
    else:
        form = EventForm(initial=EventForm.initial_for(event), editing=True)
    return _form_page(request, form, event=event, status=status)


@login_required
@permission_required("collaboration.change_event", raise_exception=True)
def event_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event_or_404(request, pk)
    if not selectors.event_can_change(user=request.user, event=event):
        raise PermissionDenied
    if request.method == "POST":
        try:
            services.event_cancel(
                actor=request.user, event=event, version=request.POST.get("version")
            )
        except StaleRecordError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Event “%(title)s” cancelled.") % {"title": event.title})
        return redirect(_event_url(event))
    return render(request, "collaboration/calendar_event_cancel.html", {"event": event})


@login_required
@permission_required("collaboration.view_event", raise_exception=True)
@require_POST
def event_respond(request: HttpRequest, pk: int) -> HttpResponse:
    event = _event_or_404(request, pk)
    form = RespondForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose accept, maybe or decline."))
        return redirect(_event_url(event))
    try:
        attendee = services.event_respond(
            user=request.user, event=event, response=form.cleaned_data["response"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Your answer: %(answer)s.") % {"answer": attendee.get_response_display()}
        )
    return redirect(_event_url(event))


@login_required
@permission_required("collaboration.view_event", raise_exception=True)
@require_GET
def calendar_guest_search(request: HttpRequest) -> HttpResponse:
    """The customers matching ?q=, as checkboxes the guest picker swaps in."""
    customers = selectors.guest_search(user=request.user, query=request.GET.get("q", ""))
    return render(
        request,
        "collaboration/_calendar_guest_results.html",
        {"customers": customers, "query": request.GET.get("q", "")},
    )


# The iCalendar feed ------------------------------------------------------------------------------


def _ical(events: list[Event], *, name: str) -> bytes:
    feed = icalendar.Calendar()
    feed.add("prodid", "-//crm//calendar//EN")
    feed.add("version", "2.0")
    feed.add("x-wr-calname", name)
    host = settings.CRM_SITE_URL.split("://", 1)[-1]
    for event in events:
        entry = icalendar.Event()
        entry.add("uid", f"event-{event.pk}@{host}")
        entry.add("dtstamp", event.updated_at.astimezone(UTC))
        entry.add("dtstart", event.starts_at.astimezone(UTC))
        entry.add("dtend", event.ends_at.astimezone(UTC))
        entry.add("summary", event.title)
        entry.add("sequence", event.version)
        description = event.description
        page = settings.CRM_SITE_URL + _event_url(event)
        entry.add("description", f"{description}\n\n{page}".strip())
        if event.location:
            entry.add("location", event.location)
        if event.video_url:
            entry.add("url", event.video_url)
        if event.organizer is not None:
            entry.add(
                "organizer",
                f"mailto:{event.organizer.email}",
                parameters={"CN": str(event.organizer)},
            )
        entry.add("status", "CANCELLED" if event.cancelled_at else "CONFIRMED")
        feed.add_component(entry)
    return feed.to_ical()


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The user's events as iCalendar, for a calendar app: no session, the token in the address
    is the key."""
    feed = selectors.calendar_feed_for_token(token=token)
    if feed is None:
        raise Http404(_("No such calendar."))
    services.calendar_feed_mark_used(feed=feed)
    events = list(selectors.calendar_feed_events(user=feed.user))
    body = _ical(events, name=_("CRM calendar of %(user)s") % {"user": feed.user})
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@permission_required("collaboration.add_calendarfeed", raise_exception=True)
@require_POST
def calendar_feed_create(request: HttpRequest) -> HttpResponse:
    """A new private feed address, shown this once (only its hash is kept)."""
    token = services.calendar_feed_create(user=request.user)
    url = settings.CRM_SITE_URL + reverse("collaboration:calendar_feed", args=[token])
    return render(request, "collaboration/calendar_feed_created.html", {"feed_url": url})


@login_required
@permission_required("collaboration.delete_calendarfeed", raise_exception=True)
@require_POST
def calendar_feed_revoke(request: HttpRequest) -> HttpResponse:
    services.calendar_feed_revoke(user=request.user)
    messages.success(request, _("Your calendar address no longer works."))
    return redirect("collaboration:calendar")


def upcoming_meetings_panel(request: HttpRequest) -> HomeList | None:
    """The home page's list of the user's meetings in the coming week."""
    if not request.user.has_perm("collaboration.view_event"):
        return None
    events = selectors.events_upcoming(user=request.user, now=timezone.now())
    return HomeList(
        title=_("Upcoming meetings"),
        url=reverse("collaboration:calendar"),
        link_label=_("Open the calendar"),
        entries=tuple(
            HomeEntry(
                label=event.title,
                url=reverse("collaboration:event_detail", args=[event.pk]),
                note=formats.date_format(
                    timezone.localtime(event.starts_at),
                    "SHORT_DATE_FORMAT" if event.all_day else "SHORT_DATETIME_FORMAT",
                ),
            )
            for event in events
        ),
        empty=_("No meetings in the coming week."),
    )


urlpatterns = [
    path("calendar/", calendar, name="calendar"),
    path("calendar/events/new/", event_create, name="event_create"),
    path("calendar/events/<int:pk>/", event_detail, name="event_detail"),
    path("calendar/events/<int:pk>/edit/", event_update, name="event_update"),
    path("calendar/events/<int:pk>/cancel/", event_cancel, name="event_cancel"),
    path("calendar/events/<int:pk>/respond/", event_respond, name="event_respond"),
    path("calendar/guests/", calendar_guest_search, name="calendar_guest_search"),
    path("calendar/feed/new/", calendar_feed_create, name="calendar_feed_create"),
    path("calendar/feed/revoke/", calendar_feed_revoke, name="calendar_feed_revoke"),
    path("calendar/feed/<str:token>.ics", calendar_feed, name="calendar_feed"),
]
