"""What mail holds about one customer, for the customers app's merge, data export and erasure.

Registered with customers.registry from MailConfig.ready(); customers never imports this.
"""

from datetime import datetime

from django.db import transaction

from customers.models import Customer
from mail.models import EmailAttachment, EmailMessage


def customer_emails_merge(merged: Customer, kept: Customer) -> int:
    """Move the merged customer's email to the kept one."""
    return EmailMessage.objects.filter(customer=merged).update(customer=kept)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def customer_emails_export(customer: Customer) -> list[dict]:
    """Each email sent to or received from the customer, oldest first."""
    emails = (
        EmailMessage.objects.filter(customer=customer)
        .order_by("created_at", "pk")
        .values(
            "direction",
            "created_at",
            "sent_at",
            "received_at",
            "from_address",
            "to_addresses",
            "cc_addresses",
            "subject",
            "body_text",
        )
    )
    return [
        {
            "direction": email["direction"],
            "at": _iso(email["sent_at"] or email["received_at"] or email["created_at"]),
            "from": email["from_address"],
            "to": email["to_addresses"],
            "cc": email["cc_addresses"],
            "subject": email["subject"],
            "body": email["body_text"],
        }
        for email in emails
    ]


def customer_emails_erase(customer: Customer) -> None:
    """Blank what the email said and whom it was between, and delete its attachments. The rows
    stay, without content, so delivery figures still add up. The files go only once the erasure
    has committed: a rollback must not leave rows pointing at deleted files."""
    emails = EmailMessage.objects.filter(customer=customer)
    emails.update(
        subject="",
        body_text="",
        body_html="",
        from_address="",
        from_name="",
        to_addresses=[],
        cc_addresses=[],
        refused_attachments=[],
    )
    attachments = EmailAttachment.objects.filter(message__customer=customer)
    files = [(attachment.file.storage, attachment.file.name) for attachment in attachments]
    attachments.delete()

    def files_delete() -> None:
        for storage, name in files:
            storage.delete(name)

    transaction.on_commit(files_delete)
