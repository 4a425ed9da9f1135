"""Tickets as threads of email: mail sent from a ticket is a public reply, a reply to it is a
message from the customer, and new mail to a support mailbox opens a ticket."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext_lazy as _

from mail.models import EmailTemplate, Mailbox
from mail.registry import (
    InboundMail,
    ThreadKind,
    register_thread_kind,
    register_thread_opener,
)
from service.models import Ticket, TicketMessage
from service.services.tickets import ticket_create, ticket_reply

TICKET_PLACEHOLDERS = {
    "ticket.number": _("The ticket's number"),
    "ticket.subject": _("The ticket's subject"),
    "ticket.status": _("The ticket's status"),
    "ticket.assignee": _("The name of whoever the ticket is assigned to"),
}


def ticket_placeholders(ticket: Ticket, language: str) -> dict[str, str]:
    assignee = ticket.assignee
    return {
        "ticket.number": ticket.number,
        "ticket.subject": ticket.subject,
        "ticket.status": str(ticket.get_status_display()),
        "ticket.assignee": str(assignee) if assignee else "",
    }


def _uploads(mail: InboundMail) -> list[SimpleUploadedFile]:
    return [
        SimpleUploadedFile(attachment.name, attachment.content, attachment.content_type)
        for attachment in mail.attachments
    ]


def _body(mail: InboundMail) -> str:
    return mail.text.strip() or mail.subject or "-"


def ticket_reply_sent(actor, ticket: Ticket, subject: str, body: str):
    """Mail sent from a ticket is its public reply: the first response, on its timeline."""
    return ticket_reply(
        actor=actor, ticket=ticket, body=body, kind=TicketMessage.Kind.REPLY
    ).interaction


def ticket_reply_received(ticket: Ticket, mail: InboundMail, customer):
    """A reply to a ticket's mail is a message from the customer: it reopens a pending ticket."""
    return ticket_reply(
        actor=None,
        ticket=ticket,
        body=_body(mail),
        kind=TicketMessage.Kind.CUSTOMER,
        attachments=_uploads(mail),
    ).interaction


def ticket_open_from_mail(mailbox: Mailbox, mail: InboundMail, customer):
    """New mail to a support mailbox opens a ticket in the mailbox's team's queue."""
    values = {"channel": Ticket.Channel.EMAIL}
    if mailbox is not None and mailbox.team_id:
        values["team"] = mailbox.team
    ticket = ticket_create(
        actor=None,
        customer=customer,
        subject=(mail.subject or _body(mail))[:200],
        description=_body(mail),
        attachments=_uploads(mail),
        **values,
    )
    first = ticket.messages.order_by("created_at", "id").first()
    return ticket, first.interaction if first is not None else None


def ticket_thread_kind_register() -> None:
    register_thread_kind(
        ThreadKind(
            model="service.ticket",
            prefix="T",
            context=EmailTemplate.Context.TICKET,
            mailbox_purpose=Mailbox.Purpose.SUPPORT,
            customer_of=lambda ticket: ticket.customer,
            placeholders=ticket_placeholders,
            placeholder_labels=TICKET_PLACEHOLDERS,
            take_reply=ticket_reply_received,
            record_sent=ticket_reply_sent,
        )
    )
    register_thread_opener(purpose=Mailbox.Purpose.SUPPORT, opener=ticket_open_from_mail)
