"""Email templates: written by marketing and managers, read by everyone who sends mail; only
placeholders their context can fill; rendered in the template's language."""

from decimal import Decimal

import pytest
from django.urls import reverse

from crm.accounts import roles
from mail.models import EmailTemplate
from mail.rendering import template_render, template_version
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.customers.factories import CompanyFactory, CustomerFactory
from tests.mail.factories import EmailTemplateFactory
from tests.sales.factories import DealFactory

FORM = {
    "name": "Quote",
    "context": "deal",
    "language": "en",
    "subject": "Quote for {{ deal.name }}",
    "body": "Dear {{ customer.first_name }},\n\n{{ deal.amount }}\n\n{{ sender.name }}",
    "is_active": "on",
}


@pytest.fixture
def marketer(team):
    user = UserFactory(username="marketer", display_name="Mia Wu", roles=[roles.MARKETING])
    TeamMembershipFactory(team=team, user=user)
    return user


@pytest.mark.django_db
def test_a_marketer_writes_a_template_and_a_rep_may_only_read_them(
    marketer, client_for, rep_client
):
    response = client_for(marketer).post("/mail/templates/new/", FORM)

    assert response.status_code == 302
    template = EmailTemplate.objects.get()
    assert (template.name, template.context, template.owner) == ("Quote", "deal", marketer)
    assert rep_client.get("/mail/templates/").status_code == 200
    assert rep_client.post("/mail/templates/new/", FORM | {"language": "zh-hans"}).status_code == (
        403
    )
    assert rep_client.post(f"/mail/templates/{template.pk}/delete/").status_code == 403
    assert EmailTemplate.objects.count() == 1


@pytest.mark.django_db
def test_unknown_placeholders_are_refused_by_name(marketer, client_for):
    data = FORM | {"context": "customer", "body": "Hi {{ customer.first_name }} {{ deal.amount }}"}

    response = client_for(marketer).post("/mail/templates/new/", data)

    assert response.status_code == 400
    [error] = response.context["form"].errors["body"]
    assert "deal.amount" in error
    assert "customer.first_name" not in error
    assert not EmailTemplate.objects.exists()


@pytest.mark.django_db
def test_one_name_has_one_version_per_language(marketer, client_for):
    client = client_for(marketer)
    client.post("/mail/templates/new/", FORM)

    again = client.post("/mail/templates/new/", FORM)
    chinese = client.post("/mail/templates/new/", FORM | {"language": "zh-hans"})

    assert again.status_code == 400
    assert again.context["form"].errors["name"]
    assert chinese.status_code == 302
    assert EmailTemplate.objects.filter(name="Quote").count() == 2


@pytest.mark.django_db
def test_a_template_is_edited_and_deleted(marketer, client_for):
    client = client_for(marketer)
    template = EmailTemplateFactory(name="Hello", subject="Hi", body="Hello")

    edited = client.post(
        f"/mail/templates/{template.pk}/edit/",
        {**FORM, "name": "Hello", "context": "customer", "subject": "Hi {{ customer.name }}"}
        | {"body": "Hello"},
    )
    template.refresh_from_db()
    deleted = client.post(f"/mail/templates/{template.pk}/delete/")

    assert edited.status_code == 302
    assert template.subject == "Hi {{ customer.name }}"
    assert deleted.status_code == 302
    assert not EmailTemplate.objects.exists()


@pytest.mark.django_db
def test_the_form_lists_the_placeholders_of_its_context(marketer, client_for):
    client = client_for(marketer)

    deal_form = client.get("/mail/templates/new/?context=deal").content.decode()
    ticket_list = client.get(reverse("mail:template_placeholders"), {"context": "ticket"})

    assert "deal.amount" in deal_form
    assert "ticket.number" in ticket_list.content.decode()
    assert "deal.amount" not in ticket_list.content.decode()


@pytest.mark.django_db
def test_the_preview_renders_for_a_customer_one_sees(marketer, client_for, other_team_rep):
    CustomerFactory(owner=other_team_rep, name="Hidden Person")
    CustomerFactory(owner=marketer, name="Zhang Wei")

    response = client_for(marketer).post(
        reverse("mail:template_preview"),
        FORM
        | {
            "context": "customer",
            "subject": "Hi {{ customer.first_name }} {{ nope }}",
            "body": "From {{ sender.name }}",
        },
    )

    assert response.status_code == 200
    assert response.context["subject"] == "Hi Zhang"
    assert response.context["unknown"] == ["nope"]
    assert "Hidden Person" not in response.content.decode()


@pytest.mark.django_db
def test_templates_render_in_english_and_chinese(rep):
    rep.display_name = "Riley Chen"
    customer = CustomerFactory(
        name="Li Na", language="zh-hans", company=CompanyFactory(name="Acme")
    )
    deal = DealFactory(customer=customer, name="Fleet", amount=Decimal("1234567.5"))
    english = EmailTemplateFactory(
        name="Quote",
        context="deal",
        language="en",
        subject="{{ deal.name }} for {{ customer.company }}",
        body="Dear {{ customer.first_name }}, {{ deal.amount }}. {{ sender.name }}",
    )
    chinese = EmailTemplateFactory(
        name="Quote",
        context="deal",
        language="zh-hans",
        subject="{{ deal.name }} 报价",
        body="{{ customer.first_name }}您好，金额 {{ deal.amount }}。{{ sender.name }}",
    )

    assert template_version(name="Quote", language=customer.language) == chinese
    assert template_version(name="Quote", language="fr") == english
    assert template_render(template=english, customer=customer, sender=rep, record=deal) == (
        "Fleet for Acme",
        "Dear Li, CNY 1,234,567.50. Riley Chen",
    )
    assert template_render(template=chinese, customer=customer, sender=rep, record=deal) == (
        "Fleet 报价",
        "Li您好，金额 CNY 1234567.50。Riley Chen",
    )
