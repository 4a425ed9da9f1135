"""Inbound mail posted by providers through django-anymail, in their own shapes: Postmark's
inbound JSON behind basic auth, and Mailgun's forwarded form post with its HMAC signature. Only
authenticated posts are taken in, into the mailbox they were addressed to, and a message that
also arrived by IMAP is stored once."""

import base64
import hashlib
import hmac
import json

import pytest
from django.test import Client

from mail.models import EmailMessage
from mail.services.inbound import inbound_accept
from service.models import Ticket
from tests.mail.factories import MailboxFactory, raw_email

pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "crm-hooks:8f14e45fceea167a"
MAILGUN_SIGNING_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
POSTMARK_URL = "/mail/anymail/postmark/inbound/"
MAILGUN_URL = "/mail/anymail/mailgun/inbound/"


@pytest.fixture(autouse=True)
def anymail_settings(settings):
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_SIGNING_KEY,
    }


@pytest.fixture
def support(team):
    return MailboxFactory(address="support@crm.example.com", team=team)


def _basic_auth(secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def _postmark_payload(message_id: str = "<pm-1@mail.example.com>") -> dict:
    """Postmark's inbound webhook JSON, as its documentation shows it."""
    return {
        "FromName": "Wang Fang",
        "MessageStream": "inbound",
        "From": "wang.fang@example.com",
        "FromFull": {"Email": "wang.fang@example.com", "Name": "Wang Fang", "MailboxHash": ""},
        "To": "Support <SUPPORT@crm.example.com>",
        "ToFull": [{"Email": "SUPPORT@crm.example.com", "Name": "Support", "MailboxHash": ""}],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": "support@crm.example.com",
        "Subject": "The printer is broken",
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Mon, 5 May 2025 09:30:00 +0800",
        "TextBody": "It prints nothing at all.",
        "HtmlBody": "<p>It prints nothing at all.</p>",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": "<wang.fang@example.com>"},
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "Message-ID", "Value": message_id},
        ],
        "Attachments": [],
    }


def _post_postmark(payload: dict, **extra):
    return Client().post(
        POSTMARK_URL, data=json.dumps(payload), content_type="application/json", **extra
    )


def _mailgun_form(raw: bytes, *, key: str = MAILGUN_SIGNING_KEY) -> dict[str, str]:
    """Mailgun's forward() post of the raw MIME, signed as Mailgun signs it: HMAC-SHA256 of
    timestamp + token with the webhook signing key."""
    timestamp, token = "1746408600", "b1a2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9"
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    return {
        "recipient": "support@crm.example.com",
        "sender": "wang.fang@example.com",
        "from": "Wang Fang <wang.fang@example.com>",
        "subject": "The printer is broken",
        "body-mime": raw.decode(),
        "timestamp": timestamp,
        "token": token,
        "signature": signature.hexdigest(),
    }


def test_postmark_inbound_mail_opens_a_ticket_in_the_addressed_mailbox(support):
    response = _post_postmark(_postmark_payload(), **_basic_auth())

    assert response.status_code == 200
    message = EmailMessage.objects.get()
    assert message.message_id == "<pm-1@mail.example.com>"
    assert message.source == "anymail:postmark"
    assert message.mailbox == support
    assert message.body_text == "It prints nothing at all."
    assert message.related_record == Ticket.objects.get()


@pytest.mark.parametrize("auth", [{}, _basic_auth("crm-hooks:guessed")])
def test_postmark_posts_without_the_secret_are_refused(support, auth):
    response = _post_postmark(_postmark_payload(), **auth)

    assert response.status_code in (400, 403)
    assert not EmailMessage.objects.exists()
    assert not Ticket.objects.exists()


def test_without_a_secret_the_webhooks_refuse_every_post(support, settings):
    settings.ANYMAIL = {}
    settings.DEBUG = False
    response = Client().post(
        POSTMARK_URL, data=json.dumps(_postmark_payload()), content_type="application/json"
    )

    assert response.status_code == 403
    assert "CRM_ANYMAIL_WEBHOOK_SECRET" in response.json()["error"]
    assert not EmailMessage.objects.exists()


def test_mailgun_inbound_mail_with_a_good_signature_is_taken_in(support):
    response = Client().post(MAILGUN_URL, data=_mailgun_form(raw_email()), **_basic_auth())

    assert response.status_code == 200
    message = EmailMessage.objects.get()
    assert message.source == "anymail:mailgun"
    assert message.mailbox == support
    assert message.message_id == "<m-1@mail.example.com>"
    assert Ticket.objects.count() == 1


def test_mailgun_inbound_mail_with_a_bad_signature_is_refused(support):
    form = _mailgun_form(raw_email(), key="key-not-ours")

    response = Client().post(MAILGUN_URL, data=form, **_basic_auth())

    assert response.status_code in (400, 403)
    assert not EmailMessage.objects.exists()


def test_a_message_posted_by_the_provider_and_polled_by_imap_is_stored_once(support):
    polled = inbound_accept(
        raw=raw_email(message_id="<pm-1@mail.example.com>"), source="imap", mailbox=support
    )
    assert polled.message is not None

    response = _post_postmark(_postmark_payload(), **_basic_auth())
    response_again = Client().post(
        MAILGUN_URL,
        data=_mailgun_form(raw_email(message_id="<pm-1@mail.example.com>")),
        **_basic_auth(),
    )

    assert response.status_code == response_again.status_code == 200
    assert EmailMessage.objects.count() == 1
    assert Ticket.objects.count() == 1
