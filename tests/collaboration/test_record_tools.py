"""The record tools strip on the deal, ticket and task pages, and the "Collaboration" panel on
the customer's 360 page: links to the record's discussion, files, sharing, a new meeting and a
new task about it."""

import re
from html import unescape

import pytest

from tests.collaboration.factories import TaskFactory
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory
from tests.service.factories import TicketFactory

pytestmark = pytest.mark.django_db


def tool_links(response) -> dict[str, str]:
    """{tool key: href} of the strip on the page."""
    html = response.content.decode()
    return {
        key: unescape(href)
        for href, key in re.findall(r'href="([^"]*)" data-record-tool="([^"]+)"', html)
    }


def test_the_deal_page_has_every_tool(rep_client, rep, team):
    customer = CustomerFactory(owner=rep, team=team)
    deal = DealFactory(owner=rep, team=team, customer=customer)

    response = rep_client.get(f"/sales/deals/{deal.pk}/")

    assert response.status_code == 200
    assert tool_links(response) == {
        "discussion": f"/collaboration/records/sales.deal/{deal.pk}/discussion/",
        "files": f"/collaboration/records/sales.deal/{deal.pk}/files/",
        "sharing": f"/collaboration/records/sales.deal/{deal.pk}/sharing/",
        "meeting": (
            f"/collaboration/calendar/events/new/?related_type=sales.deal&related_id={deal.pk}"
        ),
        "task": (
            f"/collaboration/tasks/new/?related_type=sales.deal&related_id={deal.pk}"
            f"&next=%2Fsales%2Fdeals%2F{deal.pk}%2F"
        ),
    }
    # The files panel sits under the strip.
    assert f"files-panel-sales.deal-{deal.pk}" in response.content.decode()


def test_the_ticket_page_has_every_tool(client_for, admin_user):
    ticket = TicketFactory()

    response = client_for(admin_user).get(f"/service/tickets/{ticket.pk}/")

    assert response.status_code == 200
    links = tool_links(response)
    assert set(links) == {"discussion", "files", "sharing", "meeting", "task"}
    assert links["discussion"] == f"/collaboration/records/service.ticket/{ticket.pk}/discussion/"
    assert links["task"].startswith(
        f"/collaboration/tasks/new/?related_type=service.ticket&related_id={ticket.pk}"
    )


def test_the_task_page_offers_the_tools_a_task_takes(rep_client, rep, team):
    # A task has files and sharing; it has no discussion room, and is not the subject of a
    # meeting or of another task.
    task = TaskFactory(assignee=rep, team=team)

    response = rep_client.get(f"/collaboration/tasks/{task.pk}/")

    assert tool_links(response) == {
        "files": f"/collaboration/records/collaboration.task/{task.pk}/files/",
        "sharing": f"/collaboration/records/collaboration.task/{task.pk}/sharing/",
    }


def test_the_links_lead_to_working_pages(rep_client, rep, team):
    deal = DealFactory(owner=rep, team=team, customer=CustomerFactory(owner=rep, team=team))
    links = tool_links(rep_client.get(f"/sales/deals/{deal.pk}/"))

    for key, url in links.items():
        response = rep_client.get(url)
        assert response.status_code in (200, 302), key


def test_a_user_without_a_permission_does_not_get_its_tool(client_for, rep, team):
    deal = DealFactory(owner=rep, team=team, customer=CustomerFactory(owner=rep, team=team))
    for group in rep.groups.all():
        group.permissions.remove(*group.permissions.filter(codename="add_event"))

    response = client_for(rep).get(f"/sales/deals/{deal.pk}/")

    assert "meeting" not in tool_links(response)
    assert "task" in tool_links(response)


def test_the_customer_page_has_a_collaboration_panel(rep_client, rep, team):
    customer = CustomerFactory(owner=rep, team=team)

    response = rep_client.get(f"/customers/{customer.pk}/")

    assert response.status_code == 200
    panel = next(p for p in response.context["panels"] if str(p.title) == "Collaboration")
    html = " ".join(str(value) for _label, value in panel.rows)
    for url in (
        f"/collaboration/records/customers.customer/{customer.pk}/discussion/",
        f"/collaboration/records/customers.customer/{customer.pk}/files/",
        f"/collaboration/records/customers.customer/{customer.pk}/sharing/",
        f"/collaboration/calendar/events/new/?related_type=customers.customer&amp;related_id={customer.pk}",
    ):
        assert f'href="{url}"' in html
        assert f'href="{url}"' in response.content.decode()
