"""The calendar pages as a signed-in user sees them: the month, week and day grids, an event's
page and forms, answering, the guest search, and the private iCalendar feed."""

from datetime import date, datetime, timedelta

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from collaboration.models import CalendarFeed, Event, EventAttendee
from collaboration.services.calendar import event_create
from tests.accounts.factories import UserFactory
from tests.collaboration.factories import EventAttendeeFactory, EventFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CALENDAR = "/collaboration/calendar/"
NEW = "/collaboration/calendar/events/new/"


def at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=hour))


def titles_on(response, day: date) -> list[str]:
    for cell in response.context["grid"].days:
        if cell.day == day:
            return [event.title for event in cell.events]
    raise AssertionError(f"{day} is not on the page")


# The grids ---------------------------------------------------------------------------------------


def test_the_month_lists_events_per_day_from_monday(rep_client, rep, team):
    # given a meeting of the rep on 12 May 2026 and one they attend on the 13th
    EventFactory(organizer=rep, team=team, title="Mine", starts_at=at(date(2026, 5, 12), 10))
    theirs = EventFactory(title="Invited", starts_at=at(date(2026, 5, 13), 9))
    EventAttendeeFactory(event=theirs, user=rep)

    # when
    response = rep_client.get(CALENDAR, {"view": "month", "date": "2026-05-20"})

    # then the grid runs from Monday 27 April to Sunday 31 May
    assert response.status_code == 200
    grid = response.context["grid"]
    assert (grid.start, grid.end) == (date(2026, 4, 27), date(2026, 6, 1))
    assert titles_on(response, date(2026, 5, 12)) == ["Mine"]
    assert titles_on(response, date(2026, 5, 13)) == ["Invited"]
    assert b"Mine" in response.content


def test_a_busy_day_shows_three_events_and_how_many_more(rep_client, rep, team):
    # given five events on one day
    day = date(2026, 5, 12)
    for hour in range(8, 13):
        EventFactory(organizer=rep, team=team, title=f"At {hour}", starts_at=at(day, hour))

    # when
    response = rep_client.get(CALENDAR, {"view": "month", "date": "2026-05-01"})

    # then
    assert titles_on(response, day) == ["At 8", "At 9", "At 10"]
    assert "+2 more" in response.content.decode()


def test_the_week_and_the_day(rep_client, rep, team):
    # given a three-day conference and a call on its second day
    monday = date(2026, 5, 11)
    EventFactory(
        organizer=rep,
        team=team,
        title="Conference",
        starts_at=at(monday, 9),
        ends_at=at(monday + timedelta(days=2), 17),
    )
    EventFactory(organizer=rep, team=team, title="Call", starts_at=at(monday + timedelta(1), 14))

    # when
    week = rep_client.get(CALENDAR, {"view": "week", "date": "2026-05-13"})
    day = rep_client.get(CALENDAR, {"view": "day", "date": "2026-05-12"})

    # then
    assert week.context["grid"].days[0].day == monday
    assert titles_on(week, monday + timedelta(1)) == ["Conference", "Call"]
    assert titles_on(week, monday + timedelta(3)) == []
    hours = day.context["grid"].days[0].hours
    assert [(hour, [e.title for e in events]) for hour, events in hours] == [
        (-1, ["Conference"]),
        (14, ["Call"]),
    ]


@pytest.mark.parametrize("view", ["month", "week", "day"])
def test_grid_queries_do_not_grow_with_the_events(
    rep_client, rep, team, rep_teammate, view, django_assert_max_num_queries
):
    # given many events, each with an attendee and a customer guest
    day = date(2026, 5, 12)
    customer = CustomerFactory(owner=rep, team=team)
    for hour in range(24):
        event = event_create(
            actor=rep,
            values={"title": f"E{hour}", "starts_at": at(day, hour), "ends_at": at(day, hour)},
            attendee_ids=[rep_teammate.pk],
            guests=[("customers.customer", customer.pk)],
        )
        EventAttendee.objects.filter(event=event).update(response="accepted")

    # when  # then
    with django_assert_max_num_queries(14):
        response = rep_client.get(CALENDAR, {"view": view, "date": "2026-05-12", "scope": "team"})
    assert response.status_code == 200
    assert len(titles_on(response, day)) == (3 if view == "month" else 24)


def test_the_team_scope_and_a_team_that_is_not_theirs(rep_client, rep, team, rep_teammate):
    # given
    EventFactory(organizer=rep_teammate, team=team, title="Teammate's")
    day = timezone.localdate() + timedelta(days=1)

    # when
    mine = rep_client.get(CALENDAR, {"view": "week", "date": day.isoformat()})
    teams = rep_client.get(
        CALENDAR, {"view": "week", "date": day.isoformat(), "scope": "team", "team": team.pk}
    )

    # then
    assert titles_on(mine, day) == []
    assert titles_on(teams, day) == ["Teammate's"]


# Event pages -------------------------------------------------------------------------------------


def test_create_an_event_from_a_customer_page(rep_client, rep, team, rep_teammate):
    # given a customer
    customer = CustomerFactory(owner=rep, team=team, name="Ada Lim")

    # when the rep opens the form from the customer page and saves it with the customer as guest
    form = rep_client.get(
        NEW,
        {"related_type": "customers.customer", "related_id": customer.pk, "start": "2026-06-01"},
    )
    response = rep_client.post(
        NEW,
        {
            "title": "Kick-off",
            "kind": "meeting",
            "starts_at": "2026-06-01T09:00",
            "ends_at": "2026-06-01T10:00",
            "remind_minutes_before": "15",
            "attendees": [rep_teammate.pk],
            "guests": [customer.pk],
            "related_type": "customers.customer",
            "related_id": customer.pk,
        },
    )

    # then
    assert form.status_code == 200
    assert form.context["related"] == customer
    assert form.context["form"].initial["starts_at"].hour == 9
    event = Event.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("collaboration:event_detail", args=[event.pk])
    assert event.related_record == customer
    assert [g.name for g in event.guests.all()] == ["Ada Lim"]


def test_the_form_shows_the_services_errors(rep_client):
    # given  # when
    response = rep_client.post(
        NEW,
        {
            "title": "Backwards",
            "kind": "meeting",
            "starts_at": "2026-06-01T10:00",
            "ends_at": "2026-06-01T09:00",
            "remind_minutes_before": "15",
            "video_url": "ftp://example.com",
        },
    )

    # then
    assert response.status_code == 200
    assert "ends_at" in response.context["form"].errors
    assert not Event.objects.exists()


def test_the_detail_page_lets_an_attendee_answer(client_for, rep, team, other_team_rep):
    # given an event of the rep with another team's rep invited and a customer guest
    customer = CustomerFactory(owner=rep, team=team, name="Ada Lim")
    start = timezone.now() + timedelta(days=2)
    event = event_create(
        actor=rep,
        values={"title": "Review", "starts_at": start, "ends_at": start + timedelta(hours=1)},
        attendee_ids=[other_team_rep.pk],
        guests=[("customers.customer", customer.pk)],
    )
    client = client_for(other_team_rep)
    url = reverse("collaboration:event_detail", args=[event.pk])

    # when the attendee opens it and accepts
    page = client.get(url)
    answered = client.post(
        reverse("collaboration:event_respond", args=[event.pk]), {"response": "accepted"}
    )

    # then they see the guest and no edit button, and their answer is stored
    assert page.status_code == 200
    assert "Ada Lim" in page.content.decode()
    assert page.context["can_change"] is False
    assert answered.status_code == 302
    assert EventAttendee.objects.get(event=event).response == "accepted"
    assert client.get(reverse("collaboration:event_update", args=[event.pk])).status_code == 403


def test_an_outsider_gets_404(client_for, rep, team):
    # given
    event = EventFactory(organizer=rep, team=team)
    outsider = UserFactory(roles=["Sales rep"])

    # when  # then
    response = client_for(outsider).get(reverse("collaboration:event_detail", args=[event.pk]))
    assert response.status_code == 404


def test_editing_from_a_stale_version_is_refused_with_409(rep_client, rep, team):
    # given an event changed since the form was opened
    start = timezone.now() + timedelta(days=2)
    event = event_create(
        actor=rep,
        values={"title": "Old", "starts_at": start, "ends_at": start + timedelta(hours=1)},
    )
    url = reverse("collaboration:event_update", args=[event.pk])
    data = {
        "title": "New",
        "kind": "meeting",
        "starts_at": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": timezone.localtime(start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "remind_minutes_before": "15",
        "version": "1",
    }
    assert rep_client.post(url, data).status_code == 302

    # when
    response = rep_client.post(url, data | {"title": "Newer"})

    # then
    assert response.status_code == 409
    event.refresh_from_db()
    assert (event.title, event.version) == ("New", 2)


def test_cancel_asks_then_cancels(rep_client, rep, team):
    # given
    event = EventFactory(organizer=rep, team=team)
    url = reverse("collaboration:event_cancel", args=[event.pk])

    # when
    confirm = rep_client.get(url)
    response = rep_client.post(url, {"version": event.version})

    # then
    assert confirm.status_code == 200
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.cancelled_at is not None


def test_the_guest_search_finds_only_visible_customers(rep_client, rep, team, other_team_rep):
    # given
    CustomerFactory(owner=rep, team=team, name="Ada Lim", email="ada@example.com")
    CustomerFactory(owner=other_team_rep, name="Ada Other")

    # when
    response = rep_client.get(reverse("collaboration:calendar_guest_search"), {"q": "ada"})

    # then
    assert response.status_code == 200
    assert [str(c) for c in response.context["customers"]] == ["Ada Lim"]


# The iCalendar feed ------------------------------------------------------------------------------


def test_the_feed_serves_the_users_events_until_revoked(rep_client, rep, team, client):
    # given the rep's event (and a cancelled one) and a feed address made on the calendar page
    start = timezone.now() + timedelta(days=3)
    event = event_create(
        actor=rep,
        values={
            "title": "Demo",
            "starts_at": start,
            "ends_at": start + timedelta(hours=1),
            "location": "Room 4",
            "video_url": "https://meet.example.com/demo",
        },
    )
    EventFactory(organizer=rep, title="Dropped", cancelled_at=timezone.now())
    created = rep_client.post(reverse("collaboration:calendar_feed_create"))
    feed_url = created.context["feed_url"]
    path = feed_url.split("://", 1)[1].split("/", 1)[1]

    # when anyone with the address (no session) reads it
    response = client.get("/" + path)

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    entries = {str(entry["summary"]): entry for entry in calendar.walk("VEVENT")}
    assert set(entries) == {"Demo", "Dropped"}
    demo = entries["Demo"]
    assert str(demo["uid"]).startswith(f"event-{event.pk}@")
    assert demo.decoded("dtstart") == start.replace(microsecond=0)
    assert str(demo["location"]) == "Room 4"
    assert str(demo["url"]) == "https://meet.example.com/demo"
    assert str(entries["Dropped"]["status"]) == "CANCELLED"
    assert CalendarFeed.objects.get(user=rep).last_used_at is not None

    # when the rep revokes it  # then the address is dead
    rep_client.post(reverse("collaboration:calendar_feed_revoke"))
    assert client.get("/" + path).status_code == 404


def test_an_unknown_feed_token_is_404(client):
    # given  # when  # then
    assert client.get("/collaboration/calendar/feed/nope.ics").status_code == 404
