"""Lists with nothing to show say why and what to do next: create the first record when the user
may, or clear the filters that hid everything."""

import pytest
from django.urls import reverse

from crm.accounts import roles
from tests.accounts.factories import UserFactory


def _empty_state(html: str) -> str:
    start = html.index('class="empty-state')
    return html[start : html.index("</div>\n</div>", start)]


@pytest.mark.django_db
def test_an_empty_deal_list_offers_to_create_the_first_deal(rep_client):
    # Given a rep without deals
    # When they open the deal list
    response = rep_client.get(reverse("sales:deal_list"))

    # Then it says there are none yet and links to the new deal form
    empty_state = _empty_state(response.content.decode())
    assert "No deals yet." in empty_state
    assert reverse("sales:deal_create") in empty_state
    assert "Create your first deal" in empty_state
    assert "Clear the filters" not in empty_state


@pytest.mark.django_db
def test_a_filtered_empty_deal_list_offers_to_clear_the_filters(rep_client):
    # Given a rep filtering deals by a search nothing matches
    # When they open the deal list
    response = rep_client.get(reverse("sales:deal_list"), {"q": "no such deal"})

    # Then it says nothing matches and links to the list without filters
    empty_state = _empty_state(response.content.decode())
    assert "No deals match these filters." in empty_state
    assert f'href="{reverse("sales:deal_list")}"' in empty_state
    assert "Clear the filters" in empty_state


@pytest.mark.django_db
def test_an_empty_ticket_list_offers_to_open_a_ticket(client_for):
    # Given a service agent, who may open tickets
    agent = UserFactory(username="agent", roles=[roles.SERVICE_AGENT])

    # When they see an empty ticket list
    response = client_for(agent).get(reverse("service:ticket_list"))

    # Then they are offered to open one
    empty_state = _empty_state(response.content.decode())
    assert reverse("service:ticket_create") in empty_state


@pytest.mark.django_db
def test_an_empty_list_without_the_permission_has_no_create_action(client_for):
    # Given a sales rep, who reads campaigns but may not create them
    campaign_reader = UserFactory(username="reader", roles=[roles.SALES_REP])

    # When the campaign list is empty
    response = client_for(campaign_reader).get(reverse("sales:campaign_list"))

    # Then it says so, without a button they could not use
    empty_state = _empty_state(response.content.decode())
    assert "No campaigns yet." in empty_state
    assert reverse("sales:campaign_create") not in empty_state


@pytest.mark.django_db
def test_an_empty_task_list_offers_to_add_a_task(rep_client):
    response = rep_client.get(reverse("collaboration:task_list"))

    empty_state = _empty_state(response.content.decode())
    assert "No tasks yet." in empty_state
    assert reverse("collaboration:task_create") in empty_state


@pytest.mark.django_db
def test_an_empty_api_token_list_explains_tokens(rep_client):
    response = rep_client.get(reverse("accounts:api_token_list"))

    empty_state = _empty_state(response.content.decode())
    assert "You have no API tokens yet." in empty_state
    assert reverse("accounts:api_token_create") in empty_state
