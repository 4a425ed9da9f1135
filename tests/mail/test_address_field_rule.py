"""Mail addresses are customers' emails: a role the field rules hide the customer's email from
sees no address on mail either, on the pages, in search, in the API and in webhook payloads."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from crm.accounts import roles
from crm.accounts.models import FieldRule
from crm.webhooks.services import webhook_deliveries_create
from customers.models import Customer
from tests.customers.factories import CustomerFactory
from tests.mail.factories import EmailMessageFactory
from tests.webhooks.factories import WebhookSubscriptionFactory

pytestmark = pytest.mark.django_db

ADDRESS = "hidden.person@example.com"


@pytest.fixture
def message(rep):
    customer = CustomerFactory(owner=rep, email=ADDRESS, name="Hidden Person")
    return EmailMessageFactory(
        customer=customer, to_addresses=[ADDRESS], subject="Quarterly review"
    )


def hide_customer_email_from_reps() -> None:
    FieldRule.objects.create(
        content_type=ContentType.objects.get_for_model(Customer),
        field_name="email",
        role=Group.objects.get(name=roles.SALES_REP),
        access=FieldRule.Access.HIDDEN,
    )


def test_with_the_rule_no_surface_shows_or_searches_the_address(rep, rep_client, message):
    # given the customer's email is hidden from reps
    hide_customer_email_from_reps()

    # when the rep reads their mail everywhere  # then the mail is there, its address is not
    listing = rep_client.get(reverse("mail:email_list")).content.decode()
    assert "Quarterly review" in listing
    assert ADDRESS not in listing
    detail = rep_client.get(reverse("mail:email_detail", args=[message.pk])).content.decode()
    assert "Quarterly review" in detail
    assert ADDRESS not in detail
    searched = rep_client.get(reverse("mail:email_list"), {"q": "hidden.person"})
    assert "Quarterly review" not in searched.content.decode()
    body = rep_client.get(f"/api/v1/emails/{message.pk}/").json()
    assert body["subject"] == "Quarterly review"
    assert not {"from_address", "to_addresses", "cc_addresses"} & set(body)
    subscription = WebhookSubscriptionFactory(owner=rep, events=["email.received"])
    [delivery] = webhook_deliveries_create(event="email.received", record=message, extra={})
    assert delivery.subscription == subscription
    assert "to_addresses" not in delivery.payload["data"]
    assert ADDRESS not in str(delivery.payload)


def test_without_the_rule_every_surface_shows_the_address(rep, rep_client, message):
    assert ADDRESS in rep_client.get(reverse("mail:email_list")).content.decode()
    searched = rep_client.get(reverse("mail:email_list"), {"q": "hidden.person"})
    assert "Quarterly review" in searched.content.decode()
    assert rep_client.get(f"/api/v1/emails/{message.pk}/").json()["to_addresses"] == [ADDRESS]
    WebhookSubscriptionFactory(owner=rep, events=["email.received"])
    [delivery] = webhook_deliveries_create(event="email.received", record=message, extra={})
    assert delivery.payload["data"]["to_addresses"] == [ADDRESS]
