"""A reply sent from the ticket's page with htmx is appended to the thread without reloading the
page; the header, the reply box and the assignment's version follow the changed ticket."""

import pytest
from django.urls import reverse

from customers.models import Customer
from service.models import Ticket
from service.services.tickets import ticket_create
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def ticket(agent, team):
    customer = CustomerFactory(name="Ada Lovelace", team=team, tier=Customer.Tier.VIP)
    return ticket_create(
        actor=agent, customer=customer, subject="Printer on fire", description="Help!"
    )


def reply_url(ticket: Ticket) -> str:
    return reverse("service:ticket_reply", args=[ticket.pk])


def test_the_reply_box_posts_with_htmx_and_appends_to_the_thread(agent_client, ticket):
    page = agent_client.get(reverse("service:ticket_detail", args=[ticket.pk])).content.decode()

    assert f'hx-post="{reply_url(ticket)}"' in page
    assert 'id="ticket-thread-list"' in page
    assert 'hx-target="#ticket-thread-list" hx-swap="beforeend"' in page


def test_an_htmx_reply_answers_with_the_new_message_and_the_changed_ticket(agent_client, ticket):
    response = agent_client.post(
        reply_url(ticket),
        {"body": "We are sending a technician.", "kind": "reply", "status": "pending"},
        headers=HTMX,
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert content.lstrip().startswith('<li class="card mb-2 ticket-message ticket-message-reply"')
    assert "We are sending a technician." in content
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.status == Ticket.Status.PENDING
    assert 'id="ticket-header" hx-swap-oob="true"' in content
    assert f'name="version" value="{ticket.version}"' in content
    assert 'id="ticket-reply" hx-swap-oob="true"' in content
    assert 'id="ticket-assign-version" hx-swap-oob="true"' in content
    assert response.context["reply_form"].is_bound is False


def test_an_htmx_reply_refused_puts_the_form_with_its_errors_in_place(agent_client, ticket):
    response = agent_client.post(reply_url(ticket), {"body": " ", "kind": "reply"}, headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Retarget"] == "#ticket-reply"
    assert response.context["reply_form"].errors["body"]
    assert "<html" not in response.content.decode()
    assert ticket.messages.count() == 1


def test_a_reply_without_javascript_still_reloads_the_page(agent_client, ticket):
    response = agent_client.post(reply_url(ticket), {"body": "Hello", "kind": "reply"})

    assert response.status_code == 302
