"""The start page: the user's figures, then what to do today, the coming meetings and the latest
contacts with their customers, each a short list leading to the page with them all."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.collaboration.factories import EventFactory, TaskFactory
from tests.customers.factories import CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def home_list(response, title: str):
    return next(panel for panel in response.context["lists"] if panel.title == title)


def test_home_lists_late_and_todays_tasks_meetings_and_recent_contacts(rep, rep_client):
    now = timezone.now()
    TaskFactory(title="Call Ada back", assignee=rep, due_at=now - timedelta(hours=2))
    TaskFactory(title="Send the quote", assignee=rep, due_at=now + timedelta(minutes=1))
    TaskFactory(title="Next week", assignee=rep, due_at=now + timedelta(days=7))
    EventFactory(title="Kick-off with Ada", organizer=rep, starts_at=now + timedelta(days=2))
    EventFactory(title="Far away", organizer=rep, starts_at=now + timedelta(days=20))
    customer = CustomerFactory(name="Ada Lovelace", owner=rep)
    InteractionFactory(customer=customer, subject="Pricing call", occurred_at=now)

    response = rep_client.get("/")

    assert response.status_code == 200
    tasks = home_list(response, "Today's tasks")
    assert [(entry.label, entry.urgent) for entry in tasks.entries] == [
        ("Call Ada back", True),
        ("Send the quote", False),
    ]
    meetings = home_list(response, "Upcoming meetings")
    assert [entry.label for entry in meetings.entries] == ["Kick-off with Ada"]
    activity = home_list(response, "Recent activity")
    assert [entry.label for entry in activity.entries] == ["Ada Lovelace"]
    assert "Pricing call" in activity.entries[0].note
    body = response.content.decode()
    assert body.count("<h1") == 1
    assert "Kick-off with Ada" in body
    assert "Late" in body


def test_home_lists_say_when_there_is_nothing(rep_client):
    response = rep_client.get("/")

    assert home_list(response, "Today's tasks").entries == ()
    assert "Nothing due today." in response.content.decode()
    assert "No meetings in the coming week." in response.content.decode()


def test_home_reads_a_bounded_number_of_queries(rep, rep_client, django_assert_max_num_queries):
    now = timezone.now()
    for number in range(8):
        customer = CustomerFactory(owner=rep)
        InteractionFactory(customer=customer, occurred_at=now - timedelta(hours=number))
        TaskFactory(assignee=rep, due_at=now - timedelta(minutes=number + 1))
        EventFactory(organizer=rep, starts_at=now + timedelta(hours=number + 1))

    with django_assert_max_num_queries(25):
        response = rep_client.get("/")

    assert len(home_list(response, "Today's tasks").entries) == 5
    assert len(home_list(response, "Upcoming meetings").entries) == 5
    assert len(home_list(response, "Recent activity").entries) == 5
