"""The keyboard shortcuts' help dialog offers only the pages the user may open, and actions that
destroy or revoke something ask before they are sent."""

import re

import pytest
from django.urls import reverse

from crm.accounts import roles
from tests.accounts.factories import UserFactory


def _shortcuts(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-shortcut="([^"]+)" data-href="([^"]+)"', html))


@pytest.mark.django_db
def test_a_rep_gets_shortcuts_to_new_customers_deals_and_tasks(rep_client):
    # When a rep opens any page
    shortcuts = _shortcuts(rep_client.get(reverse("home")).content.decode())

    # Then the help dialog carries the new-record shortcuts a rep may use
    assert shortcuts["n c"] == reverse("customers:customer_new")
    assert shortcuts["n d"] == reverse("sales:deal_create")
    assert shortcuts["n k"] == reverse("collaboration:task_create")
    assert shortcuts["g b"] == reverse("sales:board")


@pytest.mark.django_db
def test_an_agent_gets_no_shortcut_to_deals(client_for):
    # Given a service agent, who has no deals
    agent = UserFactory(username="agent", roles=[roles.SERVICE_AGENT])

    # When they open any page
    shortcuts = _shortcuts(client_for(agent).get(reverse("home")).content.decode())

    # Then they get the ticket shortcuts and none to deals
    assert shortcuts["n t"] == reverse("service:ticket_create")
    assert shortcuts["g t"] == reverse("service:ticket_list")
    assert "n d" not in shortcuts
    assert "g b" not in shortcuts


@pytest.mark.django_db
def test_signed_out_pages_have_no_shortcuts(client):
    response = client.get(reverse("login"))

    assert 'id="shortcuts-help"' not in response.content.decode()


@pytest.mark.django_db
def test_ending_sessions_asks_first(rep_client):
    # When a user looks at their sessions
    html = rep_client.get(reverse("accounts:session_list")).content.decode()

    # Then every form that logs sessions out asks for a confirmation
    for url in (reverse("accounts:session_end_others"), reverse("accounts:session_end_all")):
        form = re.search(rf'<form method="post" action="{re.escape(url)}"[^>]*>', html).group(0)
        assert "data-confirm=" in form
