"""Field rules on the API: a hidden field is absent from every response and refused on write;
a read-only one is shown and refused on write; filters and sorts on a hidden field do nothing."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.accounts import roles
from crm.accounts.models import FieldRule
from crm.webhooks.services import webhook_deliveries_create_many
from customers.models import Customer
from sales.models import Deal
from service.models import Ticket
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory
from tests.service.factories import TicketFactory
from tests.webhooks.factories import WebhookSubscriptionFactory

pytestmark = pytest.mark.django_db

NOT_YOURS = ["You may not change this field."]


def rule(model, field_name: str, role: str, access: str) -> FieldRule:
    return FieldRule.objects.update_or_create(
        content_type=ContentType.objects.get_for_model(model),
        field_name=field_name,
        role=Group.objects.get(name=role),
        defaults={"access": access},
    )[0]


@pytest.fixture
def agent(team):
    user = UserFactory(username="agent", roles=[roles.SERVICE_AGENT])
    TeamMembershipFactory(team=team, user=user)
    return user


@pytest.fixture
def customer(team):
    return CustomerFactory(
        team=team, annual_income=Decimal("250000.00"), identity_number="110101199003071234"
    )


def test_a_service_agent_does_not_see_income_or_identity_number(agent, customer, client_for):
    # given the default rules, which hide both from service agents
    client = client_for(agent)

    # when the agent reads the customer, the list and an expanded ticket
    detail = client.get(f"/api/v1/customers/{customer.pk}/").json()
    listed = client.get("/api/v1/customers/").json()["results"]

    # then neither field is in any of them
    for record in (detail, *listed):
        assert "annual_income" not in record
        assert "identity_number" not in record
        assert "private_notes" not in record
    assert detail["name"] == customer.name


def test_a_rep_sees_every_customer_field(rep, team, client_for):
    customer = CustomerFactory(owner=rep, team=team, annual_income=Decimal("1.00"))
    data = client_for(rep).get(f"/api/v1/customers/{customer.pk}/").json()
    assert data["annual_income"] == "1.00"
    assert "identity_number" in data


def test_asking_for_a_hidden_field_is_refused_as_an_unknown_one(agent, customer, client_for):
    client = client_for(agent)
    hidden = client.get(f"/api/v1/customers/{customer.pk}/?fields=name,annual_income")
    unknown = client.get(f"/api/v1/customers/{customer.pk}/?fields=name,no_such_field")

    assert hidden.status_code == unknown.status_code == 400
    assert hidden.json()["error"]["code"] == "invalid_fields"
    # The list of known names leaves the hidden field out: no oracle.
    assert "annual_income" not in hidden.json()["error"]["message"].split("Known:")[1]


def test_writing_a_hidden_field_is_refused_and_changes_nothing(agent, customer, client_for):
    response = client_for(agent).patch(
        f"/api/v1/customers/{customer.pk}/",
        {"annual_income": "1.00", "city": "Beijing"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"annual_income": NOT_YOURS}
    customer.refresh_from_db()
    assert customer.annual_income == Decimal("250000.00")
    assert customer.city == "Shanghai"


def test_creating_with_a_hidden_field_is_refused(agent, client_for):
    response = client_for(agent).post(
        "/api/v1/customers/",
        {"name": "Li Wei", "identity_number": "X"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"identity_number": NOT_YOURS}
    assert not Customer.objects.filter(name="Li Wei").exists()


def test_the_birthday_rule_hides_the_age_and_its_filters(agent, team, client_for):
    rule(Customer, "birthday", roles.SERVICE_AGENT, FieldRule.Access.HIDDEN)
    young = CustomerFactory(team=team, name="Young", birthday="2000-01-01")
    CustomerFactory(team=team, name="Old", birthday="1950-01-01")
    client = client_for(agent)

    data = client.get(f"/api/v1/customers/{young.pk}/").json()
    filtered = client.get("/api/v1/customers/?age_min=60").json()["results"]

    assert "birthday" not in data and "age" not in data
    # The filter on the hidden field is ignored, as an unknown one is.
    assert {record["name"] for record in filtered} >= {"Young", "Old"}


@pytest.fixture
def deal(rep, team):
    return DealFactory(owner=rep, team=team, customer=CustomerFactory(owner=rep, team=team))


def test_a_read_only_deal_amount_is_shown_but_refused_on_write(rep, deal, client_for):
    rule(Deal, "amount", roles.SALES_REP, FieldRule.Access.READ_ONLY)
    client = client_for(rep)

    data = client.get(f"/api/v1/deals/{deal.pk}/").json()
    response = client.patch(
        f"/api/v1/deals/{deal.pk}/",
        {"amount": "5.00", "version": data["version"]},
        content_type="application/json",
    )
    lines = client.patch(
        f"/api/v1/deals/{deal.pk}/",
        {"lines": [], "version": data["version"]},
        content_type="application/json",
    )

    assert data["amount"] == "1000.00"
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"amount": NOT_YOURS}
    assert lines.json()["error"]["fields"] == {"lines": NOT_YOURS}
    deal.refresh_from_db()
    assert deal.amount == Decimal("1000.00")


def test_a_rep_may_still_change_other_deal_fields(rep, deal, client_for):
    rule(Deal, "amount", roles.SALES_REP, FieldRule.Access.READ_ONLY)
    client = client_for(rep)
    version = client.get(f"/api/v1/deals/{deal.pk}/").json()["version"]
    response = client.patch(
        f"/api/v1/deals/{deal.pk}/",
        {"next_step": "Call", "version": version},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["next_step"] == "Call"


def test_sorting_deals_by_a_hidden_amount_is_ignored(rep, team, client_for):
    rule(Deal, "amount", roles.SALES_REP, FieldRule.Access.HIDDEN)
    customer = CustomerFactory(owner=rep, team=team)
    for name, amount in [("B", 1), ("A", 3), ("C", 2)]:
        DealFactory(name=name, owner=rep, team=team, customer=customer, amount=amount)
    client = client_for(rep)

    by_amount = client.get("/api/v1/deals/?ordering=amount").json()["results"]
    unsorted = client.get("/api/v1/deals/").json()["results"]

    assert [d["id"] for d in by_amount] == [d["id"] for d in unsorted]
    assert all("amount" not in d and "lines" not in d for d in by_amount)


def test_an_agent_does_not_see_a_hidden_ticket_field(agent, team, client_for):
    rule(Ticket, "description", roles.SERVICE_AGENT, FieldRule.Access.HIDDEN)
    ticket = TicketFactory(team=team, assignee=agent, description="Secret")
    client = client_for(agent)

    data = client.get(f"/api/v1/tickets/{ticket.pk}/").json()
    response = client.patch(
        f"/api/v1/tickets/{ticket.pk}/",
        {"description": "Changed", "version": data["version"]},
        content_type="application/json",
    )

    assert "description" not in data
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"description": NOT_YOURS}
    ticket.refresh_from_db()
    assert ticket.description == "Secret"


def test_an_expanded_customer_leaves_out_what_is_hidden(agent, team, client_for):
    rule(Customer, "email", roles.SERVICE_AGENT, FieldRule.Access.HIDDEN)
    ticket = TicketFactory(team=team, assignee=agent)

    data = client_for(agent).get(f"/api/v1/tickets/{ticket.pk}/?expand=customer").json()

    assert data["customer"]["id"] == ticket.customer_id
    assert "email" not in data["customer"]


def test_a_user_with_several_roles_gets_the_most_open_access(team, customer, client_for):
    user = UserFactory(roles=[roles.SERVICE_AGENT, roles.MARKETING])
    TeamMembershipFactory(team=team, user=user)

    data = client_for(user).get(f"/api/v1/customers/{customer.pk}/").json()

    # Marketing may see the income, agents not; neither sees the identity number.
    assert data["annual_income"] == "250000.00"
    assert "identity_number" not in data


@pytest.mark.parametrize("who", ["admin_user", "superuser"])
def test_admins_are_never_restricted(who, request, customer, client_for):
    rule(Customer, "annual_income", roles.SERVICE_AGENT, FieldRule.Access.HIDDEN)
    data = client_for(request.getfixturevalue(who)).get(f"/api/v1/customers/{customer.pk}/")
    assert data.json()["annual_income"] == "250000.00"


def test_the_customer_list_reads_the_rules_in_a_fixed_number_of_queries(
    agent, team, client_for, django_assert_max_num_queries
):
    CustomerFactory.create_batch(5, team=team)
    client = client_for(agent)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/customers/")
    for field_name in ("email", "phone", "street", "city", "postcode", "notes", "job_title"):
        rule(Customer, field_name, roles.SERVICE_AGENT, FieldRule.Access.READ_ONLY)
    with django_assert_max_num_queries(len(few)):
        client.get("/api/v1/customers/")


def test_a_webhook_leaves_out_what_its_owner_may_not_see(agent, rep, customer):
    # given an agent and a rep who both listen to customer changes
    for owner in (agent, rep):
        WebhookSubscriptionFactory(owner=owner, events=["customer.updated"])
    customer.owner = rep
    customer.save()

    # when a change of the income is announced (sending is left to the worker)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("crm.webhooks.services._send_queue", lambda *args, **kwargs: None)
        deliveries = webhook_deliveries_create_many(
            event="customer.updated",
            announcements=[(customer, {"changed_fields": ["annual_income", "city"]})],
        )

    # then the agent's delivery has neither the income nor its name among the changes
    by_owner = {d.subscription.owner_id: d.payload for d in deliveries}
    assert "annual_income" not in by_owner[agent.pk]["data"]
    assert by_owner[agent.pk]["changes"] == {"changed_fields": ["city"]}
    assert by_owner[rep.pk]["data"]["annual_income"] == "250000.00"


def test_a_webhook_leaves_out_what_reveals_a_hidden_field(agent, rep, customer):
    # given the birthday hidden from agents, and an agent listening to customer changes
    rule(Customer, "birthday", roles.SERVICE_AGENT, "hidden")
    WebhookSubscriptionFactory(owner=agent, events=["customer.updated"])

    # when a change of the birthday is announced (sending is left to the worker)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("crm.webhooks.services._send_queue", lambda *args, **kwargs: None)
        (delivery,) = webhook_deliveries_create_many(
            event="customer.updated",
            announcements=[(customer, {"changed_fields": ["birthday", "age", "city"]})],
        )

    # then the age, which is the birthday by another name, is left out as well
    assert "birthday" not in delivery.payload["data"]
    assert "age" not in delivery.payload["data"]
    assert delivery.payload["changes"] == {"changed_fields": ["city"]}


def test_bulk_upsert_refuses_an_item_naming_a_field_hidden_from_the_caller(agent, client_for):
    # given a customer the agent owns
    known = CustomerFactory(
        owner=agent, email="ada@example.com", city="Lyon", annual_income=Decimal("90000.00")
    )

    # when the agent upserts it with a new income, which is hidden from agents by default
    response = client_for(agent).post(
        "/api/v1/customers/bulk-upsert/",
        {"customers": [{"email": "ada@example.com", "annual_income": "1.00", "city": "Paris"}]},
        content_type="application/json",
    )

    # then the item fails naming the field, and nothing of it is stored
    result = response.json()["results"][0]
    assert result["outcome"] == "failed"
    assert result["errors"]["annual_income"] == NOT_YOURS
    known.refresh_from_db()
    assert (known.annual_income, known.city) == (Decimal("90000.00"), "Lyon")
