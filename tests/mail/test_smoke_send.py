import pytest

from mail.models import EmailMessage
from mail.services.outbound import email_send
from tests.customers.factories import CustomerFactory


@pytest.mark.django_db(transaction=True)
def test_a_sent_email_reaches_the_smtp_server_with_its_message_id(smtp_server, rep, eager_tasks):
    customer = CustomerFactory(owner=rep, email="li.na@example.com", name="Li Na")
    message = email_send(
        actor=rep, to=customer.email, subject="Hello", body="Dear Li Na", customer=customer
    )
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.SENT
    [received] = smtp_server.received
    assert received.rcpt_tos == ["li.na@example.com"]
    assert received.message["Message-ID"] == message.message_id
    assert received.message["Subject"] == "Hello"
