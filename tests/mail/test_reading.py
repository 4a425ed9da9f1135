"""Reading email: the list and one email show only mail of customers the user sees, attachments
download under the same rule, stored HTML is never rendered, and the customer's page has its
"Email" box."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mail.models import EmailAttachment, EmailMessage
from mail.services.inbound import inbound_accept
from mail.services.outbound import email_send
from tests.customers.factories import CustomerFactory
from tests.mail.factories import EmailMessageFactory
from tests.sales.factories import DealFactory

LIST = "/mail/"


def _attachment(message: EmailMessage) -> EmailAttachment:
    return EmailAttachment.objects.create(
        message=message,
        file=SimpleUploadedFile("quote.txt", b"the quote"),
        name="quote.txt",
        size=9,
        content_type="text/plain",
    )


@pytest.fixture
def mine_and_theirs(rep, other_team_rep):
    mine = EmailMessageFactory(customer=CustomerFactory(owner=rep), subject="Mine")
    theirs = EmailMessageFactory(customer=CustomerFactory(owner=other_team_rep), subject="Theirs")
    return mine, theirs


@pytest.mark.django_db
def test_the_list_shows_only_mail_of_customers_one_sees(rep_client, mine_and_theirs):
    mine, theirs = mine_and_theirs

    response = rep_client.get(LIST)

    assert response.status_code == 200
    assert [message.pk for message in response.context["page"]] == [mine.pk]
    assert theirs.subject not in response.content.decode()


@pytest.mark.django_db
def test_the_list_filters_by_direction_status_and_subject_or_address(rep, rep_client):
    customer = CustomerFactory(owner=rep)
    sent = EmailMessageFactory(customer=customer, subject="Quote", to_addresses=["a@x.example"])
    failed = EmailMessageFactory(
        customer=customer, subject="Other", status=EmailMessage.Status.FAILED
    )
    received = EmailMessageFactory(
        customer=customer,
        subject="Question",
        direction=EmailMessage.Direction.INBOUND,
        status=EmailMessage.Status.RECEIVED,
        from_address="asker@x.example",
    )

    def listed(**params) -> list[int]:
        return [message.pk for message in rep_client.get(LIST, params).context["page"]]

    assert listed(direction="inbound") == [received.pk]
    assert listed(status="failed") == [failed.pk]
    assert listed(q="quot") == [sent.pk]
    assert listed(q="asker@") == [received.pk]
    assert listed(q="a@x.example") == [sent.pk]
    assert set(listed(customer=customer.pk)) == {sent.pk, failed.pk, received.pk}


@pytest.mark.django_db
def test_the_list_costs_the_same_whatever_its_length(
    rep, rep_client, django_assert_max_num_queries
):
    for _ in range(30):
        EmailMessageFactory(customer=CustomerFactory(owner=rep), sent_by=rep)

    with django_assert_max_num_queries(11):
        response = rep_client.get(LIST)

    assert len(response.context["page"]) == 30


@pytest.mark.django_db
def test_another_teams_mail_and_its_attachment_are_not_found(rep_client, mine_and_theirs):
    _mine, theirs = mine_and_theirs
    attachment = _attachment(theirs)

    assert rep_client.get(reverse("mail:email_detail", args=[theirs.pk])).status_code == 404
    download = rep_client.get(reverse("mail:attachment_download", args=[attachment.pk]))
    assert download.status_code == 404


@pytest.mark.django_db
def test_one_email_shows_its_headers_text_and_attachment_but_never_its_html(rep, rep_client):
    customer = CustomerFactory(owner=rep, name="Li Na")
    deal = DealFactory(owner=rep, customer=customer)
    message = EmailMessageFactory(
        customer=customer,
        direction=EmailMessage.Direction.INBOUND,
        status=EmailMessage.Status.RECEIVED,
        from_address="li.na@example.com",
        subject="Re: quote",
        body_text="Looks good <b>to me</b>",
        body_html='<p>Looks good</p><script>alert("x")</script>',
        related_record=deal,
    )
    attachment = _attachment(message)

    response = rep_client.get(reverse("mail:email_detail", args=[message.pk]))
    download = rep_client.get(reverse("mail:attachment_download", args=[attachment.pk]))

    page = response.content.decode()
    assert "li.na@example.com" in page
    assert message.message_id.replace("<", "&lt;").replace(">", "&gt;") in page
    assert "Looks good &lt;b&gt;to me&lt;/b&gt;" in page
    assert "<script>alert" not in page
    assert reverse("sales:deal_detail", args=[deal.pk]) in page
    assert reverse("customers:customer_detail", args=[customer.pk]) in page
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == b"the quote"


@pytest.mark.django_db
def test_the_customer_page_has_an_email_box_with_their_latest_mail(rep, rep_client):
    customer = CustomerFactory(owner=rep)
    message = EmailMessageFactory(customer=customer, subject="Hello there")
    EmailMessageFactory(customer=CustomerFactory(owner=rep), subject="Someone else's")

    page = rep_client.get(reverse("customers:customer_detail", args=[customer.pk]))

    content = page.content.decode()
    assert "Hello there" in content
    assert reverse("mail:email_detail", args=[message.pk]) in content
    assert "Someone else&#x27;s" not in content


@pytest.mark.django_db
def test_the_navigation_offers_email_and_templates(rep_client):
    content = rep_client.get("/").content.decode()

    assert f'href="{LIST}"' in content
    assert 'href="/mail/templates/"' in content


@pytest.mark.django_db
def test_one_edits_ones_own_signature_from_the_profile(rep, rep_client):
    assert 'href="/mail/signature/"' in rep_client.get(reverse("accounts:profile")).content.decode()

    response = rep_client.post("/mail/signature/", {"body": "  Riley Chen\nSales East  "})

    assert response.status_code == 302
    assert rep.email_signature.body == "Riley Chen\nSales East"
    assert "Riley Chen" in rep_client.get("/mail/signature/").content.decode()


def test_the_timeline_entry_of_mail_about_no_deal_or_ticket_links_to_the_email(
    rep, rep_client, django_capture_on_commit_callbacks
):
    # given a customer written to from their page, and a reply that came in by IMAP
    customer = CustomerFactory(owner=rep, email="li.lei@example.com", name="Li Lei")
    with django_capture_on_commit_callbacks():
        sent = email_send(
            actor=rep, to=customer.email, subject="Catalogue", body="Here it is", customer=customer
        )
    received = inbound_accept(
        raw=b"From: li.lei@example.com\r\nTo: sales@crm.example.com\r\nSubject: Thanks\r\n"
        b"Message-ID: <thanks-1@example.com>\r\n\r\nThank you\r\n",
        source="imap",
    ).message

    # when the customer's timeline is read
    page = rep_client.get(f"/customers/{customer.pk}/timeline/").content.decode()

    # then both entries link to their email's page
    assert reverse("mail:email_detail", args=[sent.pk]) in page
    assert reverse("mail:email_detail", args=[received.pk]) in page
