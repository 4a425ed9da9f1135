"""Suppressed addresses: the administrators' page (search, take one off), the API, the admin's
rule on the services, and the box on a customer's page when mail to them bounced."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from crm.accounts import roles
from mail import selectors
from mail.models import SuppressedAddress
from mail.services.suppressions import address_suppress, address_unsuppress
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.customers.factories import CustomerFactory
from tests.mail.factories import SuppressedAddressFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/mail/suppressions/"
API_URL = "/api/v1/suppressed-addresses/"


@pytest.fixture
def admin_client(client_for, admin_user):
    return client_for(admin_user)


@pytest.fixture
def someone(request, team):
    """The user of the test's `persona`: a rep, a manager, a marketer or a service agent."""
    persona = request.param
    if persona in ("rep", "manager"):
        return request.getfixturevalue(persona)
    role = {"marketer": roles.MARKETING, "agent": roles.SERVICE_AGENT}[persona]
    user = UserFactory(username=persona, roles=[role])
    TeamMembershipFactory(team=team, user=user)
    return user


def test_the_admin_lists_and_searches_the_addresses(admin_client, django_assert_max_num_queries):
    # given many suppressed addresses
    SuppressedAddressFactory.create_batch(30)
    SuppressedAddressFactory(address="gone@old-isp.example.com", detail="mailbox not found")
    # when the admin opens the list
    with django_assert_max_num_queries(12):
        response = admin_client.get(LIST_URL)
    # then they are shown
    assert response.status_code == 200
    assert "gone@old-isp.example.com" in response.content.decode()
    # and a search narrows them
    response = admin_client.get(LIST_URL, {"q": "old-isp"})
    body = response.content.decode()
    assert "gone@old-isp.example.com" in body
    assert "bounced0@example.com" not in body


def test_the_admin_takes_an_address_off_the_list(admin_client):
    # given a suppressed address
    suppressed = SuppressedAddressFactory(address="back@example.com")
    url = reverse("mail:suppression_remove", args=[suppressed.pk])
    # when the admin confirms its removal
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url)
    # then mail may go to it again
    assert response.status_code == 302
    assert selectors.addresses_suppressed_among(addresses=["Back@Example.com"]) == []


@pytest.mark.parametrize("someone", ["rep", "manager", "marketer"], indirect=True)
def test_only_admins_reach_the_pages(someone, client_for):
    # given a suppressed address and someone who is not an admin
    suppressed = SuppressedAddressFactory()
    client = client_for(someone)
    # when they try the pages
    listing = client.get(LIST_URL)
    removal = client.post(reverse("mail:suppression_remove", args=[suppressed.pk]))
    # then they are refused, and the address stays
    assert listing.status_code == 403
    assert removal.status_code == 403
    assert SuppressedAddress.objects.filter(pk=suppressed.pk).exists()


def test_a_visitor_is_sent_to_sign_in(client):
    response = client.get(LIST_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_api_lists_adds_and_removes_for_admins(admin_client, django_assert_max_num_queries):
    # given some suppressed addresses
    SuppressedAddressFactory.create_batch(5)
    # when the admin lists them
    with django_assert_max_num_queries(8):
        response = admin_client.get(API_URL)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 5
    # and adds one, in any case
    response = admin_client.post(
        API_URL,
        {"address": "Typo@Example.COM", "reason": "rejected", "detail": "asked by phone"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    added = response.json()
    assert added["address"] == "typo@example.com"
    assert added["reason"] == "rejected"
    # and reads it, then takes it off
    assert admin_client.get(f"{API_URL}{added['id']}/").json()["detail"] == "asked by phone"
    assert admin_client.delete(f"{API_URL}{added['id']}/").status_code == 204
    assert not SuppressedAddress.objects.filter(address="typo@example.com").exists()


def test_the_api_refuses_a_bad_address_and_reason(admin_client):
    response = admin_client.post(
        API_URL, {"address": "not-an-address", "reason": "bored"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert not SuppressedAddress.objects.exists()


@pytest.mark.parametrize("someone", ["rep", "manager", "agent"], indirect=True)
def test_the_api_is_for_admins_alone(someone, client_for):
    client = client_for(someone)
    suppressed = SuppressedAddressFactory()
    assert client.get(API_URL).status_code == 403
    assert client.get(f"{API_URL}{suppressed.pk}/").status_code in (403, 404)
    response = client.post(
        API_URL, {"address": "x@example.com", "reason": "bounced"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert client.delete(f"{API_URL}{suppressed.pk}/").status_code in (403, 404)
    assert SuppressedAddress.objects.count() == 1


def test_the_services_refuse_someone_who_is_not_an_admin(rep):
    suppressed = SuppressedAddressFactory()
    with pytest.raises(PermissionDenied):
        address_suppress(actor=rep, address="a@example.com", reason="bounced")
    with pytest.raises(PermissionDenied):
        address_unsuppress(actor=rep, suppressed=suppressed)
    assert SuppressedAddress.objects.count() == 1


def test_the_customer_page_says_when_mail_to_them_bounced(rep, rep_client):
    # given a customer whose address bounced
    customer = CustomerFactory(owner=rep, email="Lost@Example.com")
    address_suppress(
        actor=None, address="lost@example.com", reason="bounced", detail="550 no such user"
    )
    # when their page is opened
    body = rep_client.get(reverse("customers:customer_detail", args=[customer.pk])).content
    # then the email delivery box says so, with the provider's words
    text = body.decode()
    assert "Email to this address bounced on" in text
    assert "550 no such user" in text


def test_the_customer_page_has_no_box_when_mail_reaches_them(rep, rep_client):
    customer = CustomerFactory(owner=rep)
    body = rep_client.get(reverse("customers:customer_detail", args=[customer.pk])).content
    assert "Email delivery" not in body.decode()
