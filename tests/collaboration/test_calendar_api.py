"""/api/v1/events/: the range a list needs, create with attendees and guests, update with a
version (409 when stale), cancel, respond, visibility and the schema."""

from datetime import timedelta

import pytest
import yaml
from django.utils import timezone

from collaboration.models import Event, EventAttendee
from collaboration.services.calendar import event_create
from tests.collaboration.factories import EventAttendeeFactory, EventFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events/"


def event_url(event, action=""):
    return f"{EVENTS}{event.pk}/{action + '/' if action else ''}"


def soon(hours=24):
    return timezone.now() + timedelta(hours=hours)


def planned(organizer, **values):
    return event_create(
        actor=organizer,
        values={"title": "Review", "starts_at": soon(), "ends_at": soon(25)} | values,
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "start"),
        ({"start": "2026-05-01"}, "end"),
        ({"start": "2026-05-01", "end": "2026-09-01"}, "end"),
        ({"start": "2026-05-10", "end": "2026-05-01"}, "end"),
        ({"start": "May", "end": "2026-05-01"}, "start"),
        ({"start": "2026-05-01", "end": "2026-05-31", "scope": "everyone"}, "scope"),
    ],
)
def test_the_list_needs_a_bounded_range(rep_client, params, field):
    # given  # when
    response = rep_client.get(EVENTS, params)

    # then
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_the_list_returns_the_callers_events_in_the_range(
    rep_client, rep, team, other_team_rep, other_team, django_assert_max_num_queries
):
    # given events of the rep, one they attend, one of another team, one out of range
    for n in range(10):
        event = planned(rep, title=f"Mine {n}")
        EventAttendeeFactory(event=event, user=other_team_rep)
    invited = EventFactory(organizer=other_team_rep, team=other_team, title="Invited")
    EventAttendeeFactory(event=invited, user=rep)
    EventFactory(organizer=other_team_rep, team=other_team, title="Not mine")
    planned(rep, title="Far", starts_at=soon(24 * 60), ends_at=soon(24 * 60 + 1))
    start = timezone.localdate().isoformat()
    end = (timezone.localdate() + timedelta(days=7)).isoformat()

    # when
    with django_assert_max_num_queries(12):
        response = rep_client.get(EVENTS, {"start": start, "end": end})

    # then
    assert response.status_code == 200
    titles = {row["title"] for row in response.json()}
    assert titles == {f"Mine {n}" for n in range(10)} | {"Invited"}
    mine = next(row for row in response.json() if row["title"] == "Mine 0")
    assert mine["attendees"] == [
        {"user": other_team_rep.pk, "name": str(other_team_rep), "response": "pending"}
    ]


def test_create_with_attendees_and_a_guest(rep_client, rep, team, rep_teammate):
    # given
    customer = CustomerFactory(owner=rep, team=team)

    # when
    response = rep_client.post(
        EVENTS,
        {
            "title": "Kick-off",
            "starts_at": "2026-12-01T10:00:00+08:00",
            "ends_at": "2026-12-01T11:00:00+08:00",
            "video_url": "https://meet.example.com/k",
            "attendee_ids": [rep_teammate.pk],
            "guests": [{"guest_type": "customers.customer", "guest_id": customer.pk}],
            "related_type": "customers.customer",
            "related_id": customer.pk,
        },
        content_type="application/json",
    )

    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["organizer"], body["team"], body["version"]) == (rep.pk, team.pk, 1)
    assert [a["user"] for a in body["attendees"]] == [rep_teammate.pk]
    assert body["guests"][0]["name"] == customer.name
    assert Event.objects.get().related_record == customer


def test_create_refuses_an_end_before_the_start(rep_client):
    # given  # when
    response = rep_client.post(
        EVENTS,
        {
            "title": "Backwards",
            "starts_at": "2026-12-01T10:00:00Z",
            "ends_at": "2026-12-01T09:00:00Z",
        },
        content_type="application/json",
    )

    # then
    assert response.status_code == 400
    assert "ends_at" in response.json()["error"]["fields"]


def test_update_with_a_stale_version_is_409(rep_client, rep):
    # given an event changed once
    event = planned(rep)
    first = rep_client.patch(
        event_url(event), {"title": "First", "version": 1}, content_type="application/json"
    )

    # when
    second = rep_client.patch(
        event_url(event), {"title": "Second", "version": 1}, content_type="application/json"
    )

    # then
    assert first.status_code == 200
    assert first.json()["version"] == 2
    assert second.status_code == 409
    missing = rep_client.patch(event_url(event), {"title": "X"}, content_type="application/json")
    assert missing.status_code == 400


def test_cancel_and_respond(client_for, rep, other_team_rep):
    # given the rep's event with another team's rep invited
    event = event_create(
        actor=rep,
        values={"title": "Review", "starts_at": soon(), "ends_at": soon(25)},
        attendee_ids=[other_team_rep.pk],
    )
    attendee = client_for(other_team_rep)

    # when the attendee answers, then tries to cancel
    answered = attendee.post(
        event_url(event, "respond"), {"response": "tentative"}, content_type="application/json"
    )
    refused = attendee.post(
        event_url(event, "cancel"), {"version": 1}, content_type="application/json"
    )
    stale = client_for(rep).post(
        event_url(event, "cancel"), {"version": 7}, content_type="application/json"
    )
    cancelled = client_for(rep).post(
        event_url(event, "cancel"), {"version": 1}, content_type="application/json"
    )

    # then
    assert answered.status_code == 200
    assert EventAttendee.objects.get(event=event).response == "tentative"
    assert refused.status_code == 403
    assert stale.status_code == 409
    assert cancelled.status_code == 200
    assert cancelled.json()["cancelled_at"] is not None


def test_an_outsider_cannot_read_the_event(client_for, rep, other_team_rep):
    # given  # when
    event = planned(rep)
    response = client_for(other_team_rep).get(event_url(event))

    # then
    assert response.status_code == 404


def test_the_schema_documents_the_events_endpoints(rep_client):
    # given  # when
    schema = yaml.safe_load(rep_client.get("/api/v1/schema/").content)

    # then
    for path in (EVENTS, "/api/v1/events/{id}/", "/api/v1/events/{id}/cancel/"):
        assert path in schema["paths"], path
    parameters = {p["name"] for p in schema["paths"][EVENTS]["get"]["parameters"]}
    assert {"start", "end", "scope", "team"} <= parameters
