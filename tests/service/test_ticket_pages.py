"""A ticket's page and the forms around it: the thread and the reply box (replies, notes,
attachments and their protected downloads), the status buttons by the workflow, assignment,
editing with optimistic locking, the new-ticket form and the list's bulk actions, each through
the visibility rule."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, Interaction
from service.models import Ticket, TicketAttachment, TicketMessage, TicketStatusChange
from service.services.tickets import ticket_change_status, ticket_create
from tests.customers.factories import CustomerFactory
from tests.service.factories import TicketAttachmentFactory, TicketFactory, TicketMessageFactory

pytestmark = pytest.mark.django_db


def detail_url(ticket: Ticket) -> str:
    return reverse("service:ticket_detail", args=[ticket.pk])


def action_url(name: str, ticket: Ticket) -> str:
    return reverse(f"service:{name}", args=[ticket.pk])


@pytest.fixture
def customer(team):
    return CustomerFactory(name="Ada Lovelace", team=team, tier=Customer.Tier.VIP)


@pytest.fixture
def ticket(agent, customer):
    return ticket_create(
        actor=agent, customer=customer, subject="Printer on fire", description="Help!"
    )


@pytest.fixture
def other_ticket(other_team, other_team_agent):
    return TicketFactory(number="T-OTHER", assignee=other_team_agent, team=other_team)


def reloaded(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


# The page ----------------------------------------------------------------------------------------


def test_page_shows_header_thread_sla_and_the_customers_side(agent_client, ticket):
    TicketMessageFactory(ticket=ticket, kind=TicketMessage.Kind.NOTE, body="Check the toner")

    response = agent_client.get(detail_url(ticket))

    assert response.status_code == 200
    content = response.content.decode()
    assert ticket.number in content
    assert "Printer on fire" in content
    assert 'data-kind="note"' in content
    assert "ticket-message-note" in content
    assert 'data-sla-state="due"' in content
    assert "VIP" in content
    assert response.context["customer_open_tickets"] == 1
    # The ticket's opening is on the customer's recent history beside the thread.
    kinds = [entry.kind for entry in response.context["customer_history"]]
    assert "ticket" in kinds


def test_overdue_ticket_shows_breached(agent_client, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_due_at=timezone.now() - timedelta(minutes=5)
    )

    response = agent_client.get(detail_url(ticket))

    assert 'data-sla-state="breached"' in response.content.decode()


def test_another_teams_ticket_is_not_found(agent_client, other_ticket):
    assert agent_client.get(detail_url(other_ticket)).status_code == 404
    assert agent_client.post(action_url("ticket_edit", other_ticket), {}).status_code == 404


def test_sales_rep_may_not_open_a_ticket(rep_client, ticket):
    assert rep_client.get(detail_url(ticket)).status_code == 403


# Replies, notes and attachments -----------------------------------------------------------------


def test_reply_adds_message_interaction_first_response_and_status_change(agent_client, ticket):
    response = agent_client.post(
        action_url("ticket_reply", ticket),
        {"body": "We are sending a technician.", "kind": "reply", "status": "pending"},
    )

    assert response.status_code == 302
    ticket = reloaded(ticket)
    reply = ticket.messages.get(kind=TicketMessage.Kind.REPLY)
    assert reply.body == "We are sending a technician."
    assert reply.interaction is not None
    assert reply.interaction.direction == Interaction.Direction.OUTBOUND
    assert ticket.first_responded_at is not None
    assert ticket.status == Ticket.Status.PENDING
    assert ticket.status_changes.filter(to_status=Ticket.Status.PENDING).exists()


def test_note_adds_no_interaction_and_leaves_the_first_response_open(agent_client, ticket):
    interactions = Interaction.objects.count()

    response = agent_client.post(
        action_url("ticket_reply", ticket), {"body": "Internal only", "kind": "note"}
    )

    assert response.status_code == 302
    note = reloaded(ticket).messages.get(kind=TicketMessage.Kind.NOTE)
    assert note.interaction is None
    assert Interaction.objects.count() == interactions
    assert reloaded(ticket).first_responded_at is None


def test_empty_reply_is_refused_naming_the_field(agent_client, ticket):
    response = agent_client.post(action_url("ticket_reply", ticket), {"body": " ", "kind": "reply"})

    assert response.status_code == 400
    assert response.context["reply_form"].errors["body"]
    assert ticket.messages.count() == 1


def test_reply_with_attachments_and_their_protected_download(
    agent_client, client_for, other_team_agent, ticket
):
    files = [
        SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 invoice", content_type="application/pdf"),
        SimpleUploadedFile("photo.txt", b"a photo", content_type="text/plain"),
    ]

    agent_client.post(
        action_url("ticket_reply", ticket),
        {"body": "Attached", "kind": "reply", "attachments": files},
    )

    attachments = TicketAttachment.objects.filter(message__ticket=ticket).order_by("name")
    assert [attachment.name for attachment in attachments] == ["invoice.pdf", "photo.txt"]
    invoice = attachments[0]
    page = agent_client.get(detail_url(ticket)).content.decode()
    download_url = reverse("service:ticket_attachment", args=[invoice.pk])
    assert download_url in page
    assert invoice.file.url not in page
    response = agent_client.get(download_url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 invoice"
    assert response["Content-Disposition"].startswith("attachment")
    assert client_for(other_team_agent).get(download_url).status_code == 404


def test_another_teams_attachment_is_not_found(agent_client, other_ticket):
    attachment = TicketAttachmentFactory(message__ticket=other_ticket)

    response = agent_client.get(reverse("service:ticket_attachment", args=[attachment.pk]))

    assert response.status_code == 404


# Status buttons ----------------------------------------------------------------------------------


def test_status_buttons_follow_the_workflow(agent_client, ticket):
    page = agent_client.get(detail_url(ticket))
    offered = [status for status, _label in page.context["status_actions"]]
    assert offered == ["open", "pending", "resolved", "closed"]

    response = agent_client.post(
        action_url("ticket_status", ticket), {"status": "resolved", "version": ticket.version}
    )

    assert response.status_code == 302
    ticket = reloaded(ticket)
    assert ticket.status == Ticket.Status.RESOLVED
    page = agent_client.get(detail_url(ticket))
    assert [status for status, _label in page.context["status_actions"]] == ["open", "closed"]
    assert "Reopen" in page.content.decode()


def test_move_the_workflow_forbids_is_refused_with_a_message(agent, agent_client, ticket):
    ticket = ticket_change_status(
        actor=agent, ticket=ticket, status=Ticket.Status.CLOSED, version=ticket.version
    )

    response = agent_client.post(
        action_url("ticket_status", ticket), {"status": "pending", "version": ticket.version}
    )

    assert response.status_code == 400
    assert "cannot become" in response.context["error"]
    assert reloaded(ticket).status == Ticket.Status.CLOSED


def test_status_change_from_a_stale_page_is_refused_and_changes_nothing(agent_client, ticket):
    stale_version = ticket.version
    Ticket.objects.filter(pk=ticket.pk).update(version=stale_version + 1)

    response = agent_client.post(
        action_url("ticket_status", ticket), {"status": "resolved", "version": stale_version}
    )

    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    assert reloaded(ticket).status == Ticket.Status.NEW
    assert not TicketStatusChange.objects.filter(ticket=ticket, to_status="resolved").exists()


# Assignment and editing --------------------------------------------------------------------------


def test_assign_to_a_teammate(agent_client, agent_teammate, ticket):
    response = agent_client.post(
        action_url("ticket_assign", ticket),
        {"assignee": agent_teammate.pk, "version": ticket.version},
    )

    assert response.status_code == 302
    assert reloaded(ticket).assignee == agent_teammate


def test_assign_from_a_stale_page_is_refused(agent_client, agent, agent_teammate, ticket):
    response = agent_client.post(
        action_url("ticket_assign", ticket),
        {"assignee": agent_teammate.pk, "version": ticket.version + 1},
    )

    assert response.status_code == 409
    assert reloaded(ticket).assignee == agent


def edit_form(ticket: Ticket, **changes) -> dict:
    return {
        "subject": ticket.subject,
        "description": ticket.description,
        "type": ticket.type,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "category": "",
        "team": ticket.team_id or "",
        "tags": "",
        "version": ticket.version,
        **changes,
    }


def test_edit_saves_fields_and_tags(agent_client, ticket):
    response = agent_client.post(
        action_url("ticket_edit", ticket),
        edit_form(ticket, subject="Printer smoking", priority="high", tags="hardware, urgent"),
    )

    assert response.status_code == 302
    ticket = reloaded(ticket)
    assert ticket.subject == "Printer smoking"
    assert ticket.priority == Ticket.Priority.HIGH
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["hardware", "urgent"]


def test_edit_from_a_stale_form_is_refused_and_overwrites_nothing(agent, agent_client, ticket):
    opened = edit_form(ticket, subject="My subject")
    ticket_change_status(actor=agent, ticket=ticket, status="open", version=ticket.version)

    response = agent_client.post(action_url("ticket_edit", ticket), opened)

    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    assert reloaded(ticket).subject == "Printer on fire"


# The new-ticket form -----------------------------------------------------------------------------


def test_new_ticket_form_is_prefilled_from_the_customer_link(agent_client, customer):
    response = agent_client.get(reverse("service:ticket_create"), {"customer": customer.pk})

    assert response.status_code == 200
    assert 'value="Ada Lovelace"' in response.content.decode()


def test_new_ticket_with_an_attachment(agent, agent_client, customer):
    response = agent_client.post(
        reverse("service:ticket_create"),
        {
            "customer": customer.pk,
            "subject": "Cannot log in",
            "description": "Since Monday",
            "type": "inquiry",
            "channel": "phone",
            "priority": "normal",
            "attachments": SimpleUploadedFile("screen.txt", b"error 42"),
        },
    )

    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Cannot log in")
    assert response["Location"] == detail_url(ticket)
    assert ticket.assignee == agent
    assert ticket.channel == Ticket.Channel.PHONE
    assert TicketAttachment.objects.filter(message__ticket=ticket, name="screen.txt").exists()


def test_the_service_desk_opens_a_ticket_for_any_customer(agent_client, agent, other_team):
    # anyone may call the desk, whichever rep owns them (the agents' see_all_customer)
    stranger = CustomerFactory(team=other_team)

    response = agent_client.post(
        reverse("service:ticket_create"),
        {
            "customer": stranger.pk,
            "subject": "x",
            "type": "inquiry",
            "channel": "email",
            "priority": "normal",
        },
    )

    assert response.status_code == 302
    assert Ticket.objects.get(customer=stranger).assignee == agent


# Bulk actions ------------------------------------------------------------------------------------


def selection(*tickets: Ticket) -> list[str]:
    return [f"{ticket.pk}:{ticket.version}" for ticket in tickets]


@pytest.fixture
def two_tickets(agent, customer):
    return [ticket_create(actor=agent, customer=customer, subject=f"Ticket {n}") for n in range(2)]


def test_bulk_assign_assigns_every_selected_ticket(agent_client, agent_teammate, two_tickets):
    response = agent_client.post(
        reverse("service:tickets_bulk"),
        {"action": "assign", "assignee": agent_teammate.pk, "tickets": selection(*two_tickets)},
    )

    assert response.status_code == 302
    assert all(reloaded(ticket).assignee == agent_teammate for ticket in two_tickets)


def test_bulk_close_closes_every_selected_ticket(agent_client, two_tickets):
    agent_client.post(
        reverse("service:tickets_bulk"), {"action": "close", "tickets": selection(*two_tickets)}
    )

    assert all(reloaded(ticket).status == Ticket.Status.CLOSED for ticket in two_tickets)


def test_bulk_with_a_stale_ticket_changes_nothing(agent, agent_client, two_tickets):
    first, second = two_tickets
    picked = selection(first, second)
    ticket_change_status(actor=agent, ticket=second, status="open", version=second.version)

    response = agent_client.post(
        reverse("service:tickets_bulk"), {"action": "close", "tickets": picked}, follow=True
    )

    assert "changed by someone else" in response.content.decode()
    assert reloaded(first).status == Ticket.Status.NEW
    assert reloaded(second).status == Ticket.Status.OPEN


def test_bulk_with_a_ticket_out_of_reach_changes_nothing(
    agent_client, agent_teammate, two_tickets, other_ticket
):
    response = agent_client.post(
        reverse("service:tickets_bulk"),
        {
            "action": "assign",
            "assignee": agent_teammate.pk,
            "tickets": selection(*two_tickets, other_ticket),
        },
        follow=True,
    )

    assert "not available to you" in response.content.decode()
    assert all(reloaded(ticket).assignee != agent_teammate for ticket in two_tickets)
    assert reloaded(other_ticket).assignee != agent_teammate


def test_bulk_without_a_selection_says_so(agent_client):
    response = agent_client.post(reverse("service:tickets_bulk"), {"action": "close"}, follow=True)

    assert "Select at least one ticket" in response.content.decode()


# Bounded queries ---------------------------------------------------------------------------------


def test_page_queries_do_not_grow_with_the_thread(agent_client, ticket):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert agent_client.get(detail_url(ticket)).status_code == 200
        return len(captured)

    few = queries()
    for _n in range(10):
        TicketAttachmentFactory(message=TicketMessageFactory(ticket=ticket))
    assert queries() == few
