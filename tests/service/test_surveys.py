import re
import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail, signing
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.services.privacy import customer_erase, customer_personal_data_export
from service.models import SatisfactionSurvey, Ticket
from service.services import surveys
from service.services.tickets import ticket_create, ticket_reopen, ticket_resolve
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver\.example(/service/survey/[^/\s\"]+/)")


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.CRM_SITE_URL = "http://testserver.example"


@pytest.fixture
def resolve(django_capture_on_commit_callbacks):
    """Resolve the ticket as the agents' pages do, running what waits for the commit."""

    def run(ticket: Ticket) -> Ticket:
        with django_capture_on_commit_callbacks(execute=True):
            return ticket_resolve(actor=None, ticket=ticket, version=ticket.version)

    return run


def _ticket(**customer_values) -> Ticket:
    customer = CustomerFactory(name="Mei Lin", email="mei@example.com", **customer_values)
    return ticket_create(actor=None, customer=customer, subject="Printer is on fire")


def _link(message) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def test_resolving_emails_a_survey_with_a_single_use_link(resolve):
    ticket = resolve(_ticket())

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["mei@example.com"]
    assert ticket.number in message.subject
    assert "Printer is on fire" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    link = _link(message)
    assert link in html
    survey = SatisfactionSurvey.objects.get(ticket=ticket)
    assert survey.sent_to == "mei@example.com"
    assert survey.language == "en"
    assert message.extra_headers["Content-Language"] == "en"
    assert survey.expires_at - survey.sent_at == timedelta(days=surveys.SURVEY_DAYS)
    # Only the hash of the token is stored, and the link's token is not it.
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert survey.token_hash not in link
    raw = signing.TimestampSigner(salt="service.survey").unsign(token)
    assert survey.token_hash == surveys.survey_token_hash(raw)


def test_the_survey_is_written_in_the_customers_language(resolve):
    resolve(_ticket(language="zh-hans"))

    message = mail.outbox[0]
    assert message.extra_headers["Content-Language"] == "zh-hans"
    assert "主题" in message.body
    assert "Subject:" not in message.body
    assert SatisfactionSurvey.objects.get().language == "zh-hans"


def test_a_customer_without_language_gets_the_sites_language(resolve, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    resolve(_ticket(language=""))

    assert SatisfactionSurvey.objects.get().language == "zh-hans"
    assert "主题" in mail.outbox[0].body


def test_no_survey_without_a_customer_email(resolve):
    customer = CustomerFactory(email="")
    ticket = ticket_create(actor=None, customer=customer, subject="No email")

    resolve(ticket)

    assert mail.outbox == []
    assert not SatisfactionSurvey.objects.exists()


def test_a_mail_server_failure_leaves_no_survey_and_the_ticket_resolved(resolve):
    ticket = _ticket()
    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError):
        resolve(ticket)

    assert not SatisfactionSurvey.objects.exists()
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.RESOLVED


def test_the_page_shows_the_ticket_and_nothing_else(client, resolve):
    ticket = resolve(_ticket())

    response = client.get(_link(mail.outbox[0]))

    assert response.status_code == 200
    content = response.content.decode()
    assert ticket.number in content
    assert "Printer is on fire" in content
    assert 'name="rating"' in content
    assert "mei@example.com" not in content
    assert "Mei Lin" not in content
    assert response.headers["Cache-Control"].startswith("max-age=0")


def test_the_page_speaks_the_surveys_language(client, resolve):
    resolve(_ticket(language="zh-hans"))

    response = client.get(_link(mail.outbox[0]))

    assert '<html lang="zh-hans">' in response.content.decode()
    assert "发送" in response.content.decode()


def test_an_answer_is_stored_once_on_the_survey_and_the_ticket(client, resolve):
    ticket = resolve(_ticket())
    link = _link(mail.outbox[0])

    response = client.post(link, {"rating": "4", "comment": "  Quick and kind.  "})

    assert response.status_code == 200
    assert "Thank you for your answer" in response.content.decode()
    survey = SatisfactionSurvey.objects.get()
    assert (survey.rating, survey.comment) == (4, "Quick and kind.")
    assert survey.answered_at is not None
    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.satisfaction_rating == 4
    assert stored.satisfaction_comment == "Quick and kind."
    assert stored.rated_at == survey.answered_at
    # The customer's answer never makes an agent's open edit stale.
    assert stored.version == ticket.version

    again = client.post(link, {"rating": "1", "comment": "Changed my mind"})
    page = client.get(link)

    assert again.status_code == 200
    assert "already been answered" in again.content.decode()
    assert "already been answered" in page.content.decode()
    assert 'name="rating"' not in page.content.decode()
    survey.refresh_from_db()
    assert (survey.rating, survey.comment) == (4, "Quick and kind.")
    stored.refresh_from_db()
    assert (stored.satisfaction_rating, stored.satisfaction_comment) == (4, "Quick and kind.")


def test_of_two_answers_to_one_survey_only_the_first_is_stored(resolve):
    ticket = resolve(_ticket())
    first = SatisfactionSurvey.objects.get()
    second = SatisfactionSurvey.objects.get()

    assert surveys.survey_answer(survey=first, rating=5) is True
    assert surveys.survey_answer(survey=second, rating=1, comment="late") is False

    first.refresh_from_db()
    assert (first.rating, first.comment) == (5, "")
    assert Ticket.objects.get(pk=ticket.pk).satisfaction_rating == 5


def test_an_expired_link_stores_nothing(client, resolve):
    ticket = resolve(_ticket())
    link = _link(mail.outbox[0])
    SatisfactionSurvey.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    page = client.get(link)
    posted = client.post(link, {"rating": "5"})

    assert page.status_code == 410
    assert "This link has expired" in page.content.decode()
    assert posted.status_code == 410
    survey = SatisfactionSurvey.objects.get()
    assert survey.answered_at is None and survey.rating is None
    assert Ticket.objects.get(pk=ticket.pk).satisfaction_rating is None


def test_a_link_signed_longer_ago_than_a_survey_lives_has_expired(client, resolve):
    resolve(_ticket())
    raw = "an-old-token"
    long_ago = time.time() - (surveys.SURVEY_DAYS + 1) * 86400
    with mock.patch("django.core.signing.time.time", return_value=long_ago):
        token = surveys.survey_link_token(raw)
    SatisfactionSurvey.objects.update(token_hash=surveys.survey_token_hash(raw))

    response = client.post(reverse("service:survey_answer", args=[token]), {"rating": "5"})

    assert response.status_code == 410
    assert SatisfactionSurvey.objects.get().answered_at is None


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        surveys.survey_link_token("unknown-token"),
    ],
    ids=["garbage", "signed-but-unknown"],
)
def test_a_wrong_token_is_not_found(client, resolve, token):
    resolve(_ticket())

    response = client.post(reverse("service:survey_answer", args=[token]), {"rating": "5"})

    assert response.status_code == 404
    assert SatisfactionSurvey.objects.get().answered_at is None


def test_a_tampered_link_is_not_found(client, resolve):
    resolve(_ticket())
    link = _link(mail.outbox[0])
    token = link.rstrip("/").rsplit("/", 1)[1]
    value, stamp, signature = token.rsplit(":", 2)

    response = client.get(reverse("service:survey_answer", args=[f"{value}x:{stamp}:{signature}"]))

    assert response.status_code == 404


@pytest.mark.parametrize("rating", ["0", "6", "", "five"])
def test_a_rating_outside_one_to_five_is_refused(client, resolve, rating):
    ticket = resolve(_ticket())

    response = client.post(_link(mail.outbox[0]), {"rating": rating, "comment": "hm"})

    assert response.status_code == 400
    assert "Choose a rating from 1 to 5." in response.content.decode()
    assert SatisfactionSurvey.objects.get().answered_at is None
    assert Ticket.objects.get(pk=ticket.pk).satisfaction_rating is None


def test_a_comment_too_long_is_refused(client, resolve):
    resolve(_ticket())

    response = client.post(
        _link(mail.outbox[0]),
        {"rating": "3", "comment": "x" * (surveys.COMMENT_MAX_LENGTH + 1)},
    )

    assert response.status_code == 400
    assert "Write at most" in response.content.decode()
    assert SatisfactionSurvey.objects.get().answered_at is None


def _reopen_and_resolve(ticket: Ticket, resolve) -> Ticket:
    ticket = ticket_reopen(actor=None, ticket=ticket, version=ticket.version)
    return resolve(ticket)


def test_resolving_again_while_the_survey_is_open_sends_nothing_new(resolve):
    ticket = resolve(_ticket())

    _reopen_and_resolve(ticket, resolve)

    assert len(mail.outbox) == 1
    assert SatisfactionSurvey.objects.count() == 1


def test_resolving_again_after_an_answer_sends_a_new_survey(client, resolve):
    ticket = resolve(_ticket())
    client.post(_link(mail.outbox[0]), {"rating": "2"})

    _reopen_and_resolve(ticket, resolve)

    assert len(mail.outbox) == 2
    assert _link(mail.outbox[1]) != _link(mail.outbox[0])
    assert SatisfactionSurvey.objects.filter(answered_at__isnull=True).count() == 1


def test_resolving_again_after_the_survey_expired_sends_a_new_survey(resolve):
    ticket = resolve(_ticket())
    SatisfactionSurvey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    _reopen_and_resolve(ticket, resolve)

    assert len(mail.outbox) == 2
    assert SatisfactionSurvey.objects.count() == 2


def test_the_survey_page_needs_no_sign_in_and_keeps_csrf(resolve):
    resolve(_ticket())
    browser = Client(enforce_csrf_checks=True)
    link = _link(mail.outbox[0])

    page = browser.get(link)
    forged = browser.post(link, {"rating": "5"})
    posted = browser.post(
        link, {"rating": "5", "csrfmiddlewaretoken": page.cookies["csrftoken"].value}
    )

    assert page.status_code == 200
    assert forged.status_code == 403
    assert posted.status_code == 200
    assert SatisfactionSurvey.objects.get().rating == 5


def test_the_privacy_export_holds_the_surveys_and_answers(client, resolve, admin_user):
    ticket = resolve(_ticket())
    client.post(_link(mail.outbox[0]), {"rating": "5", "comment": "Lovely"})

    data = customer_personal_data_export(actor=admin_user, customer=ticket.customer)

    [exported] = data["satisfaction_surveys"]
    assert exported["ticket"] == ticket.number
    assert exported["sent_to"] == "mei@example.com"
    assert (exported["rating"], exported["comment"]) == (5, "Lovely")


def test_erasing_the_customer_removes_what_they_wrote_and_kills_open_links(
    client, resolve, admin_user
):
    ticket = resolve(_ticket())
    client.post(_link(mail.outbox[0]), {"rating": "4", "comment": "Call me on 138…"})
    ticket = _reopen_and_resolve(Ticket.objects.get(pk=ticket.pk), resolve)
    open_link = _link(mail.outbox[1])

    customer_erase(actor=admin_user, customer=ticket.customer, reason="Asked by email")

    answered, unanswered = SatisfactionSurvey.objects.order_by("sent_at", "pk")
    assert (answered.sent_to, answered.comment, answered.rating) == ("", "", 4)
    assert unanswered.sent_to == ""
    assert Ticket.objects.get(pk=ticket.pk).satisfaction_comment == ""
    assert client.get(open_link).status_code == 410


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_answers_sent_at_once_store_exactly_one():
    ticket = _ticket()
    # Outside a test transaction the survey is sent as the resolve commits.
    ticket = ticket_resolve(actor=None, ticket=ticket, version=ticket.version)
    start = threading.Barrier(2)
    results = []

    def answer(rating: int) -> None:
        try:
            survey = SatisfactionSurvey.objects.get()
            start.wait()
            results.append(surveys.survey_answer(survey=survey, rating=rating))
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(rating,)) for rating in (1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False, True]
    survey = SatisfactionSurvey.objects.get()
    assert Ticket.objects.get(pk=ticket.pk).satisfaction_rating == survey.rating
