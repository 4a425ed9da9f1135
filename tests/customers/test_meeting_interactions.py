"""A meeting held on the shared calendar with customer guests becomes, once, a meeting interaction
of each guest customer (and so an entry on their timeline) and an entry in the activity feed."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from collaboration.models import Event
from collaboration.services.calendar import event_cancel, event_create, events_log_meetings
from collaboration.tasks import events_log_meetings_task
from crm.activity.models import ActivityEvent
from customers.models import Interaction
from customers.selectors.timeline import customer_timeline
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMER = "customers.customer"


def held_meeting(organizer, guests, **overrides):
    """A meeting planned for an hour from now, then moved (in the database) into the past."""
    start = timezone.now() + timedelta(hours=1)
    values = {
        "title": "Contract walkthrough",
        "description": "Went through the renewal terms.",
        "location": "Their office",
        "starts_at": start,
        "ends_at": start + timedelta(minutes=45),
    } | overrides
    event = event_create(
        actor=organizer, values=values, guests=[(CUSTOMER, guest.pk) for guest in guests]
    )
    Event.objects.filter(pk=event.pk).update(
        starts_at=event.starts_at - timedelta(hours=3), ends_at=event.ends_at - timedelta(hours=3)
    )
    event.refresh_from_db()
    return event


def test_a_held_meeting_is_logged_on_each_guest_once(rep, team, eager_tasks):
    # given a meeting with two customers that ended two hours ago
    first = CustomerFactory(owner=rep, team=team)
    second = CustomerFactory(owner=rep, team=team)
    event = held_meeting(rep, [first, second])

    # when the beat runs twice
    logged = events_log_meetings_task.delay().get()
    again = events_log_meetings()

    # then each customer has one meeting interaction, handled by the organiser, tied to the event
    assert (logged, again) == (1, 0)
    interactions = Interaction.objects.order_by("customer_id")
    assert [i.customer for i in interactions] == [first, second]
    interaction = interactions[0]
    assert interaction.channel == Interaction.Channel.MEETING
    assert interaction.direction == Interaction.Direction.OUTBOUND
    assert interaction.subject == "Contract walkthrough"
    assert "renewal terms" in interaction.summary
    assert interaction.occurred_at == event.starts_at
    assert interaction.duration_seconds == 45 * 60
    assert interaction.handled_by == rep
    assert interaction.related_type == ContentType.objects.get_for_model(Event)
    assert interaction.related_id == event.pk
    event.refresh_from_db()
    assert event.logged_at is not None
    assert ActivityEvent.objects.filter(verb=ActivityEvent.Verb.MEETING_HELD).count() == 1


def test_the_meeting_shows_on_the_customer_timeline(rep, team):
    # given a logged meeting
    customer = CustomerFactory(owner=rep, team=team)
    held_meeting(rep, [customer])
    events_log_meetings()

    # when
    page = customer_timeline(customer=customer, user=rep)

    # then
    meetings = [entry for entry in page.entries if entry.kind == "interaction"]
    assert [entry.title for entry in meetings] == ["Contract walkthrough"]


@pytest.mark.parametrize("case", ["cancelled", "call", "no guests", "not over"])
def test_meetings_that_do_not_count_are_not_logged(rep, team, case):
    # given
    customer = CustomerFactory(owner=rep, team=team)
    if case == "cancelled":
        event = held_meeting(rep, [customer])
        event_cancel(actor=rep, event=event, version=event.version)
    elif case == "call":
        held_meeting(rep, [customer], kind=Event.Kind.CALL)
    elif case == "no guests":
        held_meeting(rep, [])
    else:
        start = timezone.now() + timedelta(hours=1)
        event_create(
            actor=rep,
            values={"title": "Soon", "starts_at": start, "ends_at": start + timedelta(hours=1)},
            guests=[(CUSTOMER, customer.pk)],
        )

    # when  # then
    assert events_log_meetings() == 0
    assert not Interaction.objects.exists()


def test_a_guest_deleted_since_is_skipped(rep, team):
    # given a meeting with two customers, one deleted afterwards
    kept = CustomerFactory(owner=rep, team=team)
    gone = CustomerFactory(owner=rep, team=team)
    held_meeting(rep, [kept, gone])
    gone.delete()

    # when
    logged = events_log_meetings()

    # then
    assert logged == 1
    assert [i.customer for i in Interaction.objects.all()] == [kept]
