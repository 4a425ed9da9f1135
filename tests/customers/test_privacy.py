"""Privacy requests: the export of everything held about a customer, and erasure; audited."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.utils import timezone

from customers import registry
from customers.models import Customer, Interaction, Need, PrivacyRequest, Relationship, Tag
from customers.services.customers import customer_aggregates_refresh
from customers.services.privacy import customer_erase, customer_personal_data_export
from tests.accounts.factories import TeamFactory
from tests.customers.factories import (
    CompanyFactory,
    CustomerFactory,
    CustomerMergeFactory,
    InteractionFactory,
    NeedFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    RelationshipFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def privacy_registry(monkeypatch):
    """Exporters and erasers registered during a test are forgotten after it."""
    monkeypatch.setattr(registry, "_privacy_exporters", registry.privacy_exporters())
    monkeypatch.setattr(registry, "_erasers", registry.erasers())


@pytest.fixture
def customer(team):
    """A customer with something of everything."""
    person = CustomerFactory(
        name="王芳",
        email="wang.fang@example.cn",
        phone="+8613800138000",
        birthday=date(1985, 3, 2),
        gender=Customer.Gender.FEMALE,
        street="88 Nanjing Road",
        city="Shanghai",
        province="Shanghai",
        postcode="200001",
        country="CN",
        annual_income=Decimal("320000.00"),
        income_currency="CNY",
        job_title="Head of purchasing",
        notes="Prefers WeChat.",
        external_id="ERP-1",
        custom_attributes={"wechat": "wangfang85"},
        company=CompanyFactory(name="Blue Summit Labs"),
        team=team,
        marketing_consent=True,
        marketing_consent_at=timezone.now() - timedelta(days=30),
    )
    person.tags.add(Tag.objects.create(name="vip-event"))
    order = OrderFactory(customer=person, number="SO-1", total_amount=Decimal("198.00"))
    OrderLineFactory(order=order, product=ProductFactory(sku="SKU-1", name="Router"))
    InteractionFactory(customer=person, subject="Quote call", summary="Wants 20 routers.")
    NeedFactory(customer=person, text="Needs a quote for 20 routers")
    RelationshipFactory(from_customer=person, to_customer=CustomerFactory(), kind="colleague")
    RelationshipFactory(from_customer=CustomerFactory(), to_customer=person, kind="referred_by")
    CustomerMergeFactory(kept=person, merged_snapshot={"name": "Wang Fang", "phone": "138"})
    customer_aggregates_refresh(customer_ids=[person.pk])
    person.refresh_from_db()
    return person


# --- export -------------------------------------------------------------------------------


def test_export_holds_everything_about_the_customer(admin_user, customer, privacy_registry):
    # given an app that registered its own section
    registry.register_privacy_exporter(
        key="deals", exporter=lambda person: [{"title": f"Deal of {person.pk}"}]
    )

    # when
    data = customer_personal_data_export(actor=admin_user, customer=customer)

    # then every section is there, as plain JSON
    assert json.loads(json.dumps(data)) == data
    assert data["customer"]["name"] == "王芳"
    assert data["customer"]["birthday"] == "1985-03-02"
    assert data["customer"]["annual_income"] == "320000.00"
    assert data["customer"]["custom_attributes"] == {"wechat": "wangfang85"}
    assert data["company"]["name"] == "Blue Summit Labs"
    assert data["tags"] == ["vip-event"]
    [order] = data["orders"]
    assert order["number"] == "SO-1"
    assert order["total_amount"] == "198.00"
    assert order["lines"] == [
        {"product_sku": "SKU-1", "product_name": "Router", "quantity": 2, "unit_price": "99.00"}
    ]
    assert [row["subject"] for row in data["interactions"]] == ["Quote call"]
    assert [row["text"] for row in data["needs"]] == ["Needs a quote for 20 routers"]
    assert sorted((row["direction"], row["kind"]) for row in data["relationships"]) == [
        ("incoming", "referred_by"),
        ("outgoing", "colleague"),
    ]
    assert data["merges"][0]["merged_snapshot"] == {"name": "Wang Fang", "phone": "138"}
    assert [row["kind"] for row in data["privacy_requests"]] == ["export"]
    assert data["deals"] == [{"title": f"Deal of {customer.pk}"}]


def test_export_is_audited(admin_user, customer):
    # when
    customer_personal_data_export(actor=admin_user, customer=customer)

    # then
    request = PrivacyRequest.objects.get()
    assert request.kind == PrivacyRequest.Kind.EXPORT
    assert request.customer == customer
    assert request.customer_reference == f"#{customer.pk}"
    assert request.requested_by == admin_user


def test_export_refuses_an_exporter_that_takes_a_core_section(
    admin_user, customer, privacy_registry
):
    # given
    registry.register_privacy_exporter(key="orders", exporter=lambda person: [])

    # when  # then
    with pytest.raises(ImproperlyConfigured):
        customer_personal_data_export(actor=admin_user, customer=customer)


def test_export_and_erasure_are_for_admins_only(manager, customer):
    # when  # then a manager (who sees the customer) may do neither
    with pytest.raises(PermissionDenied):
        customer_personal_data_export(actor=manager, customer=customer)
    with pytest.raises(PermissionDenied):
        customer_erase(actor=manager, customer=customer, reason="Asked by email")
    assert not PrivacyRequest.objects.exists()


# --- erasure ------------------------------------------------------------------------------


def test_erasure_removes_personal_data_and_keeps_aggregates(admin_user, customer, privacy_registry):
    # given an app that registered an eraser
    erased_by_apps = []
    registry.register_eraser(key="tickets", eraser=lambda person: erased_by_apps.append(person.pk))

    # when
    request = customer_erase(actor=admin_user, customer=customer, reason="Art. 17 request")

    # then personal fields are gone
    customer.refresh_from_db()
    assert customer.name == f"Erased customer #{customer.pk}"
    for name in ("email", "phone", "street", "postcode", "job_title", "notes", "external_id"):
        assert getattr(customer, name) == "", name
    assert customer.birthday is None
    assert customer.gender == ""
    assert customer.annual_income is None
    assert customer.custom_attributes == {}
    assert not customer.tags.exists()
    assert customer.marketing_consent is False
    assert customer.marketing_consent_at is None
    assert customer.erased_at is not None
    assert not Relationship.objects.exists()
    interaction = Interaction.objects.get(customer=customer)
    assert (interaction.subject, interaction.summary) == ("", "")
    assert Need.objects.get(customer=customer).text == ""
    assert customer.merges.get().merged_snapshot == {}
    # and what reports need stays
    assert customer.order_count == 1
    assert customer.total_spend == Decimal("198.00")
    assert customer.orders.get().total_amount == Decimal("198.00")
    assert (customer.city, customer.province, customer.country) == ("Shanghai", "Shanghai", "CN")
    assert customer.company.name == "Blue Summit Labs"
    assert interaction.channel == Interaction.Channel.CALL
    # every registered eraser ran, and the erasure is on record
    assert erased_by_apps == [customer.pk]
    assert request.kind == PrivacyRequest.Kind.ERASURE
    assert request.reason == "Art. 17 request"
    assert request.requested_by == admin_user
    assert request.customer == customer


def test_erasing_twice_is_refused(admin_user, customer):
    # given
    customer_erase(actor=admin_user, customer=customer, reason="Asked by phone")

    # when  # then
    with pytest.raises(ValidationError) as raised:
        customer_erase(actor=admin_user, customer=customer, reason="Asked again")
    assert raised.value.messages == ["This customer has already been erased."]
    assert PrivacyRequest.objects.filter(kind="erasure").count() == 1


def test_erasure_needs_a_reason(admin_user, customer):
    # when  # then
    with pytest.raises(ValidationError) as raised:
        customer_erase(actor=admin_user, customer=customer, reason="   ")
    assert "reason" in raised.value.message_dict
    customer.refresh_from_db()
    assert customer.erased_at is None


def test_a_failing_eraser_leaves_the_customer_untouched(admin_user, customer, privacy_registry):
    # given
    def broken(person):
        raise RuntimeError("tickets unavailable")

    registry.register_eraser(key="tickets", eraser=broken)

    # when
    with pytest.raises(RuntimeError):
        customer_erase(actor=admin_user, customer=customer, reason="Asked by email")

    # then
    customer.refresh_from_db()
    assert customer.name == "王芳"
    assert customer.erased_at is None
    assert not PrivacyRequest.objects.exists()


# --- the browser --------------------------------------------------------------------------


def privacy_url(customer, action: str = "") -> str:
    return f"/customers/{customer.pk}/privacy/{action}"


def test_privacy_page_lists_past_requests(admin_user, client_for, customer):
    # given an earlier export
    customer_personal_data_export(actor=admin_user, customer=customer)

    # when
    response = client_for(admin_user).get(privacy_url(customer))

    # then
    assert response.status_code == 200
    assert [request.kind for request in response.context["page"]] == ["export"]
    page = response.content.decode()
    assert "Download JSON export" in page
    assert "Erase this customer" in page


def test_privacy_pages_are_for_admins(manager, rep, client_for, customer):
    # when  # then
    for user in (manager, rep):
        client = client_for(user)
        assert client.get(privacy_url(customer)).status_code == 403
        assert client.post(privacy_url(customer, "export/")).status_code == 403
        erase = client.post(privacy_url(customer, "erase/"), {"reason": "x", "confirm": "on"})
        assert erase.status_code == 403
    customer.refresh_from_db()
    assert customer.erased_at is None


def test_privacy_pages_are_404_for_a_customer_the_user_cannot_see(rep, client_for, customer):
    # given a rep granted the privacy permissions, and a customer of another team
    rep.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["privacy_export_customer", "privacy_erase_customer"]
        )
    )
    stranger = CustomerFactory(team=TeamFactory())
    client = client_for(rep)

    # when  # then
    assert client.get(privacy_url(customer)).status_code == 200
    assert client.get(privacy_url(stranger)).status_code == 404
    assert client.post(privacy_url(stranger, "export/")).status_code == 404


def test_download_of_the_export_is_a_recorded_post(admin_user, client_for, customer):
    # given
    client = client_for(admin_user)

    # when
    refused = client.get(privacy_url(customer, "export/"))
    response = client.post(privacy_url(customer, "export/"))

    # then
    assert refused.status_code == 405
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="customer-{customer.pk}.json"'
    assert json.loads(response.content)["customer"]["name"] == "王芳"
    assert PrivacyRequest.objects.filter(kind="export").count() == 1


def test_erase_form_needs_a_reason_and_a_confirmation(admin_user, client_for, customer):
    # when
    response = client_for(admin_user).post(privacy_url(customer, "erase/"), {"reason": "Asked"})

    # then
    assert response.status_code == 400
    assert "confirm" in response.context["erase_form"].errors
    customer.refresh_from_db()
    assert customer.erased_at is None


def test_erase_form_erases_and_says_so(admin_user, client_for, customer):
    # when
    response = client_for(admin_user).post(
        privacy_url(customer, "erase/"), {"reason": "Asked by email", "confirm": "on"}, follow=True
    )

    # then
    assert response.redirect_chain == [(privacy_url(customer), 302)]
    assert "The customer's personal data was erased." in [
        str(message) for message in response.context["messages"]
    ]
    assert "This customer was erased on" in response.content.decode()
    customer.refresh_from_db()
    assert customer.erased_at is not None


def test_erase_form_shows_the_refusal_of_a_second_erasure(admin_user, client_for, customer):
    # given
    customer_erase(actor=admin_user, customer=customer, reason="First")

    # when
    response = client_for(admin_user).post(
        privacy_url(customer, "erase/"), {"reason": "Again", "confirm": "on"}
    )

    # then
    assert response.status_code == 400
    assert "This customer has already been erased." in response.content.decode()


# --- the API ------------------------------------------------------------------------------


def test_api_personal_data_export(admin_user, client_for, customer):
    # when
    response = client_for(admin_user).get(f"/api/v1/customers/{customer.pk}/personal-data/")

    # then
    assert response.status_code == 200
    assert response.json()["customer"]["email"] == "wang.fang@example.cn"
    assert PrivacyRequest.objects.filter(kind="export", requested_by=admin_user).exists()


def test_api_erase(admin_user, client_for, customer):
    # given
    client = client_for(admin_user)
    url = f"/api/v1/customers/{customer.pk}/erase/"

    # when
    first = client.post(url, {"reason": "Asked by email"}, content_type="application/json")
    second = client.post(url, {"reason": "Again"}, content_type="application/json")

    # then
    assert first.status_code == 200
    assert first.json()["kind"] == "erasure"
    assert first.json()["customer"] == customer.pk
    assert first.json()["reason"] == "Asked by email"
    assert second.status_code == 400
    assert second.json()["error"] == {
        "code": "validation_error",
        "message": "This customer has already been erased.",
        "fields": {},
    }


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "ok", "customer": 1}])
def test_api_erase_refuses_a_bad_body(admin_user, client_for, customer, body):
    # when
    response = client_for(admin_user).post(
        f"/api/v1/customers/{customer.pk}/erase/", body, content_type="application/json"
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    customer.refresh_from_db()
    assert customer.erased_at is None


def test_api_privacy_endpoints_answer_403_and_404(manager, rep, client_for, customer):
    # given a rep granted the export permission, and a customer of another team
    rep.user_permissions.add(Permission.objects.get(codename="privacy_export_customer"))
    stranger = CustomerFactory(team=TeamFactory())

    # when
    forbidden = client_for(manager).get(f"/api/v1/customers/{customer.pk}/personal-data/")
    forbidden_erase = client_for(manager).post(
        f"/api/v1/customers/{customer.pk}/erase/", {"reason": "x"}, content_type="application/json"
    )
    hidden = client_for(rep).get(f"/api/v1/customers/{stranger.pk}/personal-data/")

    # then
    assert forbidden.status_code == forbidden_erase.status_code == 403
    assert forbidden.json()["error"]["code"] == "permission_denied"
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "not_found"
    assert not PrivacyRequest.objects.exists()


def test_api_privacy_request_list(
    admin_user, manager, client_for, customer, django_assert_max_num_queries
):
    # given an export and an erasure of two customers
    other = CustomerFactory()
    customer_personal_data_export(actor=admin_user, customer=customer)
    customer_erase(actor=admin_user, customer=other, reason="Asked")
    client = client_for(admin_user)

    # when
    with django_assert_max_num_queries(8):
        everything = client.get("/api/v1/privacy-requests/")
    erasures = client.get("/api/v1/privacy-requests/", {"kind": "erasure"})
    of_customer = client.get("/api/v1/privacy-requests/", {"customer": customer.pk})
    forbidden = client_for(manager).get("/api/v1/privacy-requests/")

    # then
    assert everything.status_code == 200
    assert [row["kind"] for row in everything.json()["results"]] == ["erasure", "export"]
    assert [row["customer"] for row in erasures.json()["results"]] == [other.pk]
    assert [row["kind"] for row in of_customer.json()["results"]] == ["export"]
    assert forbidden.status_code == 403
