import factory
from django.utils import timezone

from mail.models import EmailMessage, EmailTemplate, Mailbox, SuppressedAddress


class EmailTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailTemplate

    name = factory.Sequence(lambda n: f"Template {n}")
    context = EmailTemplate.Context.CUSTOMER
    language = "en"
    subject = "Hello {{ customer.first_name }}"
    body = "Dear {{ customer.name }},\n\nThank you.\n\n{{ sender.name }}"
    is_active = True


class MailboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mailbox

    name = factory.Sequence(lambda n: f"Mailbox {n}")
    address = factory.Sequence(lambda n: f"support{n}@crm.example.com")
    purpose = Mailbox.Purpose.SUPPORT


class EmailMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailMessage

    direction = EmailMessage.Direction.OUTBOUND
    status = EmailMessage.Status.SENT
    message_id = factory.Sequence(lambda n: f"<test-{n}@crm.example.com>")
    from_address = "crm@example.com"
    to_addresses = factory.LazyAttribute(
        lambda message: [message.customer.email] if message.customer else ["someone@example.com"]
    )
    subject = factory.Sequence(lambda n: f"Email {n}")
    body_text = "Hello"
    customer = None
    sent_at = factory.LazyFunction(timezone.now)


class SuppressedAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SuppressedAddress

    address = factory.Sequence(lambda n: f"bounced{n}@example.com")
    reason = SuppressedAddress.Reason.BOUNCED
