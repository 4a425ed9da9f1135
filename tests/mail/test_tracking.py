"""Open and click tracking: the invisible image and the click redirect in tracked mail, each hit
counted once, nothing counted when tracking is off, and no redirect a link did not sign."""

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from mail import registry, tokens
from mail.models import EmailMessage
from mail.services.outbound import message_build
from tests.customers.factories import CustomerFactory
from tests.mail.factories import EmailMessageFactory

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example.com/spring?utm_source=crm&utm_medium=email"


@pytest.fixture
def tracked():
    return EmailMessageFactory(
        customer=CustomerFactory(),
        kind=EmailMessage.Kind.CAMPAIGN,
        tracking=True,
        body_html=f'<p>Hello</p><p><a href="{SHOP.replace("&", "&amp;")}">Shop now</a></p>',
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


def pixel_url(message: EmailMessage) -> str:
    return reverse("mail:open", args=[tokens.open_token(message_id=message.pk)])


def click_url(message: EmailMessage, url: str = SHOP) -> str:
    return reverse("mail:click", args=[tokens.click_token(message_id=message.pk, url=url)])


def test_each_open_counts_once_and_the_first_is_remembered(client, tracked, told):
    # given a tracked campaign email  # when its image is fetched twice, by anyone
    first = client.get(pixel_url(tracked))
    tracked.refresh_from_db()
    opened_at = tracked.opened_at
    second = client.get(pixel_url(tracked))
    # then each answer is a transparent GIF no cache keeps
    for response in (first, second):
        assert response.status_code == 200
        assert response["Content-Type"] == "image/gif"
        assert response.content.startswith(b"GIF89a")
        assert "no-store" in response["Cache-Control"]
    # and both opens count, the first one's time kept
    tracked.refresh_from_db()
    assert tracked.open_count == 2
    assert tracked.opened_at == opened_at is not None
    assert told == [(tracked.pk, "opened"), (tracked.pk, "opened")]


def test_each_click_counts_once_and_leads_to_the_signed_url(client, tracked, told):
    # given a tracked email's link  # when it is followed twice
    for _ in range(2):
        response = client.get(click_url(tracked))
        # then it leads to the shop
        assert response.status_code == 302
        assert response["Location"] == SHOP
    tracked.refresh_from_db()
    assert tracked.click_count == 2
    assert tracked.clicked_at is not None
    assert told == [(tracked.pk, "clicked"), (tracked.pk, "clicked")]


def test_a_head_request_from_a_link_checker_counts_nothing(client, tracked):
    # given  # when a scanner only asks for the headers
    assert client.head(pixel_url(tracked)).status_code == 200
    assert client.head(click_url(tracked)).status_code == 302
    # then nothing is counted
    tracked.refresh_from_db()
    assert (tracked.open_count, tracked.click_count) == (0, 0)


def test_nothing_is_counted_for_an_untracked_email(client, told):
    # given an email sent with tracking off
    untracked = EmailMessageFactory(kind=EmailMessage.Kind.CAMPAIGN, tracking=False)
    # when its image and a link are fetched
    assert client.get(pixel_url(untracked)).status_code == 200
    assert client.get(click_url(untracked)).status_code == 302
    # then the image and the redirect still work, and nothing is counted
    untracked.refresh_from_db()
    assert (untracked.open_count, untracked.click_count) == (0, 0)
    assert untracked.opened_at is None
    assert told == []


def test_nothing_is_counted_when_tracking_is_switched_off(client, tracked, settings):
    # given tracking switched off for the whole CRM
    settings.CRM_EMAIL_TRACKING = False
    # when a tracked email's image and link are fetched
    assert client.get(pixel_url(tracked)).status_code == 200
    assert client.get(click_url(tracked)).status_code == 302
    # then nothing is counted
    tracked.refresh_from_db()
    assert (tracked.open_count, tracked.click_count) == (0, 0)
    # and the mail sent now carries no image and no counted links
    html = message_build(tracked).alternatives[0][0]
    assert "/mail/o/" not in html and "/mail/c/" not in html


def test_the_click_redirect_refuses_what_it_did_not_sign(client, tracked):
    # given a click token, and the same path pointing elsewhere
    token = tokens.click_token(message_id=tracked.pk, url=SHOP)
    tampered = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    open_token = tokens.open_token(message_id=tracked.pk)
    for bad in (tampered, open_token, "https:--evil.example.com"):
        # when it is followed
        response = client.get(reverse("mail:click", args=[bad]))
        # then there is no redirect
        assert response.status_code == 404
    # and a signed link to something other than http(s) leads nowhere either
    response = client.get(click_url(tracked, url="javascript:alert(1)"))
    assert response.status_code == 404
    tracked.refresh_from_db()
    assert tracked.click_count == 0


def test_a_bad_pixel_token_is_a_404(client, tracked):
    response = client.get(reverse("mail:open", args=["not-a-token"]))
    assert response.status_code == 404


def test_personal_mail_is_counted_but_no_campaign_is_told(client, told):
    # given a tracked one-to-one email
    personal = EmailMessageFactory(kind=EmailMessage.Kind.PERSONAL, tracking=True)
    # when it is opened
    client.get(pixel_url(personal))
    # then it counts, and no campaign listener hears of it
    personal.refresh_from_db()
    assert personal.open_count == 1
    assert told == []


def test_sent_mail_counts_opens_and_clicks_through_its_own_links(client, tracked):
    # given the tracked email as the backend sends it
    html = message_build(tracked).alternatives[0][0]
    [link] = re.findall(r'<a href="([^"]+)"', html)
    [image] = re.findall(r'<img src="([^"]+)"', html)
    # when the recipient's mail program loads the image and they click the link
    client.get(urlsplit(unescape(image)).path)
    response = client.get(urlsplit(unescape(link)).path)
    # then both count, and the link leads to the shop with its query intact
    assert response["Location"] == SHOP
    tracked.refresh_from_db()
    assert (tracked.open_count, tracked.click_count) == (1, 1)


def test_an_admin_without_a_second_factor_still_follows_a_link(
    admin_user, client_for, tracked, settings
):
    # given an admin signed in before two-factor became required, with no device yet
    settings.CRM_REQUIRE_2FA_FOR_ADMINS = True
    admin_client = client_for(admin_user)
    assert admin_client.get("/customers/").status_code == 302
    # when they open a tracked email and click its link
    image = admin_client.get(pixel_url(tracked))
    response = admin_client.get(click_url(tracked))
    # then the image and the link work, not the two-factor setup page
    assert image["Content-Type"] == "image/gif"
    assert response["Location"] == SHOP
