"""/api/v1/emails/ and /api/v1/email-templates/: the same visibility and the same services as
the pages."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.accounts import roles
from mail.models import EmailMessage, EmailTemplate
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.customers.factories import CustomerFactory
from tests.mail.factories import EmailMessageFactory, EmailTemplateFactory
from tests.sales.factories import DealFactory, StageFactory

EMAILS = "/api/v1/emails/"
TEMPLATES = "/api/v1/email-templates/"


@pytest.mark.django_db
def test_the_list_and_detail_show_only_mail_of_customers_one_sees(rep, rep_client, other_team_rep):
    mine = EmailMessageFactory(customer=CustomerFactory(owner=rep))
    theirs = EmailMessageFactory(customer=CustomerFactory(owner=other_team_rep))

    listed = rep_client.get(EMAILS).json()

    assert [row["id"] for row in listed["results"]] == [mine.pk]
    assert rep_client.get(f"{EMAILS}{mine.pk}/").status_code == 200
    assert rep_client.get(f"{EMAILS}{theirs.pk}/").status_code == 404


@pytest.mark.django_db
def test_the_list_costs_the_same_whatever_its_length(
    rep, rep_client, django_assert_max_num_queries
):
    for _ in range(30):
        EmailMessageFactory(customer=CustomerFactory(owner=rep))

    # One of them reads the caller's field rules, which decide whether addresses are shown.
    with django_assert_max_num_queries(10):
        response = rep_client.get(EMAILS)

    assert len(response.json()["results"]) == 30


@pytest.mark.django_db(transaction=True)
def test_sending_from_a_deal_through_the_api(rep, rep_client, smtp_server, eager_tasks):
    deal = DealFactory(owner=rep, customer=CustomerFactory(owner=rep), stage=StageFactory())

    response = rep_client.post(
        EMAILS,
        {"to": [deal.customer.email], "subject": "Quote", "body": "Here it is.", "deal": deal.pk},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["related_type"] == "sales.deal"
    assert body["customer"] == deal.customer_id
    [received] = smtp_server.received
    assert re.search(rf"\[#D{deal.pk}-[0-9a-f]+\]$", received.message["Subject"])
    assert EmailMessage.objects.get().status == EmailMessage.Status.SENT


@pytest.mark.django_db
def test_sending_with_attachments_as_multipart(rep, rep_client):
    customer = CustomerFactory(owner=rep)

    response = rep_client.post(
        EMAILS,
        {
            "to": [customer.email],
            "subject": "Files",
            "body": "Two files.",
            "customer": customer.pk,
            "attachments": [
                SimpleUploadedFile("a.txt", b"first"),
                SimpleUploadedFile("b.txt", b"second"),
            ],
        },
    )

    assert response.status_code == 201, response.content
    names = [attachment["name"] for attachment in response.json()["attachments"]]
    assert names == ["a.txt", "b.txt"]
    assert response.json()["status"] == "queued"


@pytest.mark.django_db
def test_bad_input_is_refused_with_the_fields_named(rep, rep_client):
    customer = CustomerFactory(owner=rep)

    response = rep_client.post(
        EMAILS,
        {"to": ["nope"], "subject": "", "body": "Hi", "customer": customer.pk, "owner": 1},
        content_type="application/json",
    )

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) >= {"owner"}
    assert not EmailMessage.objects.exists()

    response = rep_client.post(
        EMAILS,
        {"to": ["nope"], "subject": "Hi", "body": "Hi", "customer": customer.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "nope" in str(response.json()["error"]["fields"]["to"])


@pytest.mark.django_db
def test_mail_about_another_teams_customer_or_deal_is_refused(rep_client, other_team_rep):
    customer = CustomerFactory(owner=other_team_rep)
    deal = DealFactory(owner=other_team_rep, customer=customer)
    mail = {"to": ["x@example.com"], "subject": "Hi", "body": "Hi"}

    as_customer = rep_client.post(
        EMAILS, mail | {"customer": customer.pk}, content_type="application/json"
    )
    as_deal = rep_client.post(EMAILS, mail | {"deal": deal.pk}, content_type="application/json")

    assert as_customer.status_code == 400
    assert "customer" in as_customer.json()["error"]["fields"]
    assert as_deal.status_code == 400
    assert "deal" in as_deal.json()["error"]["fields"]
    assert not EmailMessage.objects.exists()


@pytest.mark.django_db
def test_templates_are_written_by_marketing_and_refuse_unknown_placeholders(
    team, client_for, rep_client
):
    marketer = UserFactory(username="marketer", roles=[roles.MARKETING])
    TeamMembershipFactory(team=team, user=marketer)
    client = client_for(marketer)
    data = {"name": "Hi", "context": "customer", "language": "en", "subject": "Hi", "body": "Hi"}

    bad = client.post(
        TEMPLATES, data | {"body": "{{ ticket.number }}"}, content_type="application/json"
    )
    created = client.post(TEMPLATES, data, content_type="application/json")
    by_rep = rep_client.post(
        TEMPLATES, data | {"language": "zh-hans"}, content_type="application/json"
    )

    assert bad.status_code == 400
    assert "ticket.number" in str(bad.json()["error"]["fields"]["body"])
    assert created.status_code == 201, created.content
    assert "customer.first_name" in created.json()["placeholders"]
    assert by_rep.status_code == 403
    template_id = created.json()["id"]
    patched = client.patch(
        f"{TEMPLATES}{template_id}/", {"subject": "Hello"}, content_type="application/json"
    )
    assert patched.json()["subject"] == "Hello"
    assert client.delete(f"{TEMPLATES}{template_id}/").status_code == 204
    assert not EmailTemplate.objects.exists()


@pytest.mark.django_db
def test_render_fills_a_template_in_for_a_deal_one_sees(rep, rep_client, other_team_rep):
    template = EmailTemplateFactory(
        context="deal", subject="{{ deal.name }}", body="Dear {{ customer.first_name }}"
    )
    deal = DealFactory(owner=rep, name="Fleet", customer=CustomerFactory(name="Li Na"))
    hidden = DealFactory(owner=other_team_rep)

    rendered = rep_client.post(
        f"{TEMPLATES}{template.pk}/render/", {"deal": deal.pk}, content_type="application/json"
    )
    refused = rep_client.post(
        f"{TEMPLATES}{template.pk}/render/", {"deal": hidden.pk}, content_type="application/json"
    )

    assert rendered.status_code == 200, rendered.content
    assert rendered.json() == {"subject": "Fleet", "body": "Dear Li", "language": "en"}
    assert refused.status_code == 400
    assert "deal" in refused.json()["error"]["fields"]


@pytest.mark.django_db
def test_the_schema_documents_the_email_endpoints(rep_client):
    schema = rep_client.get("/api/v1/schema/", {"format": "json"}).json()

    assert "post" in schema["paths"]["/api/v1/emails/"]
    assert "/api/v1/email-templates/{id}/render/" in schema["paths"]
