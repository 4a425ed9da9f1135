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


def raw_email(
    *,
    sender: str = "Wang Fang <wang.fang@example.com>",
    to: str = "support@crm.example.com",
    subject: str = "The printer is broken",
    text: str | None = "It prints nothing at all.",
    html: str | None = None,
    message_id: str | None = "<m-1@mail.example.com>",
    in_reply_to: str = "",
    references: str = "",
    attachments: tuple[tuple[str, bytes, str], ...] = (),
) -> bytes:
    """A received message's bytes as a mail server hands them over; attachments are
    (file name, content, declared type)."""
    from email.message import EmailMessage as MimeMessage

    mime = MimeMessage()
    mime["From"] = sender
    mime["To"] = to
    mime["Subject"] = subject
    mime["Date"] = "Mon, 05 May 2025 09:30:00 +0800"
    if message_id:
        mime["Message-ID"] = message_id
    if in_reply_to:
        mime["In-Reply-To"] = in_reply_to
    if references:
        mime["References"] = references
    if text is not None:
        mime.set_content(text)
    if html is not None:
        if text is None:
            mime.set_content(html, subtype="html")
        else:
            mime.add_alternative(html, subtype="html")
    for name, content, content_type in attachments:
        maintype, _slash, subtype = content_type.partition("/")
        mime.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return mime.as_bytes()
