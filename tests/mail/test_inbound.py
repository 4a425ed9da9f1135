"""Taking in received mail: customers by address, threading by reply token, In-Reply-To and
References, tickets opened from support mail, de-duplication by Message-ID, attachments through
the upload checks, and messages set aside with the reason rather than lost."""

import pytest
from django.contrib.contenttypes.models import ContentType

from customers.models import Customer, Interaction
from mail import registry, tokens
from mail.models import EmailMessage, InboundSetAside, Mailbox
from mail.services.inbound import (
    DUPLICATE,
    SET_ASIDE,
    STORED,
    inbound_accept,
    inbound_set_aside_dismiss,
    inbound_set_aside_retry,
)
from service.models import Ticket, TicketMessage
from service.services.tickets import ticket_create, ticket_reply
from tests.customers.factories import CustomerFactory
from tests.mail.factories import EmailMessageFactory, MailboxFactory, raw_email

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# A Windows program's first bytes, sent under a document's name.
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


@pytest.fixture
def support(team):
    return MailboxFactory(address="support@crm.example.com", team=team)


@pytest.fixture
def sales_mailbox():
    return MailboxFactory(address="sales@crm.example.com", purpose=Mailbox.Purpose.SALES)


@pytest.fixture
def customer():
    return CustomerFactory(name="Wang Fang", email="wang.fang@example.com")


@pytest.fixture
def ticket(customer):
    return ticket_create(actor=None, customer=customer, subject="Printer", description="Broken")


def test_new_mail_from_an_unknown_sender_opens_a_ticket_for_a_new_customer(support, team):
    outcome = inbound_accept(raw=raw_email(), source="imap", mailbox=support)

    assert outcome.status == STORED
    message = outcome.message
    customer = Customer.objects.get(email="wang.fang@example.com")
    assert customer.name == "Wang Fang"
    assert customer.team == team
    ticket = Ticket.objects.get(customer=customer)
    assert ticket.subject == "The printer is broken"
    assert ticket.channel == Ticket.Channel.EMAIL
    assert ticket.team == team
    assert message.related_record == ticket
    assert message.customer == customer
    assert message.direction == EmailMessage.Direction.INBOUND
    assert message.status == EmailMessage.Status.RECEIVED
    assert message.mailbox == support
    assert message.source == "imap"
    assert message.received_at is not None
    assert message.interaction is not None


def test_new_mail_from_a_known_customer_opens_their_ticket(support, customer):
    outcome = inbound_accept(
        raw=raw_email(sender="WANG.FANG@Example.com"), source="imap", mailbox=support
    )

    assert Customer.objects.filter(email="wang.fang@example.com").count() == 1
    assert outcome.message.customer == customer
    assert Ticket.objects.get(customer=customer).messages.count() == 1


def test_a_reply_with_the_reply_token_goes_into_the_ticket_and_reopens_it(support, ticket):
    ticket_reply(
        actor=None,
        ticket=ticket,
        body="Did you plug it in?",
        kind=TicketMessage.Kind.REPLY,
        status=Ticket.Status.PENDING,
    )
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING
    token = tokens.reply_token(prefix="T", pk=ticket.pk)

    outcome = inbound_accept(
        raw=raw_email(subject=f"Re: Printer {token}", text="Yes, it is plugged in."),
        source="imap",
        mailbox=support,
    )

    ticket.refresh_from_db()
    assert outcome.message.related_record == ticket
    assert ticket.status == Ticket.Status.OPEN
    latest = ticket.messages.order_by("-id").first()
    assert latest.kind == TicketMessage.Kind.CUSTOMER
    assert "plugged in" in latest.body
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("header", ["in_reply_to", "references"])
def test_a_reply_is_threaded_by_its_headers_alone(support, ticket, header):
    sent = EmailMessageFactory(
        message_id="<sent-1@crm.example.com>",
        customer=ticket.customer,
        related_type=ContentType.objects.get_for_model(Ticket),
        related_id=ticket.pk,
    )
    value = (
        sent.message_id
        if header == "in_reply_to"
        else f"<older@elsewhere.example> {sent.message_id} <unknown@x.example>"
    )

    outcome = inbound_accept(
        raw=raw_email(subject="Re: your mail", **{header: value}), source="imap", mailbox=support
    )

    assert outcome.message.related_record == ticket
    assert Ticket.objects.count() == 1
    # The description was the first message from the customer; the reply is the second.
    assert ticket.messages.filter(kind=TicketMessage.Kind.CUSTOMER).count() == 2


def test_a_forged_reply_token_is_not_threaded(support, ticket):
    genuine = tokens.reply_token(prefix="T", pk=ticket.pk)
    forged = genuine[:-7] + ("000000" if not genuine.endswith("000000]") else "111111") + "]"

    outcome = inbound_accept(
        raw=raw_email(sender="mallory@example.net", subject=f"Re: {forged}"),
        source="imap",
        mailbox=support,
    )

    assert outcome.message.related_record != ticket
    assert ticket.messages.count() == 1
    assert Ticket.objects.count() == 2


def test_a_reply_to_a_deal_is_logged_on_its_timeline(sales_mailbox, customer):
    from tests.sales.factories import DealFactory

    deal = DealFactory(customer=customer)
    token = tokens.reply_token(prefix="D", pk=deal.pk)

    outcome = inbound_accept(
        raw=raw_email(to="sales@crm.example.com", subject=f"Re: Quote {token}"),
        source="imap",
        mailbox=sales_mailbox,
    )

    assert outcome.message.related_record == deal
    interaction = outcome.message.interaction
    assert interaction.customer == customer
    assert interaction.direction == Interaction.Direction.INBOUND
    assert interaction.channel == Interaction.Channel.EMAIL
    assert interaction.related_id == deal.pk


def test_sales_mail_goes_to_the_known_customers_timeline(sales_mailbox, customer):
    outcome = inbound_accept(
        raw=raw_email(to="sales@crm.example.com", subject="About the quote"),
        source="imap",
        mailbox=sales_mailbox,
    )

    assert outcome.message.customer == customer
    assert outcome.message.interaction.subject == "About the quote"
    assert not Ticket.objects.exists()


def test_sales_mail_from_a_stranger_is_kept_with_no_customer(sales_mailbox):
    outcome = inbound_accept(
        raw=raw_email(sender="stranger@example.net", to="sales@crm.example.com"),
        source="imap",
        mailbox=sales_mailbox,
    )

    assert outcome.status == STORED
    assert outcome.message.customer is None
    assert not Customer.objects.exists()
    assert not Ticket.objects.exists()


def test_the_same_message_fetched_twice_is_stored_once(support):
    first = inbound_accept(raw=raw_email(), source="imap", mailbox=support)
    second = inbound_accept(raw=raw_email(), source="anymail:postmark", mailbox=support)

    assert first.status == STORED
    assert second.status == DUPLICATE
    assert second.message is None
    assert EmailMessage.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_mail_without_a_message_id_is_still_stored_once(support):
    raw = raw_email(message_id=None)

    assert inbound_accept(raw=raw, source="imap", mailbox=support).status == STORED
    assert inbound_accept(raw=raw, source="imap", mailbox=support).status == DUPLICATE
    assert EmailMessage.objects.get().message_id.endswith("@inbound>")


def test_an_html_only_message_is_read_as_text_and_its_html_kept(support):
    html = "<html><body><p>Hello&nbsp;there</p><script>alert(1)</script><p>Line two</p></body>"

    message = inbound_accept(
        raw=raw_email(text=None, html=html), source="imap", mailbox=support
    ).message

    assert message.body_text == "Hello there\nLine two"
    assert "<p>" in message.body_html


def test_malformed_bytes_are_set_aside_with_the_reason_and_kept(support):
    raw = b"\x00\xff\xfe this is not an email at all \x00"

    outcome = inbound_accept(raw=raw, source="imap", mailbox=support)

    assert outcome.status == SET_ASIDE
    item = outcome.set_aside
    assert item.reason == InboundSetAside.Reason.MALFORMED
    assert item.size == len(raw)
    with item.raw.open("rb") as handle:
        assert handle.read() == raw
    assert not EmailMessage.objects.exists()


def test_mail_without_a_sender_is_set_aside(support):
    outcome = inbound_accept(raw=raw_email(sender=""), source="imap", mailbox=support)

    assert outcome.set_aside.reason == InboundSetAside.Reason.NO_SENDER
    assert outcome.set_aside.subject == "The printer is broken"


def test_an_oversized_message_is_set_aside_and_taken_in_on_retry(support, settings, admin_user):
    settings.CRM_EMAIL_MAX_INBOUND_BYTES = 200
    outcome = inbound_accept(raw=raw_email(), source="imap", mailbox=support)
    item = outcome.set_aside
    assert item.reason == InboundSetAside.Reason.OVERSIZED
    assert item.message_id == "<m-1@mail.example.com>"
    assert not EmailMessage.objects.exists()

    again = inbound_set_aside_retry(actor=admin_user, item=item)
    assert again.status == SET_ASIDE
    assert InboundSetAside.objects.count() == 1
    item.refresh_from_db()
    assert item.resolved_at is None

    settings.CRM_EMAIL_MAX_INBOUND_BYTES = 10_000_000
    taken = inbound_set_aside_retry(actor=admin_user, item=item)

    assert taken.status == STORED
    assert taken.message.source == "imap"
    assert taken.message.mailbox == support
    item.refresh_from_db()
    assert item.resolved_at is not None
    assert item.resolved_by == admin_user


def test_a_set_aside_message_can_be_dismissed(support, admin_user, rep):
    item = inbound_accept(raw=b"garbage", source="imap", mailbox=support).set_aside

    with pytest.raises(Exception) as refused:
        inbound_set_aside_dismiss(actor=rep, item=item)
    assert type(refused.value).__name__ == "PermissionDenied"
    inbound_set_aside_dismiss(actor=admin_user, item=item)

    item.refresh_from_db()
    assert item.resolved_by == admin_user


def test_an_attachment_passes_the_upload_checks_and_an_executable_is_refused(support):
    raw = raw_email(
        attachments=(
            ("quote.pdf", PDF, "application/pdf"),
            ("invoice.pdf", EXECUTABLE, "application/pdf"),
        )
    )

    message = inbound_accept(raw=raw, source="imap", mailbox=support).message

    stored = list(message.attachments.all())
    assert [(a.name, a.content_type, a.size) for a in stored] == [
        ("quote.pdf", "application/pdf", len(PDF))
    ]
    with stored[0].file.open("rb") as handle:
        assert handle.read() == PDF
    assert [refused["name"] for refused in message.refused_attachments] == ["invoice.pdf"]
    assert "cannot be uploaded" in message.refused_attachments[0]["reason"]
    ticket = message.related_record
    assert [a.name for a in ticket.messages.get().attachments.all()] == ["quote.pdf"]


def test_a_failure_half_way_writes_nothing_and_sets_the_message_aside(support, monkeypatch):
    def broken_opener(mailbox, mail, customer):
        raise RuntimeError("the ticket desk is down")

    monkeypatch.setattr(registry, "_thread_openers", {Mailbox.Purpose.SUPPORT: broken_opener})

    outcome = inbound_accept(raw=raw_email(), source="imap", mailbox=support)

    assert outcome.status == SET_ASIDE
    assert outcome.set_aside.reason == InboundSetAside.Reason.FAILED
    assert "the ticket desk is down" in outcome.set_aside.detail
    assert not EmailMessage.objects.exists()
    assert not Customer.objects.exists()
