import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from customers.models import Customer
from service.models import Ticket, TicketMessage
from service.services.public import SUBMISSION_LIMIT
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = reverse("service:ticket_public_form")


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


def _data(**overrides) -> dict[str, str]:
    return {
        "name": "Mei Lin",
        "email": "mei@example.com",
        "phone": "",
        "type": Ticket.Type.COMPLAINT,
        "subject": "Broken on arrival",
        "message": "The kettle arrived cracked.\nPlease help.",
        "website": "",
        **overrides,
    }


def test_the_form_opens_without_signing_in(client):
    response = client.get(URL)

    assert response.status_code == 200
    content = response.content.decode()
    for name in ("name", "email", "phone", "type", "subject", "message", "website"):
        assert f'name="{name}"' in content
    assert "csrfmiddlewaretoken" in content
    # Not embeddable, unlike the sales web form.
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_new_email_makes_a_lead_and_an_unassigned_ticket(client):
    response = client.post(URL, _data(phone="138 0013 8000"))

    assert response.status_code == 200
    customer = Customer.objects.get()
    assert (customer.name, customer.email, customer.phone) == (
        "Mei Lin",
        "mei@example.com",
        "+8613800138000",
    )
    assert customer.status == Customer.Status.LEAD
    assert customer.source == Customer.Source.WEBSITE
    assert customer.owner is None
    ticket = Ticket.objects.get()
    assert ticket.customer == customer
    assert ticket.channel == Ticket.Channel.WEB_FORM
    assert ticket.type == Ticket.Type.COMPLAINT
    assert ticket.subject == "Broken on arrival"
    assert ticket.description == "The kettle arrived cracked.\nPlease help."
    assert ticket.assignee is None
    assert ticket.created_by is None
    assert ticket.status == Ticket.Status.NEW
    assert ticket.messages.get().kind == TicketMessage.Kind.CUSTOMER


def test_a_known_email_files_the_ticket_for_that_customer_in_their_teams_queue(client, team):
    known = CustomerFactory(email="mei@example.com", name="Mei Lin (VIP)", team=team)

    response = client.post(URL, _data(email="  MEI@Example.com ", name="Someone Else"))

    assert response.status_code == 200
    assert Customer.objects.count() == 1
    ticket = Ticket.objects.get()
    assert ticket.customer == known
    assert ticket.team == team
    assert ticket.assignee is None
    known.refresh_from_db()
    # The public form never changes a known customer.
    assert known.name == "Mei Lin (VIP)"


def test_the_visitor_cannot_tell_a_known_email_from_a_new_one(client):
    new = client.post(URL, _data(email="new@example.com"))
    CustomerFactory(email="known@example.com")
    known = client.post(URL, _data(email="known@example.com"))

    assert new.status_code == known.status_code == 200
    assert new.content == known.content
    assert Ticket.objects.count() == 2


def test_a_filled_honeypot_is_thanked_and_nothing_is_stored(client):
    honest = client.post(URL, _data(email="honest@example.com"))
    Ticket.objects.all().delete()
    Customer.objects.all().delete()

    bot = client.post(URL, _data(email="bot@example.com", website="http://spam.example"))

    assert bot.status_code == 200
    assert bot.content == honest.content
    assert not Customer.objects.exists()
    assert not Ticket.objects.exists()


def test_more_submissions_than_the_limit_from_one_address_are_refused(client):
    for _n in range(SUBMISSION_LIMIT):
        assert client.post(URL, _data()).status_code == 200

    response = client.post(URL, _data())

    assert response.status_code == 429
    assert "wait about ten minutes" in response.content.decode()
    assert Ticket.objects.count() == SUBMISSION_LIMIT
    other_address = client.post(URL, _data(), REMOTE_ADDR="203.0.113.9")
    assert other_address.status_code == 200


def test_an_invalid_email_is_refused_with_a_message(client):
    response = client.post(URL, _data(email="not-an-email"))

    assert response.status_code == 400
    assert "is not a valid email address" in response.content.decode()
    assert not Customer.objects.exists()
    assert not Ticket.objects.exists()


def test_missing_fields_are_named(client):
    response = client.post(URL, _data(name="", email="", subject=" ", message="", type="question"))

    assert response.status_code == 400
    content = response.content.decode()
    for message in (
        "Please tell us your name.",
        "Please give an email address so we can answer you.",
        "Please give your request a subject.",
        "Please tell us what it is about.",
        "Choose one of the kinds offered.",
    ):
        assert message in content
    assert not Ticket.objects.exists()


def test_a_subject_too_long_is_refused(client):
    response = client.post(URL, _data(subject="x" * 201))

    assert response.status_code == 400
    assert "Write at most 200 characters." in response.content.decode()
    assert not Customer.objects.exists()


def test_a_new_lead_keeps_the_language_the_visitor_wrote_in(client):
    client.cookies["django_language"] = "zh-hans"

    response = client.post(URL, _data())

    assert response.status_code == 200
    assert response.headers["Content-Language"] == "zh-hans"
    assert Customer.objects.get().language == "zh-hans"


def test_the_form_keeps_its_csrf_check(client):
    browser = Client(enforce_csrf_checks=True)

    forged = browser.post(URL, _data())
    page = browser.get(URL)
    posted = browser.post(URL, {**_data(), "csrfmiddlewaretoken": page.cookies["csrftoken"].value})

    assert forged.status_code == 403
    assert posted.status_code == 200
    assert Ticket.objects.count() == 1


def test_a_failure_midway_leaves_no_lead_behind(client, monkeypatch):
    def refuse(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("service.services.public.ticket_create", refuse)

    with pytest.raises(RuntimeError):
        client.post(URL, _data())

    assert not Customer.objects.exists()


def test_the_submission_takes_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(40):
        client.post(URL, _data())
