"""Field rules on the customer pages, list, search, segments and export: a hidden field is not
shown, not even its label, and cannot be searched, filtered or exported."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.accounts import roles
from crm.accounts.models import FieldRule
from customers.models import Customer
from customers.selectors.customers import CustomerFilter, segment_customers_visible
from customers.services.segments import segment_create
from tests.accounts.factories import UserFactory
from tests.customers.export_downloads import export_download
from tests.customers.factories import CompanyFactory, CustomerFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def hide(model, field_name: str, role: str) -> None:
    FieldRule.objects.update_or_create(
        content_type=ContentType.objects.get_for_model(model),
        field_name=field_name,
        role=Group.objects.get(name=role),
        defaults={"access": FieldRule.Access.HIDDEN},
    )


@pytest.fixture
def agent(db):
    return UserFactory(username="agent", roles=[roles.SERVICE_AGENT])


@pytest.fixture
def marketer(db):
    return UserFactory(username="marketer", roles=[roles.MARKETING])


@pytest.fixture
def rich_customer(rep):
    return CustomerFactory(
        name="Wang Fang",
        owner=rep,
        email="wang.fang@example.com",
        phone="+8613800138000",
        city="Hangzhou",
        annual_income=Decimal("987654.00"),
        income_currency="CNY",
    )


def test_an_agent_sees_no_income_on_the_customer_page_a_rep_does(
    client_for, agent, rep, rich_customer
):
    url = reverse("customers:customer_detail", args=[rich_customer.pk])

    agent_page = client_for(agent).get(url).content.decode()
    rep_page = client_for(rep).get(url).content.decode()

    assert "987" not in agent_page
    assert "Annual income" not in agent_page
    assert "wang.fang@example.com" in agent_page
    assert "987,654.00" in rep_page or "987654.00" in rep_page
    assert "Annual income" in rep_page


def test_a_hidden_email_leaves_the_page_the_list_and_the_company_page(
    client_for, rep, rich_customer
):
    hide(Customer, "email", roles.SALES_REP)
    company = CompanyFactory(name="Hangzhou Tea", owner=rep)
    rich_customer.company = company
    rich_customer.save(update_fields=["company"])
    client = client_for(rep)

    pages = [
        client.get(reverse("customers:customer_detail", args=[rich_customer.pk])),
        client.get(reverse("customers:customer_list")),
        client.get(reverse("customers:company_detail", args=[company.pk])),
    ]

    for response in pages:
        assert response.status_code == 200
        assert "wang.fang@example.com" not in response.content.decode()
        assert ">Email<" not in response.content.decode()
    assert "Wang Fang" in pages[1].content.decode()


def test_a_user_cannot_find_a_customer_by_a_hidden_field(client_for, agent, rep, rich_customer):
    hide(Customer, "email", roles.SERVICE_AGENT)
    hide(Customer, "phone", roles.SERVICE_AGENT)
    hide(Customer, "city", roles.SERVICE_AGENT)
    url = reverse("customers:customer_list")

    def found(user, **params) -> bool:
        return "Wang Fang" in client_for(user).get(url, params).content.decode()

    assert found(rep, q="wang.fang@")
    assert found(rep, q="13800138000")
    assert found(rep, city="Hangzhou")
    assert not found(agent, q="wang.fang@")
    assert not found(agent, q="13800138000")
    assert found(agent, q="Wang Fang")
    # The city filter is left out rather than answered: every customer is listed.
    other = CustomerFactory(name="Li Lei", city="Beijing")
    response = client_for(agent).get(url, {"city": "Hangzhou"}).content.decode()
    assert "Wang Fang" in response and other.name in response


def test_the_list_filter_bar_offers_no_filter_on_a_hidden_field(client_for, agent, rep):
    hide(Customer, "birthday", roles.SERVICE_AGENT)
    url = reverse("customers:customer_list")

    assert 'name="age_min"' in client_for(rep).get(url).content.decode()
    assert 'name="age_min"' not in client_for(agent).get(url).content.decode()


def test_a_segment_cannot_be_built_on_a_hidden_field(agent):
    hide(Customer, "city", roles.SERVICE_AGENT)

    with pytest.raises(ValidationError) as error:
        segment_create(actor=agent, name="Hangzhou", filters=CustomerFilter(city="Hangzhou"))

    assert "filters" in error.value.message_dict


def test_an_existing_segment_on_a_hidden_field_still_lists_its_members(
    client_for, agent, rich_customer
):
    CustomerFactory(name="Li Lei", city="Beijing")
    segment = SegmentFactory(name="Hangzhou", filters={"city": "Hangzhou"})
    hide(Customer, "city", roles.SERVICE_AGENT)

    members = list(segment_customers_visible(user=agent, segment=segment))

    assert members == [rich_customer]


def test_the_export_drops_the_hidden_columns(client_for, marketer, rich_customer):
    hide(Customer, "email", roles.MARKETING)
    hide(Customer, "birthday", roles.MARKETING)
    rich_customer.team = None
    rich_customer.save(update_fields=["team"])
    marketer.user_permissions.add(
        *Group.objects.get(name=roles.SERVICE_AGENT).permissions.filter(codename="see_all_customer")
    )

    response = export_download(client_for(marketer), "csv")

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert "Email" not in header and "Birthday" not in header and "Age" not in header
    assert "Phone" in header
    assert "wang.fang@example.com" not in text


def test_the_customer_list_makes_no_query_per_row_for_field_rules(
    client_for, agent, rep, django_assert_max_num_queries
):
    hide(Customer, "email", roles.SERVICE_AGENT)
    CustomerFactory.create_batch(3, owner=rep)
    client = client_for(agent)
    client.get(reverse("customers:customer_list"))
    with django_assert_max_num_queries(50) as few:
        client.get(reverse("customers:customer_list"))
    CustomerFactory.create_batch(20, owner=rep)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("customers:customer_list"))

    assert response.content.decode().count("customers/") >= 23
