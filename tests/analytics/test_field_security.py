"""Field rules on the dashboards: a chart computed from a field hidden from the user comes
without figures and says it is hidden, on the page's JSON and the CSV alike."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from crm.accounts import roles
from crm.accounts.models import FieldRule
from sales.models import Deal
from tests.accounts.factories import UserFactory
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory

pytestmark = pytest.mark.django_db


def hide(model, field_name: str, role: str) -> None:
    FieldRule.objects.update_or_create(
        content_type=ContentType.objects.get_for_model(model),
        field_name=field_name,
        role=Group.objects.get(name=role),
        defaults={"access": FieldRule.Access.HIDDEN},
    )


@pytest.fixture
def open_deal(rep, team):
    return DealFactory(
        owner=rep,
        team=team,
        customer=CustomerFactory(owner=rep, team=team),
        amount=Decimal("4321.00"),
        expected_close_date=timezone.localdate() + timedelta(days=1),
    )


def series(data: dict) -> dict[str, list]:
    return {item["label"]: item["data"] for item in data["series"]}


def test_a_rep_whose_amounts_are_hidden_gets_their_pipeline_chart_marked_hidden(
    client_for, rep, open_deal
):
    client = client_for(rep)
    assert 4321.0 in series(client.get("/analytics/charts/my_pipeline/").json())["Amount"]
    hide(Deal, "amount", roles.SALES_REP)

    data = client.get("/analytics/charts/my_pipeline/").json()
    csv_text = client.get("/analytics/charts/my_pipeline/?format=csv").content.decode()

    assert data["series"] == [] and data["labels"] == []
    assert data["extra"] == {"hidden": True}
    assert "Hidden" in data["note"] and "amount" in data["note"]
    assert "4321" not in csv_text


def test_managers_still_see_the_amounts_a_rep_may_not(client_for, manager, open_deal):
    hide(Deal, "amount", roles.SALES_REP)

    data = client_for(manager).get("/analytics/charts/pipeline/").json()

    assert 4321.0 in series(data)["Amount"]


def test_the_forecast_is_hidden_with_the_amount(client_for, manager, open_deal):
    hide(Deal, "amount", roles.MANAGER)

    data = client_for(manager).get("/analytics/charts/forecast/").json()

    assert data["extra"] == {"hidden": True}


def test_an_agent_gets_no_income_chart_a_rep_does(client_for, rep):
    agent = UserFactory(username="agent", roles=[roles.SERVICE_AGENT])
    CustomerFactory(
        owner=rep, birthday=timezone.localdate().replace(year=1990), annual_income=Decimal("50000")
    )
    url = "/analytics/customers/charts/age-income/"

    for_agent = client_for(agent).get(url).json()
    for_rep = client_for(rep).get(url).json()

    assert for_agent["extra"] == {"hidden": True} and "income" in for_agent["note"]
    assert for_rep["series"][0]["data"]
    assert client_for(agent).get("/analytics/customers/charts/age-histogram/").json()["series"]
