"""Canned responses: rendering for a ticket, the pages to list, add, edit and delete them, and
who sees which (one's own and those of one's teams)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from service.models import CannedResponse
from service.services.canned import (
    canned_response_create,
    canned_response_delete,
    canned_response_render,
    canned_response_update,
)
from tests.accounts.factories import UserFactory
from tests.customers.factories import CustomerFactory
from tests.service.factories import CannedResponseFactory, TicketFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("service:canned_list")


@pytest.fixture
def ticket(agent, team):
    return TicketFactory(
        number="T-0000042",
        subject="Printer on fire",
        customer=CustomerFactory(name="Ada Lovelace"),
        assignee=agent,
        team=team,
    )


def test_render_fills_the_known_placeholders_and_leaves_others(ticket):
    agent = UserFactory(username="sam", display_name="Sam Agent")
    response = CannedResponseFactory(
        body="Hi {customer_name}, re {ticket_number} ({ticket_subject}). {unknown} {agent_name}"
    )

    text = canned_response_render(response=response, ticket=ticket, agent=agent)

    assert text == (f"Hi Ada Lovelace, re T-0000042 (Printer on fire). {{unknown}} {agent}")
    assert "Sam Agent" in text


def test_render_endpoint_returns_the_text_for_a_visible_ticket(agent_client, agent, ticket):
    response = CannedResponseFactory(owner=agent, body="Dear {customer_name}")

    answer = agent_client.get(
        reverse("service:canned_render", args=[response.pk]), {"ticket": ticket.pk}
    )

    assert answer.status_code == 200
    assert answer.json() == {"text": "Dear Ada Lovelace"}


def test_render_endpoint_refuses_a_ticket_out_of_reach(
    agent_client, agent, other_team, other_team_agent
):
    response = CannedResponseFactory(owner=agent)
    stranger = TicketFactory(assignee=other_team_agent, team=other_team)

    answer = agent_client.get(
        reverse("service:canned_render", args=[response.pk]), {"ticket": stranger.pk}
    )

    assert answer.status_code == 404


def test_list_shows_own_and_team_shared_but_not_another_teams(
    agent_client, agent, team, other_team, other_team_agent
):
    CannedResponseFactory(name="Mine", owner=agent)
    CannedResponseFactory(name="Shared", owner=None, team=team)
    CannedResponseFactory(name="Theirs", owner=other_team_agent)
    CannedResponseFactory(name="Their team's", owner=None, team=other_team)

    response = agent_client.get(LIST_URL)

    assert response.status_code == 200
    assert {item.name for item in response.context["page"]} == {"Mine", "Shared"}


def test_create_page_adds_a_response_owned_by_the_agent(agent_client, agent, team):
    response = agent_client.post(
        reverse("service:canned_create"),
        {"name": "Greeting", "body": "Hello {customer_name}", "team": team.pk},
    )

    assert response.status_code == 302
    created = CannedResponse.objects.get(name="Greeting")
    assert created.owner == agent
    assert created.team == team


def test_create_page_refuses_sharing_with_a_team_one_is_not_in(agent_client, other_team):
    response = agent_client.post(
        reverse("service:canned_create"),
        {"name": "Greeting", "body": "Hello", "team": other_team.pk},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["team"]
    assert not CannedResponse.objects.exists()


def test_edit_and_delete_pages(agent_client, agent):
    response = CannedResponseFactory(name="Old", owner=agent)

    edited = agent_client.post(
        reverse("service:canned_edit", args=[response.pk]),
        {"name": "New", "body": "Changed", "team": ""},
    )
    assert edited.status_code == 302
    response.refresh_from_db()
    assert (response.name, response.body) == ("New", "Changed")

    deleted = agent_client.post(reverse("service:canned_delete", args=[response.pk]))
    assert deleted.status_code == 302
    assert not CannedResponse.objects.filter(pk=response.pk).exists()


def test_another_teams_response_cannot_be_edited_or_deleted(agent_client, other_team_agent):
    response = CannedResponseFactory(owner=other_team_agent)

    assert agent_client.get(reverse("service:canned_edit", args=[response.pk])).status_code == 404
    assert (
        agent_client.post(reverse("service:canned_delete", args=[response.pk])).status_code == 404
    )
    assert CannedResponse.objects.filter(pk=response.pk).exists()


def test_services_check_permission_and_visibility(agent, rep, other_team_agent):
    theirs = CannedResponseFactory(owner=other_team_agent)

    with pytest.raises(PermissionDenied):
        canned_response_create(actor=rep, name="x", body="y")
    with pytest.raises(PermissionDenied):
        canned_response_update(actor=agent, response=theirs, name="Mine now")
    with pytest.raises(PermissionDenied):
        canned_response_delete(actor=agent, response=theirs)
    with pytest.raises(ValidationError) as error:
        canned_response_create(actor=agent, name="", body="y")
    assert "name" in error.value.message_dict


def test_ticket_page_offers_the_visible_responses(agent_client, agent, ticket, other_team_agent):
    CannedResponseFactory(name="Mine", owner=agent)
    CannedResponseFactory(name="Theirs", owner=other_team_agent)

    response = agent_client.get(reverse("service:ticket_detail", args=[ticket.pk]))

    assert [item.name for item in response.context["canned_responses"]] == ["Mine"]
    assert "data-canned-picker" in response.content.decode()
