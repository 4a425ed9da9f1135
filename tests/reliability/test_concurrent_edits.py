"""Two people edit the same deal or ticket from the same version: the second save is refused with
a message (the page keeps what they typed; the API answers 409 with the current version) and the
first person's change stays. On PostgreSQL, two saves sent at the same instant: exactly one wins."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from crm.accounts import roles
from crm.concurrency import StaleRecordError
from sales.models import Deal
from sales.services.deals import deal_create, deal_update
from service.models import Ticket
from service.services.tickets import ticket_create, ticket_update
from tests.accounts.factories import UserFactory
from tests.customers.factories import CustomerFactory
from tests.sales.factories import pipeline_with_stages
from tests.sales.test_deal_pages import edit_form as deal_form
from tests.service.test_ticket_pages import edit_form as ticket_form


@pytest.fixture
def customer(rep, team):
    return CustomerFactory(name="Ada Lovelace", owner=rep, team=team)


@pytest.fixture
def deal(rep, customer):
    # A pipeline of its own: a transactional test may follow one that flushed the default.
    return deal_create(actor=rep, name="Desks", customer=customer, pipeline=pipeline_with_stages())


@pytest.fixture
def agents(team):
    people = [UserFactory(username=f"agent{n}", roles=[roles.SERVICE_AGENT]) for n in (1, 2)]
    for person in people:
        person.team_memberships.create(team=team)
    return people


@pytest.fixture
def ticket(agents, customer):
    return ticket_create(actor=agents[0], customer=customer, subject="Printer on fire")


@pytest.mark.django_db
def test_deal_pages_refuse_the_second_save_from_the_same_version(
    rep_client, client_for, manager, deal
):
    # given the rep and their manager both open the edit page at version 1
    url = reverse("sales:deal_edit", args=[deal.pk])
    assert rep_client.get(url).status_code == 200
    manager_client = client_for(manager)
    assert manager_client.get(url).status_code == 200
    opened = Deal.objects.get(pk=deal.pk)

    # when the rep saves first, then the manager
    first = rep_client.post(url, deal_form(opened, name="Rep's name", amount="100"))
    second = manager_client.post(url, deal_form(opened, name="Manager's name", amount="999"))

    # then the manager is told, with what they typed still in the form
    assert first.status_code == 302
    assert second.status_code == 409
    body = second.content.decode()
    assert "changed by someone else" in body
    assert 'value="Manager&#x27;s name"' in body or 'value="Manager\'s name"' in body
    # and the rep's change is intact
    stored = Deal.objects.get(pk=deal.pk)
    assert (stored.name, stored.amount, stored.version) == ("Rep's name", Decimal("100"), 2)


@pytest.mark.django_db
def test_deal_api_refuses_the_second_save_with_the_current_version(
    rep_client, client_for, manager, deal
):
    # given both read the deal at version 1
    url = f"/api/v1/deals/{deal.pk}/"
    manager_client = client_for(manager)
    assert manager_client.get(url).json()["version"] == 1

    # when both send a change made from version 1
    first = rep_client.patch(url, {"name": "Rep's", "version": 1}, "application/json")
    second = manager_client.patch(url, {"name": "Manager's", "version": 1}, "application/json")

    # then
    assert first.status_code == 200
    assert second.status_code == 409
    error = second.json()["error"]
    assert (error["code"], error["current_version"]) == ("conflict", 2)
    assert Deal.objects.get(pk=deal.pk).name == "Rep's"


@pytest.mark.django_db
def test_ticket_pages_and_api_refuse_the_second_save_from_the_same_version(
    client_for, agents, ticket
):
    # given two agents of the team opened the ticket at its version
    first_client, second_client = (client_for(agent) for agent in agents)
    url = reverse("service:ticket_edit", args=[ticket.pk])
    opened = Ticket.objects.get(pk=ticket.pk)

    # when the first saves on the page, then the second on the page and through the API
    first = first_client.post(url, ticket_form(opened, subject="Toner replaced"))
    second = second_client.post(url, ticket_form(opened, subject="Printer replaced"))
    api = second_client.patch(
        f"/api/v1/tickets/{ticket.pk}/",
        {"subject": "Printer replaced", "version": opened.version},
        "application/json",
    )

    # then the second is refused both ways, keeping their text on the page
    assert first.status_code == 302
    assert second.status_code == 409
    assert "changed by someone else" in second.content.decode()
    assert 'value="Printer replaced"' in second.content.decode()
    assert api.status_code == 409
    assert api.json()["error"]["current_version"] == opened.version + 1
    assert Ticket.objects.get(pk=ticket.pk).subject == "Toner replaced"


def _race(save_a, save_b) -> list[str]:
    """Run two saves at the same instant, each on its own database connection."""
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def run(save) -> None:
        start.wait()
        try:
            save()
            outcomes.append("saved")
        except StaleRecordError:
            outcomes.append("stale")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(save,)) for save in (save_a, save_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_saves_of_a_deal_and_a_ticket_one_wins(rep, manager, deal, agents, ticket):
    # given  # when two saves from the same version run at once
    deals = _race(
        lambda: deal_update(actor=rep, deal=Deal.objects.get(pk=deal.pk), version=1, name="A"),
        lambda: deal_update(actor=manager, deal=Deal.objects.get(pk=deal.pk), version=1, name="B"),
    )
    version = ticket.version
    tickets = _race(
        lambda: ticket_update(
            actor=agents[0], ticket=Ticket.objects.get(pk=ticket.pk), version=version, subject="A"
        ),
        lambda: ticket_update(
            actor=agents[1], ticket=Ticket.objects.get(pk=ticket.pk), version=version, subject="B"
        ),
    )

    # then exactly one of each pair is stored, once
    assert deals == tickets == ["saved", "stale"]
    stored_deal = Deal.objects.get(pk=deal.pk)
    assert (stored_deal.version, stored_deal.name in {"A", "B"}) == (2, True)
    stored_ticket = Ticket.objects.get(pk=ticket.pk)
    assert (stored_ticket.version, stored_ticket.subject in {"A", "B"}) == (version + 1, True)
