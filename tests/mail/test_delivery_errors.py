"""What a failure to reach or log in to the mail server does to queued mail: a server away is
tried again later; credentials it refuses fail the mail at once, with the server's reply."""

import smtplib

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from mail.models import EmailMessage
from mail.services.outbound import email_deliver
from tests.customers.factories import CustomerFactory
from tests.mail.factories import EmailMessageFactory

pytestmark = pytest.mark.django_db


class RefusingLoginBackend(BaseEmailBackend):
    def open(self):
        raise smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication credentials invalid")


class AwayBackend(BaseEmailBackend):
    def open(self):
        raise ConnectionRefusedError(111, "Connection refused")


def queued(rep) -> EmailMessage:
    return EmailMessageFactory(
        customer=CustomerFactory(owner=rep),
        status=EmailMessage.Status.QUEUED,
        sent_at=None,
        next_attempt_at=timezone.now(),
    )


def test_refused_credentials_fail_the_mail_at_once(settings, rep):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingLoginBackend"
    message = queued(rep)

    email_deliver(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == EmailMessage.Status.FAILED
    assert "Authentication credentials invalid" in message.last_error


def test_a_server_away_leaves_the_mail_queued_for_later(settings, rep):
    settings.EMAIL_BACKEND = f"{__name__}.AwayBackend"
    message = queued(rep)

    email_deliver(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == EmailMessage.Status.QUEUED
    assert message.attempts == 1
    assert message.next_attempt_at is not None
