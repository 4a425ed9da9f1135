"""Field rules on the deal and ticket pages: a hidden field is not shown, not even its label,
and the lists cannot be searched, filtered or sorted by it."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from crm.accounts import roles
from crm.accounts.models import FieldRule
from sales.models import Deal
from service.models import Ticket
from tests.accounts.factories import UserFactory
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory
from tests.service.factories import TicketFactory

pytestmark = pytest.mark.django_db


def hide(model, field_name: str, role: str) -> None:
    FieldRule.objects.update_or_create(
        content_type=ContentType.objects.get_for_model(model),
        field_name=field_name,
        role=Group.objects.get(name=role),
        defaults={"access": FieldRule.Access.HIDDEN},
    )


@pytest.fixture
def deal(rep, team):
    return DealFactory(
        name="Tea export",
        owner=rep,
        team=team,
        customer=CustomerFactory(owner=rep, team=team),
        amount=Decimal("98765.00"),
    )


def pages(client, deal) -> dict[str, str]:
    urls = {
        "detail": reverse("sales:deal_detail", args=[deal.pk]),
        "list": reverse("sales:deal_list"),
        "board": reverse("sales:board"),
        "customer": reverse("customers:customer_detail", args=[deal.customer_id]),
    }
    found = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, name
        found[name] = response.content.decode()
    return found


def test_a_rule_hiding_amounts_from_reps_hides_them_on_every_deal_page(
    client_for, rep, manager, deal
):
    hide(Deal, "amount", roles.SALES_REP)

    for_rep = pages(client_for(rep), deal)
    for_manager = pages(client_for(manager), deal)

    for name, page in for_rep.items():
        assert "98,765" not in page and "98765" not in page, name
    assert ">Amount<" not in for_rep["detail"] and ">Amount<" not in for_rep["list"]
    assert "Open amount" not in for_rep["customer"]
    assert "Tea export" in for_rep["board"] and "Tea export" in for_rep["list"]
    for name in ("detail", "list", "board"):
        assert "98,765" in for_manager[name] or "98765" in for_manager[name], name


def test_a_deal_list_cannot_be_sorted_or_filtered_by_a_hidden_field(client_for, rep, deal):
    hide(Deal, "amount", roles.SALES_REP)
    hide(Deal, "expected_close_date", roles.SALES_REP)
    client = client_for(rep)

    page = client.get(reverse("sales:deal_list"), {"ordering": "-amount"}).content.decode()
    filtered = client.get(reverse("sales:deal_list"), {"close_from": "2999-01-01"})

    assert 'value="-amount"' not in page
    assert 'name="close_from"' not in filtered.content.decode()
    assert "Tea export" in filtered.content.decode()


def test_the_board_makes_no_query_per_card_for_field_rules(
    client_for, rep, team, deal, django_assert_max_num_queries
):
    hide(Deal, "amount", roles.SALES_REP)
    client = client_for(rep)
    with django_assert_max_num_queries(200) as first:
        client.get(reverse("sales:board"))
    for _ in range(15):
        DealFactory(owner=rep, team=team, customer=deal.customer)

    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get(reverse("sales:board"))


@pytest.fixture
def agent(db):
    return UserFactory(username="agent", roles=[roles.SERVICE_AGENT])


def test_a_hidden_ticket_subject_is_neither_shown_nor_searchable(client_for, agent):
    ticket = TicketFactory(subject="Refund for broken kettle", assignee=agent)
    hide(Ticket, "subject", roles.SERVICE_AGENT)
    client = client_for(agent)

    detail = client.get(reverse("service:ticket_detail", args=[ticket.pk])).content.decode()
    listed = client.get(reverse("service:ticket_list"), {"queue": "all"}).content.decode()
    searched = client.get(reverse("service:ticket_list"), {"queue": "all", "q": "kettle"})

    assert "kettle" not in detail and "kettle" not in listed
    assert ticket.number in listed
    assert ticket.number not in searched.content.decode().split("<tbody>")[1]
    by_number = client.get(reverse("service:ticket_list"), {"queue": "all", "q": ticket.number})
    assert ticket.number in by_number.content.decode().split("<tbody>")[1]


def test_the_forecast_and_the_reports_leave_out_hidden_amounts(client_for, rep, manager, deal):
    hide(Deal, "amount", roles.SALES_REP)

    forecast = client_for(rep).get(reverse("sales:forecast")).content.decode()
    reports = client_for(rep).get(reverse("sales:reports")).content.decode()
    managers_reports = client_for(manager).get(reverse("sales:reports")).content.decode()

    assert "data-figures-hidden" in forecast and "By rep" not in forecast
    assert "Won amount" not in reports and "Won amount" in managers_reports


def test_an_agent_whose_ratings_are_hidden_sees_no_satisfaction_figures(client_for, agent):
    TicketFactory(assignee=agent, satisfaction_rating=2)
    hide(Ticket, "satisfaction_rating", roles.SERVICE_AGENT)

    page = client_for(agent).get(reverse("service:dashboard")).content.decode()

    assert "data-figure-hidden" in page
