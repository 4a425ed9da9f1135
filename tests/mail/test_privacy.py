"""Mail's part in a customer merge, data export and erasure, and in the demo data."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from crm.accounts import roles
from customers.services.merge import customer_merge
from customers.services.privacy import customer_erase, customer_personal_data_export
from mail.models import EmailAttachment, EmailMessage, EmailSignature, EmailTemplate
from tests.accounts.factories import UserFactory
from tests.customers.factories import CustomerFactory
from tests.mail.factories import EmailMessageFactory


@pytest.fixture
def admin(db):
    return UserFactory(username="privacy_admin", roles=[roles.ADMIN], is_staff=True)


@pytest.mark.django_db
def test_a_merge_moves_the_email_to_the_kept_customer(admin):
    kept, merged = CustomerFactory(), CustomerFactory()
    message = EmailMessageFactory(customer=merged)

    customer_merge(actor=admin, kept=kept, merged=merged)

    message.refresh_from_db()
    assert message.customer == kept


@pytest.mark.django_db
def test_the_data_export_holds_the_customers_email(admin):
    customer = CustomerFactory()
    EmailMessageFactory(customer=customer, subject="Your quote", body_text="Here it is")
    EmailMessageFactory(customer=CustomerFactory(), subject="Someone else")

    data = customer_personal_data_export(actor=admin, customer=customer)

    [email] = data["emails"]
    assert email["direction"] == "outbound"
    assert email["subject"] == "Your quote"
    assert email["body"] == "Here it is"
    assert email["at"]


@pytest.mark.django_db(transaction=True)
def test_erasure_blanks_the_email_and_deletes_its_files(admin):
    customer = CustomerFactory()
    message = EmailMessageFactory(customer=customer, subject="Private", body_html="<p>x</p>")
    attachment = EmailAttachment.objects.create(
        message=message,
        file=SimpleUploadedFile("id-card.txt", b"secret"),
        name="id-card.txt",
        size=6,
    )
    storage, name = attachment.file.storage, attachment.file.name
    other = EmailMessageFactory(customer=CustomerFactory(), subject="Kept")

    customer_erase(actor=admin, customer=customer, reason="Asked to be forgotten")

    message.refresh_from_db()
    assert (message.subject, message.body_text, message.body_html) == ("", "", "")
    assert (message.from_address, message.to_addresses, message.cc_addresses) == ("", [], [])
    assert not EmailAttachment.objects.exists()
    assert not storage.exists(name)
    other.refresh_from_db()
    assert other.subject == "Kept"


@pytest.mark.django_db
def test_the_demo_has_templates_in_both_languages_signatures_and_sent_mail():
    call_command("seed_demo", stdout=io.StringIO(), customers=300, seed=1)

    names = set(EmailTemplate.objects.filter(language="en").values_list("name", flat=True))
    chinese = set(EmailTemplate.objects.filter(language="zh-hans").values_list("name", flat=True))
    assert names == chinese
    assert {"Follow-up after call", "Quote", "Ticket received"} <= names
    assert EmailSignature.objects.filter(user__username="rep").exists()
    sent = EmailMessage.objects.filter(status=EmailMessage.Status.SENT)
    assert sent.exists()
    assert not sent.filter(interaction__isnull=True).exists()
