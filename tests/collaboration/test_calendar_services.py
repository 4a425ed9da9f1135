"""The calendar services: planning, changing, cancelling and answering events, who may do which,
who sees them, reminders and the private feed's token."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from collaboration.models import CalendarFeed, Event, EventAttendee, Notification
from collaboration.selectors.calendar import (
    calendar_feed_for_token,
    event_get_visible,
    events_in_range,
)
from collaboration.services.calendar import (
    calendar_feed_create,
    calendar_feed_revoke,
    event_cancel,
    event_create,
    event_respond,
    event_update,
    events_send_reminders,
)
from crm.accounts import roles
from crm.concurrency import StaleRecordError
from tests.accounts.factories import UserFactory
from tests.collaboration.factories import EventAttendeeFactory, EventFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def in_hours(hours: float):
    return timezone.now() + timedelta(hours=hours)


def values(**overrides):
    return {"title": "Quarterly review", "starts_at": in_hours(24), "ends_at": in_hours(25)} | (
        overrides
    )


def invitations(user):
    return list(
        Notification.objects.filter(recipient=user, kind=Notification.Kind.EVENT_INVITATION)
        .order_by("pk")
        .values_list("title", flat=True)
    )


# Create ------------------------------------------------------------------------------------------


def test_create_files_the_event_under_the_organisers_team_and_invites(rep, team, rep_teammate):
    # given a customer of the rep  # when the rep plans a meeting with a teammate and the customer
    customer = CustomerFactory(owner=rep, team=team, name="Ada Lim", email="ada@example.com")
    event = event_create(
        actor=rep,
        values=values(),
        attendee_ids=[rep_teammate.pk, rep.pk],
        guests=[("customers.customer", customer.pk)],
    )

    # then the rep organises it, the teammate is invited (the organiser is not), the guest copied
    assert (event.organizer, event.team, event.version) == (rep, team, 1)
    assert [a.user for a in event.attendees.all()] == [rep_teammate]
    assert [(g.guest_id, g.name, g.email) for g in event.guests.all()] == [
        (customer.pk, "Ada Lim", "ada@example.com")
    ]
    assert len(invitations(rep_teammate)) == 1
    assert invitations(rep) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "   "}, "title"),
        ({"ends_at": in_hours(23)}, "ends_at"),
        ({"ends_at": in_hours(24 * 40)}, "ends_at"),
        ({"video_url": "ftp://example.com/room"}, "video_url"),
        ({"video_url": "javascript:alert(1)"}, "video_url"),
        ({"owner": 1}, "owner"),
    ],
)
def test_create_refuses_bad_values_with_a_field_error(rep, overrides, field):
    # given  # when  # then
    with pytest.raises(ValidationError) as refused:
        event_create(actor=rep, values=values(**overrides))
    assert field in refused.value.message_dict


def test_create_refuses_inactive_attendees(rep):
    # given a user who left
    gone = UserFactory(is_active=False)

    # when  # then
    with pytest.raises(ValidationError) as refused:
        event_create(actor=rep, values=values(), attendee_ids=[gone.pk])
    assert "attendee_ids" in refused.value.message_dict


def test_create_refuses_guests_the_organiser_cannot_see(rep, other_team_rep, other_team):
    # given a customer of another team
    theirs = CustomerFactory(owner=other_team_rep, team=other_team)

    # when  # then
    with pytest.raises(ValidationError) as refused:
        event_create(actor=rep, values=values(), guests=[("customers.customer", theirs.pk)])
    assert "guests" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        event_create(actor=rep, values=values(), guests=[("auth.user", rep.pk)])
    assert "guests" in refused.value.message_dict


def test_create_refuses_a_related_record_the_organiser_cannot_see(rep, other_team_rep, other_team):
    # given
    theirs = CustomerFactory(owner=other_team_rep, team=other_team)
    customer_type = ContentType.objects.get_by_natural_key("customers", "customer")

    # when  # then
    with pytest.raises(ValidationError) as refused:
        event_create(actor=rep, values=values(related_type=customer_type, related_id=theirs.pk))
    assert "related_id" in refused.value.message_dict


# Visibility --------------------------------------------------------------------------------------


def test_an_attendee_sees_the_event_and_another_teams_rep_does_not(
    rep, team, other_team_rep, other_team
):
    # given an event of another team's rep with the rep invited, and one without
    guest = UserFactory(roles=[roles.SALES_REP])
    invited = EventFactory(organizer=other_team_rep, team=other_team, title="Invited")
    EventAttendeeFactory(event=invited, user=rep)
    EventFactory(organizer=other_team_rep, team=other_team, title="Not invited")

    # when
    seen = events_in_range(user=rep, start=in_hours(-1), end=in_hours(48))

    # then
    assert [event.title for event in seen] == ["Invited"]
    assert event_get_visible(user=rep, pk=invited.pk) == invited
    with pytest.raises(Event.DoesNotExist):
        event_get_visible(user=guest, pk=invited.pk)


def test_team_scope_shows_the_teammates_events(rep, team, rep_teammate, other_team_rep):
    # given
    EventFactory(organizer=rep_teammate, team=team, title="Teammate's")
    EventFactory(organizer=other_team_rep, title="Other team's")

    # when
    seen = events_in_range(user=rep, start=in_hours(-1), end=in_hours(48), scope="team")

    # then
    assert [event.title for event in seen] == ["Teammate's"]


# Update, cancel, respond -------------------------------------------------------------------------


def test_a_teammate_may_change_the_event_an_attendee_may_only_answer(
    rep, team, rep_teammate, other_team_rep
):
    # given the rep's event with another team's rep invited
    event = event_create(actor=rep, values=values(), attendee_ids=[other_team_rep.pk])

    # when the attendee tries to change it  # then
    with pytest.raises(PermissionDenied):
        event_update(actor=other_team_rep, event=event, values={"title": "Mine"}, version=1)
    with pytest.raises(PermissionDenied):
        event_cancel(actor=other_team_rep, event=event, version=1)

    # when the rep's teammate changes it and the attendee answers
    changed = event_update(actor=rep_teammate, event=event, values={"title": "New"}, version=1)
    answer = event_respond(user=other_team_rep, event=event, response="accepted")

    # then
    assert (changed.title, changed.version) == ("New", 2)
    assert answer.response == EventAttendee.Response.ACCEPTED


def test_update_made_from_an_old_version_is_refused(rep):
    # given an event changed once
    event = event_create(actor=rep, values=values())
    event_update(actor=rep, event=event, values={"title": "First"}, version=1)

    # when  # then
    with pytest.raises(StaleRecordError):
        event_update(actor=rep, event=event, values={"title": "Second"}, version=1)


def test_a_new_time_rearms_the_reminder_and_tells_the_attendees(rep, rep_teammate):
    # given an event already reminded of, with a teammate invited
    event = event_create(actor=rep, values=values(), attendee_ids=[rep_teammate.pk])
    Event.objects.filter(pk=event.pk).update(reminded_at=timezone.now())

    # when it moves a day later, and a colleague is added
    newcomer = UserFactory()
    moved = event_update(
        actor=rep,
        event=event,
        values={"starts_at": in_hours(48), "ends_at": in_hours(49)},
        version=1,
        attendee_ids=[rep_teammate.pk, newcomer.pk],
    )

    # then the reminder is armed again, the teammate hears of the move, the newcomer is invited
    assert moved.reminded_at is None
    assert [title.split(":")[0] for title in invitations(rep_teammate)] == ["Invitation", "Moved"]
    assert [title.split(":")[0] for title in invitations(newcomer)] == ["Invitation"]


def test_cancel_tells_the_attendees_and_freezes_the_event(rep, rep_teammate):
    # given
    event = event_create(actor=rep, values=values(), attendee_ids=[rep_teammate.pk])

    # when
    cancelled = event_cancel(actor=rep, event=event, version=1)

    # then
    assert cancelled.cancelled_at is not None
    assert invitations(rep_teammate)[-1].startswith("Cancelled")
    with pytest.raises(ValidationError):
        event_update(actor=rep, event=cancelled, values={"title": "X"}, version=2)
    with pytest.raises(ValidationError):
        event_respond(user=rep_teammate, event=cancelled, response="accepted")


def test_only_an_attendee_may_answer_and_only_with_an_answer(rep, rep_teammate):
    # given
    event = event_create(actor=rep, values=values(), attendee_ids=[rep_teammate.pk])

    # when  # then
    with pytest.raises(PermissionDenied):
        event_respond(user=UserFactory(), event=event, response="accepted")
    with pytest.raises(ValidationError):
        event_respond(user=rep_teammate, event=event, response="pending")


# Reminders ---------------------------------------------------------------------------------------


def test_reminders_go_once_to_the_organiser_and_those_not_declined(rep, rep_teammate):
    # given an event in ten minutes with a 15-minute reminder, one attendee declined
    declined = UserFactory()
    event = event_create(
        actor=rep,
        values=values(starts_at=in_hours(1 / 6), ends_at=in_hours(1), remind_minutes_before=15),
        attendee_ids=[rep_teammate.pk, declined.pk],
    )
    event_respond(user=declined, event=event, response="declined")
    later = event_create(actor=rep, values=values(title="Later"))

    # when the beat runs twice
    first = events_send_reminders()
    second = events_send_reminders()

    # then
    assert (first, second) == (1, 0)
    reminded = Notification.objects.filter(kind=Notification.Kind.EVENT_REMINDER)
    assert sorted(reminded.values_list("recipient__username", flat=True)) == sorted(
        [rep.username, rep_teammate.username]
    )
    later.refresh_from_db()
    assert later.reminded_at is None


def test_cancelled_events_are_not_reminded_of(rep):
    # given
    event = event_create(actor=rep, values=values(starts_at=in_hours(0.1), ends_at=in_hours(1)))
    event_cancel(actor=rep, event=event, version=1)

    # when  # then
    assert events_send_reminders() == 0


# The feed's token --------------------------------------------------------------------------------


def test_a_new_feed_token_replaces_the_old_and_revoking_ends_it(rep):
    # given
    old = calendar_feed_create(user=rep)

    # when
    new = calendar_feed_create(user=rep)

    # then only the hash is stored, and only the new token opens the feed
    assert CalendarFeed.objects.filter(user=rep).count() == 1
    assert new not in CalendarFeed.objects.get(user=rep).token_hash
    assert calendar_feed_for_token(token=old) is None
    assert calendar_feed_for_token(token=new).user == rep

    calendar_feed_revoke(user=rep)
    assert calendar_feed_for_token(token=new) is None
