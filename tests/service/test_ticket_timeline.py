"""Tickets on the customer 360 page: their opening, status changes and ratings on the timeline,
the "Tickets" panel, and interactions about a ticket linking to it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.registry import record_url
from customers.selectors.timeline import customer_timeline
from service.models import Ticket
from service.selectors.timeline import ticket_timeline_entries
from service.services.tickets import ticket_change_status, ticket_create, ticket_reply
from service.views.tickets import customer_tickets_panel
from tests.customers.factories import CustomerFactory
from tests.service.factories import TicketFactory, TicketStatusChangeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(team):
    return CustomerFactory(name="Ada Lovelace", team=team)


@pytest.fixture
def ticket(agent, customer):
    return ticket_create(actor=agent, customer=customer, subject="Printer on fire")


def test_opening_and_status_changes_are_on_the_timeline(agent, ticket):
    ticket = ticket_change_status(
        actor=agent, ticket=ticket, status=Ticket.Status.RESOLVED, version=ticket.version
    )

    entries = ticket_timeline_entries(ticket.customer, agent, None, 10)

    titles = [entry.title for entry in entries if entry.kind == "ticket"]
    assert titles[0] == f"Ticket {ticket.number} New → Resolved"
    assert titles[-1] == f"Ticket {ticket.number} opened: Printer on fire"
    assert all(entry.url == reverse("service:ticket_detail", args=[ticket.pk]) for entry in entries)


def test_a_rating_is_on_the_timeline(agent, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(
        satisfaction_rating=4, satisfaction_comment="Quick fix", rated_at=timezone.now()
    )

    entries = ticket_timeline_entries(ticket.customer, agent, None, 10)

    rating = next(entry for entry in entries if entry.kind == "ticket_rating")
    assert rating.title == f"Ticket {ticket.number} rated 4 of 5"
    assert rating.body == "Quick fix"


def test_only_visible_tickets_are_on_the_timeline(agent, customer, other_team, other_team_agent):
    hidden = TicketFactory(customer=customer, assignee=other_team_agent, team=other_team)
    TicketStatusChangeFactory(ticket=hidden)

    assert ticket_timeline_entries(customer, agent, None, 10) == []


def test_entries_before_a_time_and_up_to_a_limit(agent, customer):
    now = timezone.now()
    ticket = TicketFactory(customer=customer, assignee=agent)
    for hours in range(5):
        TicketStatusChangeFactory(ticket=ticket, changed_at=now - timedelta(hours=hours))

    entries = ticket_timeline_entries(customer, agent, now - timedelta(minutes=90), 2)

    assert [entry.at for entry in entries] == [now - timedelta(hours=2), now - timedelta(hours=3)]


def test_the_customer_timeline_gathers_ticket_entries(agent, ticket):
    page = customer_timeline(customer=ticket.customer, user=agent, limit=20)

    assert any(entry.kind == "ticket" for entry in page.entries)


def test_an_interaction_about_a_ticket_links_to_it(agent, ticket):
    message = ticket_reply(actor=agent, ticket=ticket, body="On it")

    url = record_url(model_label="service.ticket", pk=message.interaction.related_id)

    assert url == reverse("service:ticket_detail", args=[ticket.pk])


def test_tickets_panel_counts_open_tickets_and_links_to_the_last(agent, customer, ticket):
    closed = ticket_create(actor=agent, customer=customer, subject="Old question")
    ticket_change_status(
        actor=agent, ticket=closed, status=Ticket.Status.CLOSED, version=closed.version
    )

    panel = customer_tickets_panel(customer, agent)

    rows = dict(panel.rows)
    assert rows["Open tickets"] == "1"
    assert "Old question" in rows["Last ticket"]
    assert panel.url == f"{reverse('service:ticket_list')}?queue=all&customer={customer.pk}"
    assert f"{reverse('service:ticket_create')}?customer={customer.pk}" in rows[""]


def test_tickets_panel_is_hidden_from_sales_reps(rep, customer):
    assert customer_tickets_panel(customer, rep) is None


def test_customer_page_shows_the_tickets_panel(client_for, agent, ticket):
    response = client_for(agent).get(
        reverse("customers:customer_detail", args=[ticket.customer_id])
    )

    assert response.status_code == 200
    assert ticket.number in response.content.decode()
