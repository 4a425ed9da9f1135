"""Delivery events from the email provider, posted to anymail's tracking webhooks as the
providers post them: bounces and rejections suppress the address and mark the email bounced, a
spam complaint also withdraws the customer's marketing consent, and a post without the right
credentials changes nothing."""

import base64
import hashlib
import hmac
import json

import pytest
from django.core.cache import cache
from django.utils import timezone

from customers.models import Interaction
from mail import registry
from mail.models import EmailMessage, SuppressedAddress
from mail.services.delivery_events import email_event_record
from mail.services.outbound import message_build
from tests.customers.factories import CustomerFactory
from tests.mail.factories import EmailMessageFactory

pytestmark = pytest.mark.django_db

SECRET = "postmark-hook:s3cret-words"
MAILGUN_KEY = "key-mailgun-signing"
POSTMARK_URL = "/mail/anymail/postmark/tracking/"
MAILGUN_URL = "/mail/anymail/mailgun/tracking/"


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "WEBHOOK_SECRET": SECRET,
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
    }
    # Event ids seen are remembered in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def customer():
    return CustomerFactory(
        email="wang.fang@example.com", marketing_consent=True, marketing_consent_at=timezone.now()
    )


@pytest.fixture
def campaign_email(customer):
    return EmailMessageFactory(
        customer=customer, kind=EmailMessage.Kind.CAMPAIGN, subject="Autumn catalogue"
    )


@pytest.fixture
def told(monkeypatch):
    calls = []
    monkeypatch.setattr(
        registry,
        "_engagement_listeners",
        [lambda message, event: calls.append((message.pk, event))],
    )
    return calls


def basic_auth(credentials: str = SECRET) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def post_postmark(client, payload: dict, credentials: str = SECRET):
    return client.post(
        POSTMARK_URL,
        json.dumps(payload),
        content_type="application/json",
        **basic_auth(credentials),
    )


def postmark_bounce(message: EmailMessage | None, *, email: str, bounce_type="HardBounce"):
    """A Postmark bounce webhook, as in Postmark's documentation; the metadata is what our
    message_build gave the message when it was sent."""
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": 4323372036854775807,
        "Type": bounce_type,
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": "",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": message_build(message).metadata if message is not None else {},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, "
        "mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "crm@example.com",
        "BouncedAt": "2025-05-01T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Autumn catalogue",
    }


def postmark_spam_complaint(message: EmailMessage, *, email: str):
    return {
        "RecordType": "SpamComplaint",
        "MessageStream": "outbound",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Tag": "",
        "MessageID": "00000000-0000-0000-0000-000000000000",
        "Metadata": message_build(message).metadata,
        "ServerID": 1234,
        "Description": "",
        "Details": "Test spam complaint details",
        "Email": email,
        "From": "crm@example.com",
        "BouncedAt": "2025-05-01T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": False,
        "Subject": "Autumn catalogue",
    }


def mailgun_event(event_data: dict, *, token: str = "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9"):
    timestamp = "1746115200"
    signature = hmac.new(
        MAILGUN_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": event_data,
    }


def test_a_postmark_hard_bounce_suppresses_the_address_and_marks_the_email(
    client, campaign_email, told
):
    # given a campaign email that was sent  # when Postmark reports it bounced
    response = post_postmark(client, postmark_bounce(campaign_email, email="Wang.Fang@example.com"))
    # then the webhook is taken
    assert response.status_code == 200
    # and the address is suppressed, with the provider's report
    suppressed = SuppressedAddress.objects.get()
    assert suppressed.address == "wang.fang@example.com"
    assert suppressed.reason == SuppressedAddress.Reason.BOUNCED
    assert suppressed.provider == "Postmark"
    assert suppressed.event_id == "4323372036854775807"
    assert "unable to deliver" in suppressed.detail
    # and the email is marked bounced, when Postmark says it bounced
    campaign_email.refresh_from_db()
    assert campaign_email.status == EmailMessage.Status.BOUNCED
    assert campaign_email.bounced_at.isoformat().startswith("2025-05-01T16:33:54")
    assert told == [(campaign_email.pk, "bounced")]


def test_the_same_bounce_posted_twice_leaves_the_same_state(client, campaign_email, told):
    # given a bounce taken in
    payload = postmark_bounce(campaign_email, email="wang.fang@example.com")
    post_postmark(client, payload)
    before = list(SuppressedAddress.objects.values())
    # when Postmark posts it again, and a later copy of it arrives without its event id memory
    assert post_postmark(client, payload).status_code == 200
    cache.clear()
    assert post_postmark(client, payload).status_code == 200
    # then nothing more happened
    assert list(SuppressedAddress.objects.values()) == before
    assert told == [(campaign_email.pk, "bounced")]


def test_a_bounce_without_our_metadata_finds_the_latest_email_to_the_address(
    client, customer, campaign_email
):
    # given an older and a newer email to the customer, and one to someone else
    newer = EmailMessageFactory(customer=customer, sent_at=timezone.now())
    other = EmailMessageFactory(to_addresses=["someone.else@example.com"])
    # when Postmark reports a bounce that carries only its own message id
    post_postmark(client, postmark_bounce(None, email="wang.fang@example.com"))
    # then the newest email sent to that address is the one marked
    statuses = dict(EmailMessage.objects.values_list("pk", "status"))
    assert statuses[newer.pk] == EmailMessage.Status.BOUNCED
    assert statuses[campaign_email.pk] == EmailMessage.Status.SENT
    assert statuses[other.pk] == EmailMessage.Status.SENT


def test_a_postmark_spam_complaint_suppresses_and_withdraws_consent(
    client, customer, campaign_email, told
):
    # given a customer who consented to marketing email
    # when Postmark reports they marked our campaign email as spam
    response = post_postmark(client, postmark_spam_complaint(campaign_email, email=customer.email))
    # then their address is suppressed as a complaint
    assert response.status_code == 200
    suppressed = SuppressedAddress.objects.get(address=customer.email)
    assert suppressed.reason == SuppressedAddress.Reason.COMPLAINED
    # and their consent is withdrawn, in their history and on their timeline
    customer.refresh_from_db()
    assert customer.marketing_consent is False
    assert customer.history.order_by("-history_date").first().marketing_consent is False
    interaction = Interaction.objects.get(customer=customer)
    assert interaction.subject == "Marked our email as spam"
    assert "Autumn catalogue" in interaction.summary
    assert told == [(campaign_email.pk, "complained")]


@pytest.mark.parametrize(
    "credentials", ["postmark-hook:wrong", "someone:" + SECRET.split(":")[1], None]
)
def test_a_post_without_the_right_credentials_is_refused_and_changes_nothing(
    client, customer, campaign_email, credentials
):
    # given a complaint posted with wrong credentials, or none
    payload = postmark_spam_complaint(campaign_email, email=customer.email)
    if credentials is None:
        response = client.post(POSTMARK_URL, json.dumps(payload), content_type="application/json")
    else:
        response = post_postmark(client, payload, credentials=credentials)
    # then it is refused, and nothing changed
    assert response.status_code in (400, 403)
    assert not SuppressedAddress.objects.exists()
    customer.refresh_from_db()
    assert customer.marketing_consent is True
    campaign_email.refresh_from_db()
    assert campaign_email.status == EmailMessage.Status.SENT


def test_a_postmark_unsubscribe_withdraws_consent(client, customer, campaign_email, told):
    # given  # when Postmark reports the recipient unsubscribed on its own page
    payload = {
        "RecordType": "SubscriptionChange",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "ServerID": 23,
        "MessageStream": "broadcast",
        "ChangedAt": "2025-05-01T16:33:54.9070259Z",
        "Recipient": customer.email,
        "Origin": "Recipient",
        "SuppressSending": True,
        "SuppressionReason": "ManualSuppression",
        "Tag": "",
        "Metadata": message_build(campaign_email).metadata,
    }
    assert post_postmark(client, payload).status_code == 200
    # then their consent is withdrawn, and the address is not suppressed for other mail
    customer.refresh_from_db()
    assert customer.marketing_consent is False
    assert not SuppressedAddress.objects.exists()
    assert told == [(campaign_email.pk, "unsubscribed")]


def test_a_postmark_delivery_changes_nothing(client, customer, campaign_email):
    payload = {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Recipient": customer.email,
        "Tag": "",
        "DeliveredAt": "2025-05-01T16:33:54.9070259Z",
        "Details": "Test delivery webhook details",
        "Metadata": message_build(campaign_email).metadata,
    }
    assert post_postmark(client, payload).status_code == 200
    campaign_email.refresh_from_db()
    assert campaign_email.status == EmailMessage.Status.SENT
    assert not SuppressedAddress.objects.exists()


def test_a_postmark_open_counts_like_our_own_pixel(client, customer, campaign_email):
    # given a tracked campaign email
    EmailMessage.objects.filter(pk=campaign_email.pk).update(tracking=True)
    payload = {
        "RecordType": "Open",
        "MessageStream": "outbound",
        "Metadata": message_build(campaign_email).metadata,
        "FirstOpen": True,
        "Platform": "WebMail",
        "UserAgent": "Mozilla/5.0",
        "ReadSeconds": 5,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "ReceivedAt": "2025-05-01T16:33:54.9070259Z",
        "Tag": "",
        "Recipient": customer.email,
    }
    # when Postmark reports an open
    assert post_postmark(client, payload).status_code == 200
    # then it counts
    campaign_email.refresh_from_db()
    assert campaign_email.open_count == 1


def test_a_mailgun_permanent_failure_is_found_by_our_message_id(client, customer, campaign_email):
    # given a Mailgun "failed" event naming the email by the Message-ID we gave it
    payload = mailgun_event(
        {
            "event": "failed",
            "severity": "permanent",
            "reason": "bounce",
            "id": "G9Bn5sl1TC6nu79C8C0bwg",
            "timestamp": 1746115200.0,
            "recipient": customer.email,
            "delivery-status": {
                "code": 550,
                "message": "5.1.1 The email account that you tried to reach does not exist",
                "description": "",
            },
            "message": {
                "headers": {
                    "to": f"Wang Fang <{customer.email}>",
                    "message-id": campaign_email.message_id.strip("<>"),
                    "from": "crm@example.com",
                    "subject": "Autumn catalogue",
                }
            },
        }
    )
    # when Mailgun posts it, with basic auth and its own signature
    response = client.post(
        MAILGUN_URL, json.dumps(payload), content_type="application/json", **basic_auth()
    )
    # then the address is suppressed and the email marked
    assert response.status_code == 200
    assert SuppressedAddress.objects.get().reason == SuppressedAddress.Reason.BOUNCED
    campaign_email.refresh_from_db()
    assert campaign_email.status == EmailMessage.Status.BOUNCED


def test_a_mailgun_event_with_a_bad_signature_changes_nothing(client, customer, campaign_email):
    payload = mailgun_event(
        {"event": "complained", "timestamp": 1746115200.0, "recipient": customer.email}
    )
    payload["signature"]["signature"] = "0" * 64
    response = client.post(
        MAILGUN_URL, json.dumps(payload), content_type="application/json", **basic_auth()
    )
    assert response.status_code == 400
    assert not SuppressedAddress.objects.exists()
    customer.refresh_from_db()
    assert customer.marketing_consent is True


def test_a_complaint_about_mail_we_cannot_find_still_suppresses_and_withdraws(customer):
    # given a complaint naming no email of ours, about a customer's address
    email_event_record(
        event_type="complained", recipient=customer.email.upper(), esp_name="SendGrid"
    )
    # then the address is suppressed and that customer's consent withdrawn
    assert SuppressedAddress.objects.get().address == customer.email
    customer.refresh_from_db()
    assert customer.marketing_consent is False


def test_a_postmark_soft_bounce_neither_suppresses_nor_marks_the_email(client, campaign_email):
    # given a campaign email that was sent  # when Postmark reports a soft bounce (mailbox full)
    payload = postmark_bounce(
        campaign_email, email="wang.fang@example.com", bounce_type="SoftBounce"
    )
    response = post_postmark(client, payload)

    # then the webhook is taken, and the address may still be written to
    assert response.status_code == 200
    assert not SuppressedAddress.objects.exists()
    campaign_email.refresh_from_db()
    assert campaign_email.status == EmailMessage.Status.SENT
