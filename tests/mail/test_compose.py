"""Writing email from a customer, deal or ticket page, through to a real SMTP server: the
headers and threading mail clients rely on, the signature, attachments, the HTML alternative,
templates in the customer's language, suppressed-address warnings, visibility, and retries."""

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.accounts import roles
from mail.models import EmailMessage, EmailTemplate
from mail.services.outbound import signature_set
from service.models import TicketMessage
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.customers.factories import CustomerFactory
from tests.mail.factories import EmailTemplateFactory, SuppressedAddressFactory
from tests.sales.factories import DealFactory, StageFactory
from tests.service.factories import TicketFactory

COMPOSE = "/mail/compose/"


def _send(client, query: str, **fields):
    data = {"to": "", "cc": "", "subject": "", "body": "", "signature": "on", **fields}
    return client.post(f"{COMPOSE}?{query}", data)


def _text_and_html(message) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


@pytest.mark.django_db(transaction=True)
def test_mail_from_a_customer_page_reaches_the_server_with_signature_and_attachment(
    rep, rep_client, smtp_server, eager_tasks
):
    # given a customer of the rep and the rep's signature
    customer = CustomerFactory(owner=rep, name="Li Na", email="li.na@example.com")
    signature_set(user=rep, body="Riley Chen\nSales East")

    # when the rep opens the compose page from the customer and sends with an attachment
    page = rep_client.get(f"{COMPOSE}?customer={customer.pk}")
    response = _send(
        rep_client,
        f"customer={customer.pk}",
        to=page.context["form"]["to"].value(),
        cc="boss@example.com",
        subject="Our meeting",
        body="Dear Li Na,\n\nSee https://example.com/agenda for the agenda.",
        attachments=[SimpleUploadedFile("agenda.txt", b"1. Hello\n2. Bye\n", "text/plain")],
    )

    # then the page sends the user back to the customer with a message
    assert page.status_code == 200
    assert response.status_code == 302
    assert response.url == reverse("customers:customer_detail", args=[customer.pk])
    # and the mail server got the mail, as stored, with everything on it
    stored = EmailMessage.objects.get()
    assert stored.status == EmailMessage.Status.SENT
    assert stored.attempts == 1
    [received] = smtp_server.received
    assert sorted(received.rcpt_tos) == ["boss@example.com", "li.na@example.com"]
    mail = received.message
    assert mail["Message-ID"] == stored.message_id
    assert mail["Subject"] == "Our meeting"
    assert "Riley Chen" in mail["From"]
    text, html = _text_and_html(mail)
    assert text.rstrip().endswith("-- \nRiley Chen\nSales East")
    assert '<a href="https://example.com/agenda"' in html
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "agenda.txt"
    assert attachment.get_content().replace("\r\n", "\n") == "1. Hello\n2. Bye\n"
    # and the customer's timeline has it as an email interaction
    assert customer.interactions.get().channel == "email"


@pytest.mark.django_db(transaction=True)
def test_unticking_the_signature_leaves_it_out(rep, rep_client, smtp_server, eager_tasks):
    customer = CustomerFactory(owner=rep)
    signature_set(user=rep, body="Riley Chen")

    _send(
        rep_client,
        f"customer={customer.pk}",
        to=customer.email,
        subject="Short",
        body="Just this.",
        signature="",
    )

    text, _html = _text_and_html(smtp_server.received[0].message)
    assert "Riley Chen" not in text


@pytest.mark.django_db(transaction=True)
def test_deal_mail_carries_its_reply_token_and_threads_under_the_earlier_mail(
    rep, rep_client, smtp_server, eager_tasks
):
    # given a deal of the rep's customer (in a stage of its own: this test's database starts
    # empty, without the default pipeline)
    deal = DealFactory(owner=rep, customer=CustomerFactory(owner=rep), stage=StageFactory())

    # when two mails are sent from the deal page
    for subject in ("Your quote", "Following up"):
        response = _send(
            rep_client, f"deal={deal.pk}", to=deal.customer.email, subject=subject, body="Hi"
        )
        assert response.status_code == 302
        assert response.url == reverse("sales:deal_detail", args=[deal.pk])

    # then each subject carries the deal's reply token
    first, second = (received.message for received in smtp_server.received)
    assert re.search(rf"\[#D{deal.pk}-[0-9a-f]+\]$", first["Subject"])
    assert first["Subject"].startswith("Your quote")
    assert re.search(rf"\[#D{deal.pk}-[0-9a-f]+\]$", second["Subject"])
    # and the second is a reply to the first
    assert "In-Reply-To" not in first
    assert second["In-Reply-To"] == first["Message-ID"]
    assert first["Message-ID"] in second["References"]
    assert EmailMessage.objects.filter(related_id=deal.pk).count() == 2


@pytest.mark.django_db(transaction=True)
def test_ticket_mail_is_the_tickets_public_reply(team, client_for, smtp_server, eager_tasks):
    # given an agent's ticket
    agent = UserFactory(username="agent", roles=[roles.SERVICE_AGENT])
    TeamMembershipFactory(team=team, user=agent)
    ticket = TicketFactory(assignee=agent, team=team)

    # when the agent sends mail from the ticket page
    response = _send(
        client_for(agent),
        f"ticket={ticket.pk}",
        to=ticket.customer.email,
        subject="About your request",
        body="We are on it.",
    )

    # then it went out with the ticket's reply token, and the ticket has it as its reply
    assert response.status_code == 302
    assert response.url == reverse("service:ticket_detail", args=[ticket.pk])
    [received] = smtp_server.received
    assert re.search(rf"\[#T{ticket.pk}-[0-9a-f]+\]$", received.message["Subject"])
    reply = TicketMessage.objects.get(ticket=ticket)
    assert reply.kind == TicketMessage.Kind.REPLY
    assert reply.body.startswith("We are on it.")


@pytest.mark.django_db
def test_the_picker_fills_in_the_template_in_the_customers_language(rep, rep_client):
    # given a deal template in English and Chinese, and a customer who reads Chinese
    for language, subject, body in (
        ("en", "Quote for {{ deal.name }}", "Dear {{ customer.first_name }}: {{ deal.amount }}"),
        ("zh-hans", "{{ deal.name }} 的报价", "{{ customer.first_name }}您好：{{ deal.amount }}"),
    ):
        EmailTemplateFactory(
            name="Quote",
            context=EmailTemplate.Context.DEAL,
            language=language,
            subject=subject,
            body=body,
        )
    customer = CustomerFactory(owner=rep, name="王 芳", language="zh-hans")
    deal = DealFactory(owner=rep, customer=customer, name="Fleet", amount=Decimal("12345.5"))

    # when the compose page opens, the Chinese version is the one preselected
    page = rep_client.get(f"{COMPOSE}?deal={deal.pk}")
    assert page.context["form"]["template_language"].value() == "zh-hans"
    assert list(page.context["form"].fields["template_name"].choices)[1] == ("Quote", "Quote")

    # and picking the template fills subject and text for this customer and deal
    url = reverse("mail:compose_template")
    chinese = rep_client.get(
        url, {"deal": deal.pk, "template_name": "Quote", "template_language": "zh-hans"}
    )
    english = rep_client.get(
        url, {"deal": deal.pk, "template_name": "Quote", "template_language": "en"}
    )

    assert chinese.status_code == 200
    assert chinese.context["form"]["subject"].value() == "Fleet 的报价"
    # (Chinese writes numbers without a thousands separator)
    assert chinese.context["form"]["body"].value() == "王您好：CNY 12345.50"
    assert english.context["form"]["body"].value() == "Dear 王: CNY 12,345.50"


@pytest.mark.django_db
def test_a_suppressed_address_is_warned_about(rep, rep_client):
    customer = CustomerFactory(owner=rep, email="Gone@Example.com")
    SuppressedAddressFactory(address="gone@example.com")

    page = rep_client.get(f"{COMPOSE}?customer={customer.pk}")

    assert [item.address for item in page.context["suppressed"]] == ["gone@example.com"]
    assert b"data-suppressed" in page.content


@pytest.mark.django_db
def test_field_errors_are_shown_and_nothing_is_sent(rep, rep_client, mailoutbox):
    customer = CustomerFactory(owner=rep)

    response = _send(rep_client, f"customer={customer.pk}", to="not-an-address", body="Hi")

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "not-an-address" in errors["to"][0]
    assert errors["subject"]
    assert response.context["resubmit_files"]
    assert not EmailMessage.objects.exists()


@pytest.mark.django_db
def test_another_teams_customer_and_deal_are_not_found(rep_client, other_team_rep):
    customer = CustomerFactory(owner=other_team_rep)
    deal = DealFactory(owner=other_team_rep, customer=customer)

    for query in (f"customer={customer.pk}", f"deal={deal.pk}", "deal=999999", "deal=x"):
        assert rep_client.get(f"{COMPOSE}?{query}").status_code == 404
        sent = _send(rep_client, query, to="a@example.com", subject="Hi", body="Hi")
        assert sent.status_code == 404
    assert rep_client.get(COMPOSE).status_code == 404
    assert not EmailMessage.objects.exists()


@pytest.mark.django_db
def test_a_user_who_may_not_send_mail_is_refused(client_for, user_without_role):
    customer = CustomerFactory(owner=user_without_role)

    response = client_for(user_without_role).get(f"{COMPOSE}?customer={customer.pk}")

    assert response.status_code == 403


@pytest.mark.django_db
def test_the_send_buttons_show_on_the_record_pages(rep, rep_client, team, client_for):
    customer = CustomerFactory(owner=rep)
    deal = DealFactory(owner=rep, customer=customer)
    agent = UserFactory(username="agent", roles=[roles.SERVICE_AGENT])
    TeamMembershipFactory(team=team, user=agent)
    ticket = TicketFactory(assignee=agent, team=team, customer=customer)

    pages = [
        (rep_client, reverse("customers:customer_detail", args=[customer.pk]), "customer"),
        (rep_client, reverse("sales:deal_detail", args=[deal.pk]), "deal"),
        (client_for(agent), reverse("service:ticket_detail", args=[ticket.pk]), "ticket"),
    ]
    for client, url, context in pages:
        record = {"customer": customer, "deal": deal, "ticket": ticket}[context]
        link = f'href="{COMPOSE}?{context}={record.pk}"'
        assert link in client.get(url).content.decode(), url


@pytest.mark.django_db(transaction=True)
def test_a_server_asking_to_try_later_leaves_the_mail_queued_for_another_attempt(
    rep, rep_client, smtp_server, eager_tasks
):
    customer = CustomerFactory(owner=rep)
    smtp_server.handler.refuse_with = "451 4.3.0 try later"

    _send(rep_client, f"customer={customer.pk}", to=customer.email, subject="Hi", body="Hi")

    message = EmailMessage.objects.get()
    assert message.status == EmailMessage.Status.QUEUED
    assert message.attempts == 1
    assert message.next_attempt_at is not None
    assert "try later" in message.last_error
    # and the page shows where it stands
    detail = rep_client.get(reverse("mail:email_detail", args=[message.pk]))
    assert "try later" in detail.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_permanent_refusal_fails_the_mail(rep, rep_client, smtp_server, eager_tasks):
    customer = CustomerFactory(owner=rep)
    smtp_server.handler.refuse_with = "550 5.1.1 no such user"

    _send(rep_client, f"customer={customer.pk}", to=customer.email, subject="Hi", body="Hi")

    message = EmailMessage.objects.get()
    assert message.status == EmailMessage.Status.FAILED
    assert message.attempts == 1
    assert message.next_attempt_at is None
    assert "no such user" in message.last_error
