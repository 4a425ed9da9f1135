"""Unsubscribing through the signed link in campaign mail: the page, the button, RFC 8058's
One-Click POST from a mail program, and what the customer's record shows afterwards."""

import json
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.accounts.selectors import SESSION_LAST_SEEN_KEY, record_is_visible_to
from customers.models import Customer, Interaction
from mail import registry, tokens
from mail.models import EmailMessage
from mail.services.engagement import UnsubscribeSource, customer_unsubscribe
from mail.services.outbound import message_build
from tests.customers.factories import CustomerFactory
from tests.mail.factories import EmailMessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscriber(rep):
    return CustomerFactory(
        owner=rep,
        email="mei.chen@example.com",
        marketing_consent=True,
        marketing_consent_at=timezone.now(),
    )


@pytest.fixture
def campaign_email(subscriber):
    return EmailMessageFactory(
        customer=subscriber, kind=EmailMessage.Kind.CAMPAIGN, subject="Spring offers"
    )


def unsubscribe_url(message: EmailMessage) -> str:
    token = tokens.unsubscribe_token(customer_id=message.customer_id, message_id=message.pk)
    return reverse("mail:unsubscribe", args=[token])


@pytest.fixture
def told(monkeypatch):
    """The engagement listeners' calls, as (message id, event)."""
    calls = []
    monkeypatch.setattr(
        registry,
        "_engagement_listeners",
        [lambda message, event: calls.append((message.pk, event))],
    )
    return calls


def test_opening_the_link_asks_first_and_changes_nothing(client, subscriber, campaign_email):
    # given a campaign email's unsubscribe link, fetched as a link scanner or a visitor would
    response = client.get(unsubscribe_url(campaign_email))
    # then the page names the address and offers the button, and the consent stands
    assert response.status_code == 200
    assert "mei.chen@example.com" in response.content.decode()
    assert b'type="submit"' in response.content
    subscriber.refresh_from_db()
    assert subscriber.marketing_consent is True
    assert not Interaction.objects.filter(customer=subscriber).exists()


def test_the_button_unsubscribes_and_the_record_shows_it(
    client, rep_client, subscriber, campaign_email, told
):
    # given the unsubscribe page
    url = unsubscribe_url(campaign_email)
    # when the visitor presses the button (no session: an anonymous browser)
    response = client.post(url)
    # then the page says it is done
    assert response.status_code == 200
    assert "will receive no more marketing email" in response.content.decode()
    # and the consent is withdrawn, in the customer's history too
    subscriber.refresh_from_db()
    assert subscriber.marketing_consent is False
    assert subscriber.marketing_consent_at is None
    latest = subscriber.history.order_by("-history_date").first()
    assert latest.marketing_consent is False
    assert latest.history_user is None
    # and the timeline has an inbound email interaction saying so
    [interaction] = Interaction.objects.filter(customer=subscriber)
    assert interaction.channel == Interaction.Channel.EMAIL
    assert interaction.direction == Interaction.Direction.INBOUND
    assert interaction.subject == "Unsubscribed from marketing email"
    assert "Spring offers" in interaction.summary
    page = rep_client.get(reverse("customers:customer_detail", args=[subscriber.pk]))
    body = page.content.decode()
    assert "Unsubscribed from marketing email" in body
    # and the campaign was told
    assert told == [(campaign_email.pk, "unsubscribed")]


def test_one_click_from_a_mail_program_needs_no_session_and_no_csrf_token(
    subscriber, campaign_email
):
    # given the headers a campaign email carries
    sent = message_build(campaign_email)
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = sent.extra_headers["List-Unsubscribe"].strip("<>")
    # when a mail program POSTs the RFC 8058 body with no cookies and no CSRF token
    mail_program = Client(enforce_csrf_checks=True)
    response = mail_program.post(
        urlsplit(url).path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    # then the customer is unsubscribed, through their mail program's button
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.marketing_consent is False
    interaction = Interaction.objects.get(customer=subscriber)
    assert "mail program" in interaction.summary


def test_unsubscribing_twice_changes_nothing_more(client, subscriber, campaign_email, told):
    # given a customer who unsubscribed
    url = unsubscribe_url(campaign_email)
    client.post(url)
    history_count = subscriber.history.count()
    # when the link is used again
    response = client.post(url)
    # then it still says done, and nothing more is recorded
    assert response.status_code == 200
    assert Interaction.objects.filter(customer=subscriber).count() == 1
    assert subscriber.history.count() == history_count
    assert told == [(campaign_email.pk, "unsubscribed")]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_token_is_a_404_and_changes_nothing(client, subscriber, campaign_email, method):
    # given a token whose customer id was changed
    token = tokens.unsubscribe_token(customer_id=subscriber.pk, message_id=campaign_email.pk)
    other = CustomerFactory(marketing_consent=True, marketing_consent_at=timezone.now())
    payload = json.dumps({"c": other.pk, "m": campaign_email.pk}, separators=(",", ":"))
    signature = token.rsplit(":", 1)[1]
    forged = f"{signing.b64_encode(payload.encode()).decode()}:{signature}"
    for bad in (forged, token[:-2] + "xx", "nonsense"):
        # when it is used
        response = getattr(client, method)(reverse("mail:unsubscribe", args=[bad]))
        # then it is not found
        assert response.status_code == 404
    assert Customer.objects.filter(marketing_consent=True).count() == 2


def test_a_signed_in_colleague_whose_session_went_idle_still_reaches_the_page(
    rep, rep_client, campaign_email, settings
):
    # given a signed-in user whose session has been idle past the limit
    settings.CRM_SESSION_IDLE_MINUTES = 1
    session = rep_client.session
    session[SESSION_LAST_SEEN_KEY] = (timezone.now() - timezone.timedelta(hours=1)).timestamp()
    session.save()
    # when they open an unsubscribe link
    response = rep_client.get(unsubscribe_url(campaign_email))
    # then they get the page, not the login, and the link neither ended nor renewed the session
    assert response.status_code == 200
    assert rep_client.get("/customers/").status_code == 302


def test_the_service_withdraws_consent_without_a_message_and_knows_a_gone_customer(subscriber):
    # given a customer, unsubscribed through the provider, with no email found
    assert customer_unsubscribe(customer_id=subscriber.pk, source=UnsubscribeSource.PROVIDER)
    subscriber.refresh_from_db()
    assert subscriber.marketing_consent is False
    # and a customer id that names nobody
    with pytest.raises(Customer.DoesNotExist):
        customer_unsubscribe(customer_id=subscriber.pk + 1000, source=UnsubscribeSource.LINK)


def test_the_profile_says_when_they_unsubscribed(
    rep, rep_client, client, subscriber, campaign_email
):
    # given a customer who unsubscribed
    client.post(unsubscribe_url(campaign_email))
    assert record_is_visible_to(user=rep, record=subscriber)
    # when their page is opened
    response = rep_client.get(reverse("customers:customer_detail", args=[subscriber.pk]))
    # then the email delivery box says so
    body = response.content.decode()
    assert "Email delivery" in body
    assert "Unsubscribed on" in body
