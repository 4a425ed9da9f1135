"""Managing field rules (services, the rules page, the admin, the API) and the rules on forms."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from crm.accounts import roles
from crm.accounts.models import FieldRule
from crm.accounts.services import field_rule_delete, field_rule_set
from crm.audit.models import AuditEvent
from customers.models import Customer
from sales.models import Deal
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory

pytestmark = pytest.mark.django_db


def role(name: str) -> Group:
    return Group.objects.get(name=name)


def test_an_admin_sets_and_lifts_a_rule_and_each_change_is_audited(admin_user):
    rule = field_rule_set(
        actor=admin_user,
        model_label="sales.deal",
        field_name="amount",
        role=role(roles.SALES_REP),
        access=FieldRule.Access.READ_ONLY,
    )
    field_rule_delete(
        actor=admin_user, model_label="sales.deal", field_name="amount", role=role(roles.SALES_REP)
    )

    assert not FieldRule.objects.filter(pk=rule.pk).exists()
    events = AuditEvent.objects.filter(kind=AuditEvent.Kind.FIELD_RULE_CHANGED).order_by("pk")
    assert [(e.details["previous"], e.details["access"]) for e in events] == [
        ("visible", "read_only"),
        ("read_only", "visible"),
    ]
    assert events[0].actor == admin_user
    assert events[0].details["field"] == "amount"


def test_a_field_that_rules_cannot_restrict_is_refused_by_name(admin_user):
    with pytest.raises(ValidationError) as error:
        field_rule_set(
            actor=admin_user,
            model_label="customers.customer",
            field_name="name",
            role=role(roles.SALES_REP),
            access=FieldRule.Access.HIDDEN,
        )
    assert "“name”" in error.value.message_dict["field_name"][0]


def test_only_an_admin_changes_rules(manager):
    with pytest.raises(PermissionDenied):
        field_rule_set(
            actor=manager,
            model_label="sales.deal",
            field_name="amount",
            role=role(roles.SALES_REP),
            access=FieldRule.Access.HIDDEN,
        )


def test_the_default_rules_hide_income_from_service_agents():
    assert FieldRule.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer),
        field_name="annual_income",
        role__name=roles.SERVICE_AGENT,
        access=FieldRule.Access.HIDDEN,
    ).exists()


# The page ------------------------------------------------------------------------------------


def test_the_rules_page_is_for_admins_only(rep, manager, client_for):
    assert client_for(rep).get("/accounts/field-rules/").status_code == 403
    assert client_for(manager).get("/accounts/field-rules/").status_code == 403


def test_the_rules_page_saves_the_matrix_in_one_post(admin_user, client_for):
    client = client_for(admin_user)
    page = client.get("/accounts/field-rules/")
    form_data = {
        name: field.initial
        for form in page.context["forms"]
        for name, field in ((form.add_prefix(n), f) for n, f in form.fields.items())
    }
    rep_id = role(roles.SALES_REP).pk
    agent_id = role(roles.SERVICE_AGENT).pk
    form_data[f"sales-deal-amount__{rep_id}"] = "read_only"
    form_data[f"customers-customer-annual_income__{agent_id}"] = "visible"

    response = client.post("/accounts/field-rules/", form_data)

    assert response.status_code == 302
    assert FieldRule.objects.get(field_name="amount", role_id=rep_id).access == "read_only"
    assert not FieldRule.objects.filter(field_name="annual_income", role_id=agent_id).exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.FIELD_RULE_CHANGED).count() == 2


def test_a_bad_choice_on_the_rules_page_saves_nothing(admin_user, client_for):
    rep_id = role(roles.SALES_REP).pk
    response = client_for(admin_user).post(
        "/accounts/field-rules/", {f"sales-deal-amount__{rep_id}": "secret"}
    )
    assert response.status_code == 400
    assert not FieldRule.objects.filter(field_name="amount").exists()


# The admin -----------------------------------------------------------------------------------


def test_the_admin_refuses_a_field_of_another_record_type(superuser, client_for):
    response = client_for(superuser).post(
        "/admin/accounts/fieldrule/add/",
        {
            "content_type": ContentType.objects.get_for_model(Deal).pk,
            "field_name": "annual_income",
            "role": role(roles.SALES_REP).pk,
            "access": "hidden",
        },
    )
    assert response.status_code == 200
    assert "is not a field of" in response.content.decode()
    assert not FieldRule.objects.filter(field_name="annual_income", role__name="Sales rep")


def test_the_admin_saves_through_the_service(superuser, client_for):
    response = client_for(superuser).post(
        "/admin/accounts/fieldrule/add/",
        {
            "content_type": ContentType.objects.get_for_model(Deal).pk,
            "field_name": "amount",
            "role": role(roles.SALES_REP).pk,
            "access": "hidden",
        },
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.FIELD_RULE_CHANGED).exists()


# The API -------------------------------------------------------------------------------------


def test_the_api_lists_and_writes_rules_for_admins(admin_user, client_for):
    client = client_for(admin_user)
    created = client.post(
        "/api/v1/field-rules/",
        {
            "record_type": "sales.deal",
            "field_name": "amount",
            "role": "Sales rep",
            "access": "hidden",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["record_type"] == "sales.deal"

    changed = client.patch(
        f"/api/v1/field-rules/{rule['id']}/",
        {"access": "read_only"},
        content_type="application/json",
    )
    assert changed.json()["access"] == "read_only"
    assert client.delete(f"/api/v1/field-rules/{rule['id']}/").status_code == 204
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.FIELD_RULE_CHANGED).count() == 3


def test_the_api_names_a_field_rules_cannot_restrict(admin_user, client_for):
    response = client_for(admin_user).post(
        "/api/v1/field-rules/",
        {
            "record_type": "sales.deal",
            "field_name": "name",
            "role": "Sales rep",
            "access": "hidden",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "field_name" in response.json()["error"]["fields"]


def test_the_api_refuses_everyone_but_admins(manager, rep, client_for):
    for user in (manager, rep):
        assert client_for(user).get("/api/v1/field-rules/").status_code == 403


# Forms ---------------------------------------------------------------------------------------


@pytest.fixture
def agent(team):
    user = UserFactory(username="agent", roles=[roles.SERVICE_AGENT])
    TeamMembershipFactory(team=team, user=user)
    return user


def test_the_customer_form_leaves_out_hidden_fields_and_ignores_them_when_posted(
    agent, team, client_for
):
    customer = CustomerFactory(team=team, annual_income=Decimal("9.00"))
    client = client_for(agent)

    page = client.get(f"/customers/{customer.pk}/edit/")
    response = client.post(
        f"/customers/{customer.pk}/edit/",
        {"name": "Renamed", "status": "lead", "tier": "normal", "annual_income": "1.00"},
    )

    assert "annual_income" not in page.context["form"].fields
    assert 'name="annual_income"' not in page.content.decode()
    assert response.status_code == 302, response.content
    customer.refresh_from_db()
    assert customer.name == "Renamed"
    assert customer.annual_income == Decimal("9.00")


def test_the_deal_form_disables_a_read_only_amount_and_keeps_the_stored_one(rep, team, client_for):
    field_rule_set(
        actor=UserFactory(is_superuser=True),
        model_label="sales.deal",
        field_name="amount",
        role=role(roles.SALES_REP),
        access=FieldRule.Access.READ_ONLY,
    )
    deal = DealFactory(owner=rep, team=team, customer=CustomerFactory(owner=rep, team=team))
    client = client_for(rep)

    page = client.get(f"/sales/deals/{deal.pk}/edit/")
    data = {
        name: value for name, value in page.context["form"].initial.items() if value is not None
    }
    data |= {"name": "Renamed", "amount": "1.00", "customer": deal.customer_id}
    data |= {"stage": deal.stage_id, "lines-TOTAL_FORMS": 0, "lines-INITIAL_FORMS": 0}
    response = client.post(f"/sales/deals/{deal.pk}/edit/", data)

    assert page.context["form"].fields["amount"].disabled
    assert response.status_code == 302, response.content
    deal.refresh_from_db()
    assert deal.name == "Renamed"
    assert deal.amount == Decimal("1000.00")
