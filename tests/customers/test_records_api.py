"""/api/v1/ products, orders, needs, interactions and relationships: visibility, filters, search,
ordering, writes through the services, and permissions."""

from datetime import timedelta
from decimal import Decimal

import pytest
import yaml
from django.contrib.auth.models import Permission
from django.utils import timezone

from customers.models import Interaction, Need, Order, Product, Relationship
from tests.accounts.factories import UserFactory
from tests.customers.factories import (
    CompanyFactory,
    CustomerFactory,
    InteractionFactory,
    NeedFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    RelationshipFactory,
)

pytestmark = pytest.mark.django_db


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def error_fields(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    return body["fields"]


@pytest.fixture
def hidden_customer(other_team_rep, other_team):
    return CustomerFactory(name="Hidden", owner=other_team_rep, team=other_team)


# Products ----------------------------------------------------------------------------------------


def test_products_list_filter_search_and_order(rep_client):
    # given
    ProductFactory(sku="TEA-1", name="Tea set", category="Tea", unit_price=Decimal("88"))
    ProductFactory(sku="CUP-1", name="Cups", category="Tableware", unit_price=Decimal("12"))
    ProductFactory(sku="KET-1", name="Kettle", category="Tea", is_active=False)

    # when  # then
    def skus(**params):
        return [row["sku"] for row in results(rep_client.get("/api/v1/products/", params))]

    assert skus() == ["CUP-1", "KET-1", "TEA-1"]
    assert skus(category="Tea") == ["KET-1", "TEA-1"]
    assert skus(is_active="false") == ["KET-1"]
    assert skus(search="tablew") == ["CUP-1"]
    assert skus(ordering="-unit_price", is_active="true") == ["TEA-1", "CUP-1"]


def test_products_create_and_update_through_the_service(rep_client):
    # given  # when
    created = post(
        rep_client,
        "/api/v1/products/",
        {"sku": " TEA-1 ", "name": "Tea  set", "unit_price": "88.00"},
    )
    product_id = created.json()["id"]
    updated = patch(rep_client, f"/api/v1/products/{product_id}/", {"is_active": False})

    # then
    assert created.status_code == 201
    assert created.json()["sku"] == "TEA-1"
    assert created.json()["currency"] == "CNY"
    assert updated.status_code == 200
    product = Product.objects.get()
    assert (product.name, product.is_active) == ("Tea set", False)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"sku": "TAKEN", "name": "Again", "unit_price": "1"}, "sku"),
        ({"sku": "NEW", "name": "Cheap", "unit_price": "-1"}, "unit_price"),
        ({"sku": "NEW", "name": "X", "unit_price": "1", "colour": "red"}, "colour"),
        ({"sku": "NEW", "name": "X", "unit_price": "1", "id": 5}, "id"),
    ],
)
def test_products_create_refuses_bad_values(rep_client, data, field):
    # given
    ProductFactory(sku="TAKEN")

    # when  # then
    assert field in error_fields(post(rep_client, "/api/v1/products/", data))


def test_products_are_not_deleted(rep_client, admin_user, client_for):
    # given
    product = ProductFactory()

    # when  # then even an admin retires a product rather than deleting it
    assert client_for(admin_user).delete(f"/api/v1/products/{product.pk}/").status_code == 405


# Orders ------------------------------------------------------------------------------------------


def test_orders_list_shows_visible_orders_with_lines_in_bounded_queries(
    rep, rep_client, hidden_customer, django_assert_max_num_queries
):
    # given 30 orders of two lines each for the rep's customers, and one for a hidden customer
    for index in range(30):
        order = OrderFactory(
            customer=CustomerFactory(owner=rep), ordered_at=timezone.now() - timedelta(days=index)
        )
        OrderLineFactory.create_batch(2, order=order)
    OrderFactory(customer=hidden_customer, number="SO-HIDDEN")

    # when
    with django_assert_max_num_queries(14):
        response = rep_client.get("/api/v1/orders/")

    # then
    rows = results(response)
    assert len(rows) == 30
    assert response.json()["next"] is None
    assert "SO-HIDDEN" not in [row["number"] for row in rows]
    assert rows[0]["lines"][0].keys() == {
        "id",
        "product",
        "product_name",
        "quantity",
        "unit_price",
        "line_total",
    }
    assert rows[0]["lines"][0]["line_total"] == "198.00"


def test_orders_filter_search_and_order(rep, rep_client):
    # given
    ada = CustomerFactory(name="Ada", owner=rep)
    bo = CustomerFactory(name="Bo", owner=rep)
    now = timezone.now()
    OrderFactory(
        customer=ada, number="SO-1", status="paid", total_amount=Decimal("10"), ordered_at=now
    )
    OrderFactory(
        customer=ada,
        number="SO-2",
        status="completed",
        total_amount=Decimal("30"),
        ordered_at=now - timedelta(days=10),
    )
    OrderFactory(
        customer=bo,
        number="SO-3",
        status="paid",
        total_amount=Decimal("20"),
        ordered_at=now - timedelta(days=20),
    )

    # when  # then
    def numbers(**params):
        return [row["number"] for row in results(rep_client.get("/api/v1/orders/", params))]

    assert numbers() == ["SO-1", "SO-2", "SO-3"]
    assert numbers(customer=ada.pk) == ["SO-1", "SO-2"]
    assert numbers(status="paid") == ["SO-1", "SO-3"]
    assert numbers(search="Bo") == ["SO-3"]
    assert numbers(ordering="-total_amount") == ["SO-2", "SO-3", "SO-1"]
    assert numbers(ordered_after=(now - timedelta(days=15)).isoformat()) == ["SO-1", "SO-2"]
    assert numbers(ordered_before=(now - timedelta(days=5)).isoformat()) == ["SO-2", "SO-3"]


def test_orders_create_with_nested_lines(rep, rep_client):
    # given
    customer = CustomerFactory(owner=rep)
    tea = ProductFactory(name="Tea set", unit_price=Decimal("88.00"))
    cups = ProductFactory(unit_price=Decimal("12.50"))

    # when
    response = post(
        rep_client,
        "/api/v1/orders/",
        {
            "customer": customer.pk,
            "status": "paid",
            "lines": [
                {"product": tea.pk, "quantity": 2},
                {"product": cups.pk, "quantity": 4, "unit_price": "10.00"},
            ],
        },
    )

    # then the total is computed, the number generated and the customer's figures refreshed
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total_amount"] == "216.00"
    assert body["number"].startswith("SO-")
    assert [(line["product_name"], line["line_total"]) for line in body["lines"]] == [
        ("Tea set", "176.00"),
        ("Product " + cups.name.split()[-1], "40.00"),
    ]
    customer.refresh_from_db()
    assert (customer.order_count, customer.total_spend) == (1, Decimal("216.00"))


@pytest.mark.parametrize(
    ("make_data", "field"),
    [
        (lambda ids: {"customer": ids["customer"], "lines": []}, "lines"),
        (
            lambda ids: {
                "customer": ids["hidden"],
                "lines": [{"product": ids["product"], "quantity": 1}],
            },
            "customer",
        ),
        (
            lambda ids: {
                "customer": ids["customer"],
                "lines": [{"product": ids["product"], "quantity": 0}],
            },
            "lines",
        ),
        (
            lambda ids: {
                "customer": ids["customer"],
                "lines": [{"product": 999999, "quantity": 1}],
            },
            "lines",
        ),
        (
            lambda ids: {
                "customer": ids["customer"],
                "total_amount": "1.00",
                "lines": [{"product": ids["product"], "quantity": 1}],
            },
            "total_amount",
        ),
        (
            lambda ids: {
                "customer": ids["customer"],
                "currency": "USD",
                "lines": [{"product": ids["product"], "quantity": 1}],
            },
            "lines",
        ),
    ],
)
def test_orders_create_refuses_bad_orders(rep, rep_client, hidden_customer, make_data, field):
    # given
    ids = {
        "customer": CustomerFactory(owner=rep).pk,
        "hidden": hidden_customer.pk,
        "product": ProductFactory(currency="CNY").pk,
    }

    # when  # then
    assert field in error_fields(post(rep_client, "/api/v1/orders/", make_data(ids)))
    assert not Order.objects.exists()


def test_orders_are_not_edited_except_their_status(rep, rep_client):
    # given
    order = OrderFactory(customer=CustomerFactory(owner=rep), status="pending")

    # when
    put = patch(rep_client, f"/api/v1/orders/{order.pk}/", {"notes": "x"})
    moved = post(rep_client, f"/api/v1/orders/{order.pk}/status/", {"status": "paid"})
    refused = post(rep_client, f"/api/v1/orders/{order.pk}/status/", {"status": "pending"})

    # then
    assert put.status_code == 405
    assert moved.status_code == 200
    assert moved.json()["status"] == "paid"
    assert "status" in error_fields(refused)


def test_order_status_needs_the_change_permission(rep, client_for):
    # given a user who may add orders but not change them
    clerk = UserFactory(username="clerk")
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_order", "add_order", "view_customer"])
    )
    order = OrderFactory(customer=CustomerFactory(owner=clerk))

    # when  # then
    response = post(client_for(clerk), f"/api/v1/orders/{order.pk}/status/", {"status": "paid"})
    assert response.status_code == 403


def test_an_order_of_a_hidden_customer_is_404(rep_client, hidden_customer):
    # given
    order = OrderFactory(customer=hidden_customer)

    # when  # then
    assert rep_client.get(f"/api/v1/orders/{order.pk}/").status_code == 404
    assert (
        post(rep_client, f"/api/v1/orders/{order.pk}/status/", {"status": "paid"}).status_code
        == 404
    )


# Needs -------------------------------------------------------------------------------------------


def test_needs_list_filter_and_search(rep, rep_client, hidden_customer):
    # given
    customer = CustomerFactory(owner=rep)
    NeedFactory(customer=customer, text="Forty chairs", category="Quote", priority="high")
    NeedFactory(customer=customer, text="A demo", category="Demo", status="met")
    NeedFactory(customer=hidden_customer, text="Hidden need")

    # when  # then
    def texts(**params):
        return sorted(row["text"] for row in results(rep_client.get("/api/v1/needs/", params)))

    assert texts() == ["A demo", "Forty chairs"]
    assert texts(status="open") == ["Forty chairs"]
    assert texts(priority="high") == ["Forty chairs"]
    assert texts(category="Demo") == ["A demo"]
    assert texts(search="chairs") == ["Forty chairs"]
    assert texts(customer=hidden_customer.pk) == []


def test_needs_create_update_and_close(rep, rep_client):
    # given
    customer = CustomerFactory(owner=rep)

    # when
    created = post(rep_client, "/api/v1/needs/", {"customer": customer.pk, "text": "Chairs"})
    need_id = created.json()["id"]
    edited = patch(rep_client, f"/api/v1/needs/{need_id}/", {"priority": "high", "status": "met"})
    moved = patch(
        rep_client, f"/api/v1/needs/{need_id}/", {"customer": CustomerFactory(owner=rep).pk}
    )

    # then
    assert created.status_code == 201
    assert created.json()["created_by"] == rep.pk
    assert edited.status_code == 200
    need = Need.objects.get()
    assert (need.priority, need.status, need.customer) == ("high", "met", customer)
    assert "customer" in error_fields(moved)


def test_needs_of_hidden_customers_cannot_be_added(rep_client, hidden_customer):
    # given  # when  # then
    response = post(rep_client, "/api/v1/needs/", {"customer": hidden_customer.pk, "text": "x"})
    assert "customer" in error_fields(response)


# Interactions ------------------------------------------------------------------------------------


def test_interactions_list_filters(rep, rep_client, rep_teammate, team, hidden_customer):
    # given
    customer = CustomerFactory(owner=rep, team=team)
    now = timezone.now()
    InteractionFactory(
        customer=customer, subject="Call", channel="call", handled_by=rep, occurred_at=now
    )
    InteractionFactory(
        customer=customer,
        subject="Email about prices",
        channel="email",
        direction="inbound",
        handled_by=rep_teammate,
        occurred_at=now - timedelta(days=3),
        outcome="positive",
    )
    InteractionFactory(customer=hidden_customer, subject="Hidden")

    # when  # then
    def subjects(**params):
        return [row["subject"] for row in results(rep_client.get("/api/v1/interactions/", params))]

    assert subjects() == ["Call", "Email about prices"]
    assert subjects(channel="email") == ["Email about prices"]
    assert subjects(direction="outbound") == ["Call"]
    assert subjects(handled_by=rep_teammate.pk) == ["Email about prices"]
    assert subjects(outcome="positive") == ["Email about prices"]
    assert subjects(occurred_after=(now - timedelta(days=1)).isoformat()) == ["Call"]
    assert subjects(occurred_before=(now - timedelta(days=1)).isoformat()) == ["Email about prices"]
    assert subjects(search="prices") == ["Email about prices"]
    assert subjects(ordering="occurred_at") == ["Email about prices", "Call"]
    assert subjects(customer=customer.pk) == ["Call", "Email about prices"]


def test_interactions_list_pages_with_a_cursor(rep, rep_client):
    # given 120 interactions, some at the same instant
    customer = CustomerFactory(owner=rep)
    now = timezone.now()
    for index in range(120):
        InteractionFactory(
            customer=customer, subject=f"{index:03d}", occurred_at=now - timedelta(hours=index // 4)
        )

    # when the `next` links are followed, 50 at a time
    seen, url = [], "/api/v1/interactions/"
    while url:
        body = rep_client.get(url).json()
        assert "count" not in body
        seen.extend(row["subject"] for row in body["results"])
        url = body["next"]

    # then every interaction came once, newest first (the later logged first at one instant)
    assert seen == [f"{4 * hour + offset:03d}" for hour in range(30) for offset in (3, 2, 1, 0)]


def test_interactions_list_queries_are_bounded(rep, rep_client, django_assert_max_num_queries):
    # given
    for _index in range(40):
        InteractionFactory(customer=CustomerFactory(owner=rep), handled_by=rep)

    # when  # then
    with django_assert_max_num_queries(12):
        assert len(results(rep_client.get("/api/v1/interactions/"))) == 40


def test_interactions_log_through_the_api(rep, rep_client):
    # given a customer and a record (a company here) the call belongs to
    customer = CustomerFactory(owner=rep)
    company = CompanyFactory(owner=rep)
    when = timezone.now() - timedelta(hours=3)

    # when
    response = post(
        rep_client,
        "/api/v1/interactions/",
        {
            "customer": customer.pk,
            "channel": "call",
            "direction": "outbound",
            "occurred_at": when.isoformat(),
            "subject": "Quote",
            "duration_seconds": 300,
            "related_type": "customers.company",
            "related_id": company.pk,
        },
    )

    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["handled_by"], body["related_type"], body["related_id"]) == (
        rep.pk,
        "customers.company",
        company.pk,
    )
    customer.refresh_from_db()
    assert customer.last_contact_at == when


@pytest.mark.parametrize(
    ("make_data", "field"),
    [
        (
            lambda ids: {"customer": ids["hidden"], "channel": "call", "direction": "inbound"},
            "customer",
        ),
        (
            lambda ids: {"customer": ids["customer"], "channel": "fax", "direction": "inbound"},
            "channel",
        ),
        (
            lambda ids: {
                "customer": ids["customer"],
                "channel": "call",
                "direction": "inbound",
                "related_type": "nothing.here",
                "related_id": 1,
            },
            "related_type",
        ),
        (
            lambda ids: {
                "customer": ids["customer"],
                "channel": "call",
                "direction": "inbound",
                "related_type": "customers.company",
            },
            "related_id",
        ),
        (
            lambda ids: {
                "customer": ids["customer"],
                "channel": "call",
                "direction": "inbound",
                "occurred_at": (timezone.now() + timedelta(days=1)).isoformat(),
            },
            "occurred_at",
        ),
        (
            lambda ids: {
                "customer": ids["customer"],
                "channel": "call",
                "direction": "inbound",
                "created_at": "2020-01-01T00:00:00Z",
            },
            "created_at",
        ),
    ],
)
def test_interactions_log_refuses_bad_values(rep, rep_client, hidden_customer, make_data, field):
    # given
    ids = {"customer": CustomerFactory(owner=rep).pk, "hidden": hidden_customer.pk}

    # when  # then
    assert field in error_fields(post(rep_client, "/api/v1/interactions/", make_data(ids)))
    assert not Interaction.objects.exists()


def test_interactions_cannot_be_edited_or_deleted(rep, rep_client, admin_user, client_for):
    # given
    interaction = InteractionFactory(customer=CustomerFactory(owner=rep))

    # when  # then not even by an admin: an interaction is a record of what happened
    assert (
        patch(rep_client, f"/api/v1/interactions/{interaction.pk}/", {"subject": "x"}).status_code
        == 405
    )
    assert (
        client_for(admin_user).delete(f"/api/v1/interactions/{interaction.pk}/").status_code == 405
    )


# Relationships -----------------------------------------------------------------------------------


def test_relationships_list_only_with_both_ends_visible(rep, rep_client, hidden_customer):
    # given
    ada = CustomerFactory(name="Ada", owner=rep)
    bo = CustomerFactory(name="Bo", owner=rep)
    shown = RelationshipFactory(from_customer=ada, to_customer=bo, kind="family")
    RelationshipFactory(from_customer=ada, to_customer=hidden_customer)
    RelationshipFactory(from_customer=hidden_customer, to_customer=bo)

    # when  # then
    assert [row["id"] for row in results(rep_client.get("/api/v1/relationships/"))] == [shown.pk]
    assert [
        row["id"] for row in results(rep_client.get("/api/v1/relationships/", {"customer": bo.pk}))
    ] == [shown.pk]
    assert results(rep_client.get("/api/v1/relationships/", {"kind": "colleague"})) == []
    assert [
        row["id"] for row in results(rep_client.get("/api/v1/relationships/", {"search": "bo"}))
    ] == [shown.pk]


def test_relationships_create_and_the_rules(rep, rep_client, hidden_customer):
    # given
    ada = CustomerFactory(owner=rep)
    bo = CustomerFactory(owner=rep)

    # when
    created = post(
        rep_client,
        "/api/v1/relationships/",
        {"from_customer": ada.pk, "to_customer": bo.pk, "kind": "colleague", "strength": 4},
    )
    mirror = post(
        rep_client,
        "/api/v1/relationships/",
        {"from_customer": bo.pk, "to_customer": ada.pk, "kind": "colleague"},
    )
    to_self = post(
        rep_client,
        "/api/v1/relationships/",
        {"from_customer": ada.pk, "to_customer": ada.pk, "kind": "family"},
    )
    hidden = post(
        rep_client,
        "/api/v1/relationships/",
        {"from_customer": ada.pk, "to_customer": hidden_customer.pk, "kind": "family"},
    )

    # then
    assert created.status_code == 201
    assert "to_customer" in error_fields(mirror)
    assert "to_customer" in error_fields(to_self)
    assert "to_customer" in error_fields(hidden)
    assert Relationship.objects.count() == 1


def test_relationships_delete_needs_the_delete_permission(
    rep, rep_client, manager, client_for, team
):
    # given
    relationship = RelationshipFactory(
        from_customer=CustomerFactory(owner=rep, team=team),
        to_customer=CustomerFactory(owner=rep, team=team),
    )

    # when  # then a rep may not, their manager may
    assert rep_client.delete(f"/api/v1/relationships/{relationship.pk}/").status_code == 403
    assert (
        client_for(manager).delete(f"/api/v1/relationships/{relationship.pk}/").status_code == 204
    )
    assert not Relationship.objects.exists()


# Permissions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resource", ["products", "orders", "needs", "interactions", "relationships"]
)
def test_a_user_without_a_role_gets_403(user_without_role, client_for, resource):
    # given  # when
    response = client_for(user_without_role).get(f"/api/v1/{resource}/")

    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(
    "resource", ["products", "orders", "needs", "interactions", "relationships"]
)
def test_anonymous_callers_get_401(client, resource):
    # given  # when  # then
    assert client.get(f"/api/v1/{resource}/").status_code == 401


def test_the_schema_documents_the_record_endpoints(rep_client):
    # given  # when
    schema = yaml.safe_load(rep_client.get("/api/v1/schema/").content)

    # then
    for path in (
        "/api/v1/products/",
        "/api/v1/orders/",
        "/api/v1/orders/{id}/status/",
        "/api/v1/needs/{id}/",
        "/api/v1/interactions/",
        "/api/v1/relationships/{id}/",
        "/api/v1/customers/{id}/timeline/",
    ):
        assert path in schema["paths"], path
