"""Service's part of the customer merge, the personal-data export and the erasure."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.services.merge import customer_merge
from customers.services.privacy import customer_erase, customer_personal_data_export
from service.models import Ticket, TicketAttachment, TicketMessage
from service.services.tickets import ticket_create, ticket_reply
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_merge_moves_the_tickets_to_the_kept_customer(admin_user):
    kept, merged = CustomerFactory(), CustomerFactory()
    ticket = ticket_create(actor=admin_user, customer=merged, subject="Broken lid")

    merge = customer_merge(actor=admin_user, kept=kept, merged=merged)

    assert Ticket.objects.get(pk=ticket.pk).customer_id == kept.pk
    assert merge.moved_rows["tickets"] == 1


def test_the_export_holds_tickets_and_their_messages_but_not_internal_notes(admin_user):
    customer = CustomerFactory()
    ticket = ticket_create(
        actor=admin_user, customer=customer, subject="Broken lid", description="It cracked"
    )
    ticket_reply(actor=admin_user, ticket=ticket, body="We will send a new one")
    ticket_reply(actor=admin_user, ticket=ticket, body="Check stock first", kind="note")

    data = customer_personal_data_export(actor=admin_user, customer=customer)

    (exported,) = data["tickets"]
    assert exported["subject"] == "Broken lid"
    assert [message["text"] for message in exported["messages"]] == [
        "It cracked",
        "We will send a new one",
    ]
    json.dumps(data)


def test_erasure_removes_what_the_person_wrote_and_keeps_the_ticket(admin_user):
    customer = CustomerFactory()
    ticket = ticket_create(
        actor=admin_user,
        customer=customer,
        subject="Broken lid",
        description="My address is 1 Long Road",
        attachments=[
            SimpleUploadedFile(
                "photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", content_type="image/jpeg"
            )
        ],
    )

    customer_erase(actor=admin_user, customer=customer, reason="Asked to be forgotten")

    ticket.refresh_from_db()
    assert ticket.description == ""
    assert ticket.history.exists()
    assert not ticket.history.exclude(description="").exists()
    assert not TicketMessage.objects.filter(ticket=ticket).exclude(body="").exists()
    assert not TicketAttachment.objects.filter(message__ticket=ticket).exists()
