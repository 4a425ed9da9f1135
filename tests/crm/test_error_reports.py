"""Error reports (Django's technical 500 page and the email to ADMINS) never show an encrypted
field's value or a secret, whether posted, held by a traceback variable or inside a dict."""

import sys

import pytest
from django.core import mail
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.views.debug import ExceptionReporter

from crm.accounts import roles
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

IDENTITY = "310101198503021234"
NOTES = "Owes money to a loan shark"
# Kept away from the failing code below: the report quotes the source lines around each frame.
SECRET_VALUE = "s3cr3t-value"
TOKEN = "tok_live_abcdef"
PASSWORD = "hunter2-hunter2"


@pytest.fixture
def failing_save(monkeypatch):
    """The customer service fails after the form posted its values."""

    def customer_create(**values):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("customers.views.profile.customer_create", customer_create)


@pytest.fixture
def manager_client(team):
    user = UserFactory(username="boss", roles=[roles.MANAGER])
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def post_new_customer(client) -> object:
    return client.post(
        reverse("customers:customer_new"),
        {
            "name": "Chen Wei",
            "status": "lead",
            "tier": "normal",
            "identity_number": IDENTITY,
            "private_notes": NOTES,
        },
    )


@override_settings(ADMINS=[("Ops", "ops@example.com")], DEBUG=False)
def test_the_email_to_admins_masks_the_posted_sensitive_values(failing_save, manager_client):
    # given a save that fails  # when a customer with an identity number is posted
    response = post_new_customer(manager_client)

    # then the admins get a report without the values, in text or HTML
    assert response.status_code == 500
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    bodies = [message.body, *(content for content, _type in message.alternatives)]
    assert "the database went away" in message.body
    for body in bodies:
        assert IDENTITY not in body
        assert NOTES not in body
    assert "identity_number" in message.body


@override_settings(DEBUG=True)
def test_the_debug_page_masks_them_too(failing_save, manager_client):
    # given DEBUG on  # when the same failure happens
    response = post_new_customer(manager_client)

    # then the technical page shows the error, not the values
    assert response.status_code == 500
    page = response.content.decode()
    assert "the database went away" in page
    assert IDENTITY not in page
    assert NOTES not in page


def test_variables_and_dicts_holding_secrets_are_masked():
    # given a request posting a password and a failure in code holding secrets in variables
    request = RequestFactory().post("/x/", {"password": PASSWORD, "name": "Ada"})

    def fail(identity_number, settings_like):
        api_token = TOKEN  # noqa: F841 - read by the report
        raise ValueError("boom")

    try:
        fail(IDENTITY, {"SECRET_KEY": SECRET_VALUE, "private_notes": NOTES, "city": "Wuhan"})
    except ValueError:
        # when the report is made
        html = ExceptionReporter(request, *sys.exc_info()).get_traceback_html()

    # then none of the secrets shows, and harmless values do
    for secret in (IDENTITY, NOTES, SECRET_VALUE, TOKEN, PASSWORD):
        assert secret not in html
    assert "Wuhan" in html
    assert "Ada" in html
