"""The record pages: the forms opened from the 360 page (interaction, order with lines, need,
relationship), an order's page, the product catalogue and the interactions list."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import Interaction, Need, Order, Product, Relationship
from customers.selectors.timeline import Cursor
from tests.customers.factories import (
    CustomerFactory,
    InteractionFactory,
    NeedFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    RelationshipFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def local_minute(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def order_post(lines, **fields) -> dict:
    data = {
        "ordered_at": local_minute(timezone.now() - timedelta(hours=1)),
        "status": "paid",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for index, line in enumerate(lines):
        for name, value in line.items():
            data[f"lines-{index}-{name}"] = value
    return data


# Interactions ------------------------------------------------------------------------------------


def test_the_interaction_form_comes_as_a_partial_for_htmx_and_a_page_otherwise(rep, rep_client):
    # given
    customer = CustomerFactory(name="Ada", owner=rep)
    url = f"/customers/{customer.pk}/interactions/new/"

    # when
    partial = rep_client.get(url, **HTMX).content.decode()
    page = rep_client.get(url).content.decode()

    # then
    assert partial.lstrip().startswith("<form")
    assert "<html" not in partial
    assert 'hx-post="' + url + '"' in partial
    assert "<html" in page
    assert "Log an interaction with Ada" in page


def test_logging_an_interaction_updates_the_360_page_in_place(rep, rep_client):
    # given
    customer = CustomerFactory(owner=rep)
    when = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=2)

    # when
    response = rep_client.post(
        f"/customers/{customer.pk}/interactions/new/",
        {
            "channel": "wechat",
            "direction": "inbound",
            "occurred_at": local_minute(when),
            "subject": "Asked about prices",
            "summary": "Wants the spring catalogue",
            "duration_minutes": "12",
            "outcome": "follow_up",
        },
        **HTMX,
    )

    # then the form gives way to a word that it was logged, and the figures and the timeline
    # are swapped for fresh ones: the new last contact and the new entry
    assert response.status_code == 200
    assert "HX-Redirect" not in response
    partial = response.content.decode()
    assert "<html" not in partial
    assert "Interaction logged." in partial
    assert 'id="customer-summary" hx-swap-oob="true"' in partial
    assert f'datetime="{timezone.localtime(when).isoformat()}"' in partial
    assert 'id="timeline" hx-swap-oob="true"' in partial
    assert "Asked about prices" in partial
    interaction = Interaction.objects.get()
    assert (interaction.channel, interaction.duration_seconds, interaction.handled_by) == (
        "wechat",
        720,
        rep,
    )
    customer.refresh_from_db()
    assert customer.last_contact_at == when


def test_logging_an_interaction_without_htmx_returns_to_the_360_page(rep, rep_client):
    # given
    customer = CustomerFactory(owner=rep)
    when = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=2)

    # when
    response = rep_client.post(
        f"/customers/{customer.pk}/interactions/new/",
        {"channel": "call", "direction": "outbound", "occurred_at": local_minute(when)},
        follow=True,
    )

    # then
    assert response.redirect_chain == [(f"/customers/{customer.pk}/", 302)]
    page = response.content.decode()
    assert "Interaction logged." in page
    assert "Phone call" in page


def test_an_interaction_in_the_future_is_refused_in_place(rep, rep_client):
    # given
    customer = CustomerFactory(owner=rep)

    # when
    response = rep_client.post(
        f"/customers/{customer.pk}/interactions/new/",
        {
            "channel": "call",
            "direction": "outbound",
            "occurred_at": local_minute(timezone.now() + timedelta(days=2)),
        },
        **HTMX,
    )

    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith("<form")
    assert "cannot be in the future" in body
    assert not Interaction.objects.exists()


def test_the_interaction_form_without_htmx_redirects(rep, rep_client):
    # given
    customer = CustomerFactory(owner=rep)

    # when
    response = rep_client.post(
        f"/customers/{customer.pk}/interactions/new/",
        {
            "channel": "meeting",
            "direction": "outbound",
            "occurred_at": local_minute(timezone.now()),
        },
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{customer.pk}/"


@pytest.mark.parametrize(
    "path",
    ["interactions/new/", "orders/new/", "needs/new/", "relationships/new/"],
)
def test_record_forms_of_an_invisible_customer_are_404(
    rep_client, other_team_rep, other_team, path
):
    # given
    customer = CustomerFactory(owner=other_team_rep, team=other_team)

    # when  # then
    assert rep_client.get(f"/customers/{customer.pk}/{path}").status_code == 404
    assert rep_client.post(f"/customers/{customer.pk}/{path}", {}).status_code == 404


@pytest.mark.parametrize(
    "path",
    ["interactions/new/", "orders/new/", "needs/new/", "relationships/new/"],
)
def test_record_forms_need_a_role(user_without_role, client_for, path):
    # given
    customer = CustomerFactory(owner=user_without_role)

    # when  # then
    assert client_for(user_without_role).get(f"/customers/{customer.pk}/{path}").status_code == 403


# Orders ------------------------------------------------------------------------------------------


def test_the_order_form_lists_the_products_on_sale(rep, rep_client):
    # given
    customer = CustomerFactory(owner=rep)
    ProductFactory(name="Tea set")
    ProductFactory(name="Retired kettle", is_active=False)

    # when
    body = rep_client.get(f"/customers/{customer.pk}/orders/new/", **HTMX).content.decode()

    # then three empty lines, a template for more, and only the products on sale
    assert body.count('name="lines-0-product"') == 1
    assert 'name="lines-2-product"' in body
    assert 'name="lines-__prefix__-product"' in body
    assert "Tea set" in body
    assert "Retired kettle" not in body


def test_adding_an_order_with_lines(rep, rep_client, django_assert_max_num_queries):
    # given
    customer = CustomerFactory(owner=rep)
    tea = ProductFactory(unit_price=Decimal("88.00"))
    cups = ProductFactory(unit_price=Decimal("12.50"))

    # when two lines are filled in and the third is left empty
    with django_assert_max_num_queries(30):
        response = rep_client.post(
            f"/customers/{customer.pk}/orders/new/",
            order_post(
                [
                    {"product": tea.pk, "quantity": "2", "unit_price": ""},
                    {"product": cups.pk, "quantity": "4", "unit_price": "10"},
                    {"product": "", "quantity": "1", "unit_price": ""},
                ],
                number="PO-1",
            ),
            **HTMX,
        )

    # then
    assert response.status_code == 204
    order = Order.objects.get()
    assert (order.number, order.status, order.total_amount) == ("PO-1", "paid", Decimal("216.00"))
    assert order.lines.count() == 2
    customer.refresh_from_db()
    assert (customer.order_count, customer.total_spend) == (1, Decimal("216.00"))


def test_an_order_without_lines_is_refused_in_place(rep, rep_client):
    # given
    customer = CustomerFactory(owner=rep)
    ProductFactory()

    # when
    response = rep_client.post(
        f"/customers/{customer.pk}/orders/new/",
        order_post([{"product": "", "quantity": "1", "unit_price": ""}]),
        **HTMX,
    )

    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert "An order needs at least one line." in body
    assert not Order.objects.exists()


def test_a_line_without_a_product_is_refused_in_place(rep, rep_client):
    # given
    customer = CustomerFactory(owner=rep)
    ProductFactory()

    # when a quantity is given but no product
    response = rep_client.post(
        f"/customers/{customer.pk}/orders/new/",
        order_post([{"product": "", "quantity": "3", "unit_price": ""}]),
        **HTMX,
    )

    # then
    assert "This field is required." in response.content.decode()
    assert not Order.objects.exists()


def test_the_order_page_shows_the_lines_and_changes_the_status(rep, rep_client):
    # given a paid order of two lines
    customer = CustomerFactory(owner=rep)
    order = OrderFactory(
        customer=customer, number="SO-9", status="paid", total_amount=Decimal("250.00")
    )
    OrderLineFactory(
        order=order, product=ProductFactory(name="Tea set"), quantity=2, unit_price=Decimal("100")
    )
    OrderLineFactory(
        order=order, product=ProductFactory(name="Cups"), quantity=1, unit_price=Decimal("50")
    )

    # when the page is opened and the order refunded
    page = rep_client.get(f"/customers/orders/{order.pk}/")
    response = rep_client.post(f"/customers/orders/{order.pk}/status/", {"status": "refunded"})

    # then
    body = page.content.decode()
    for text in ("SO-9", "Tea set", "Cups", "CN¥200.00", "CN¥250.00"):
        assert text in body, text
    assert [value for value, _label in page.context["status_choices"]] == [
        "shipped",
        "completed",
        "cancelled",
        "refunded",
    ]
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "refunded"
    customer.refresh_from_db()
    assert customer.total_spend == Decimal("0")


def test_a_forbidden_status_change_says_why(rep, rep_client):
    # given
    order = OrderFactory(customer=CustomerFactory(owner=rep), status="cancelled")

    # when
    response = rep_client.post(
        f"/customers/orders/{order.pk}/status/", {"status": "paid"}, follow=True
    )

    # then
    assert "cannot become paid" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_the_order_page_of_an_invisible_customer_is_404(rep_client, other_team_rep, other_team):
    # given
    order = OrderFactory(customer=CustomerFactory(owner=other_team_rep, team=other_team))

    # when  # then
    assert rep_client.get(f"/customers/orders/{order.pk}/").status_code == 404
    assert (
        rep_client.post(f"/customers/orders/{order.pk}/status/", {"status": "paid"}).status_code
        == 404
    )


# Needs -------------------------------------------------------------------------------------------


def test_adding_a_need(rep, rep_client):
    # given
    customer = CustomerFactory(owner=rep)

    # when
    form = rep_client.get(f"/customers/{customer.pk}/needs/new/", **HTMX).content.decode()
    response = rep_client.post(
        f"/customers/{customer.pk}/needs/new/",
        {"text": "Forty chairs", "category": "Quote", "priority": "high", "status": "open"},
        **HTMX,
    )

    # then
    assert form.lstrip().startswith("<form")
    assert response.status_code == 204
    need = Need.objects.get()
    assert (need.text, need.priority, need.created_by) == ("Forty chairs", "high", rep)


def test_a_need_without_text_is_refused_in_place(rep, rep_client):
    # given
    customer = CustomerFactory(owner=rep)

    # when
    response = rep_client.post(
        f"/customers/{customer.pk}/needs/new/",
        {"text": "", "priority": "normal", "status": "open"},
        **HTMX,
    )

    # then
    assert "This field is required." in response.content.decode()
    assert not Need.objects.exists()


def test_editing_a_need(rep, rep_client):
    # given
    need = NeedFactory(customer=CustomerFactory(owner=rep), text="Chairs")

    # when
    form = rep_client.get(f"/customers/needs/{need.pk}/edit/", **HTMX).content.decode()
    response = rep_client.post(
        f"/customers/needs/{need.pk}/edit/",
        {"text": "Forty chairs", "category": "Quote", "priority": "low", "status": "in_progress"},
        **HTMX,
    )

    # then
    assert "Chairs" in form
    assert response.status_code == 204
    need.refresh_from_db()
    assert (need.text, need.priority, need.status) == ("Forty chairs", "low", "in_progress")


@pytest.mark.parametrize("status", ["met", "dropped"])
def test_closing_a_need(rep, rep_client, status):
    # given
    need = NeedFactory(customer=CustomerFactory(owner=rep))

    # when
    response = rep_client.post(f"/customers/needs/{need.pk}/close/", {"status": status})

    # then it leaves the open list of the 360 page
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.status == status
    assert rep_client.get(response["Location"]).context["open_needs"] == []


def test_closing_a_need_as_anything_else_is_refused(rep, rep_client):
    # given
    need = NeedFactory(customer=CustomerFactory(owner=rep))

    # when  # then
    assert (
        rep_client.post(f"/customers/needs/{need.pk}/close/", {"status": "open"}).status_code == 400
    )


def test_needs_of_an_invisible_customer_are_404(rep_client, other_team_rep, other_team):
    # given
    need = NeedFactory(customer=CustomerFactory(owner=other_team_rep, team=other_team))

    # when  # then
    assert rep_client.get(f"/customers/needs/{need.pk}/edit/").status_code == 404
    assert (
        rep_client.post(f"/customers/needs/{need.pk}/close/", {"status": "met"}).status_code == 404
    )


# Relationships -----------------------------------------------------------------------------------


def test_adding_a_relationship_through_the_picker(rep, rep_client):
    # given
    ada = CustomerFactory(name="Ada", owner=rep)
    bo = CustomerFactory(name="Bo Zhang", owner=rep)

    # when the rep searches for Bo and submits the form with Bo's id
    options = rep_client.get("/customers/pickers/customers/", {"q": "zhang"}, **HTMX)
    response = rep_client.post(
        f"/customers/{ada.pk}/relationships/new/",
        {"to_customer": bo.pk, "kind": "colleague", "strength": "4", "notes": ""},
        **HTMX,
    )

    # then
    assert [customer.name for customer in options.context["options"]] == ["Bo Zhang"]
    assert f'data-value="{bo.pk}"' in options.content.decode()
    assert response.status_code == 204
    relationship = Relationship.objects.get()
    assert (relationship.from_customer, relationship.to_customer, relationship.strength) == (
        ada,
        bo,
        4,
    )


def test_the_customer_picker_offers_only_visible_customers(
    rep, rep_client, other_team_rep, other_team
):
    # given
    CustomerFactory(name="Zhang Mine", owner=rep)
    CustomerFactory(name="Zhang Theirs", owner=other_team_rep, team=other_team)

    # when
    response = rep_client.get("/customers/pickers/customers/", {"q": "zhang"}, **HTMX)

    # then
    assert [customer.name for customer in response.context["options"]] == ["Zhang Mine"]


def test_a_relationship_to_an_invisible_customer_is_refused(
    rep, rep_client, other_team_rep, other_team
):
    # given
    ada = CustomerFactory(owner=rep)
    hidden = CustomerFactory(owner=other_team_rep, team=other_team)

    # when
    response = rep_client.post(
        f"/customers/{ada.pk}/relationships/new/",
        {"to_customer": hidden.pk, "kind": "colleague", "strength": "3"},
        **HTMX,
    )

    # then
    assert "Select a valid choice." in response.content.decode()
    assert not Relationship.objects.exists()


def test_a_relationship_to_oneself_is_refused_in_place(rep, rep_client):
    # given
    ada = CustomerFactory(owner=rep)

    # when
    response = rep_client.post(
        f"/customers/{ada.pk}/relationships/new/",
        {"to_customer": ada.pk, "kind": "family", "strength": "3"},
        **HTMX,
    )

    # then
    assert "cannot be related to themselves" in response.content.decode()


def test_removing_a_relationship(manager, client_for, team, rep):
    # given a relationship between two customers of the manager's team
    ada = CustomerFactory(owner=rep, team=team)
    bo = CustomerFactory(owner=rep, team=team)
    relationship = RelationshipFactory(from_customer=ada, to_customer=bo)
    client = client_for(manager)

    # when the manager confirms the removal from Bo's page
    confirm = client.get(f"/customers/relationships/{relationship.pk}/delete/", {"customer": bo.pk})
    response = client.post(
        f"/customers/relationships/{relationship.pk}/delete/", {"customer": bo.pk}, **HTMX
    )

    # then the browser goes back to Bo's page
    assert confirm.status_code == 200
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/customers/{bo.pk}/"
    assert not Relationship.objects.exists()


def test_removing_a_relationship_needs_the_delete_permission(rep, rep_client):
    # given a rep, whose role may add but not delete
    relationship = RelationshipFactory(
        from_customer=CustomerFactory(owner=rep), to_customer=CustomerFactory(owner=rep)
    )

    # when  # then
    assert rep_client.post(f"/customers/relationships/{relationship.pk}/delete/").status_code == 403
    assert Relationship.objects.exists()


def test_removing_a_relationship_reaching_out_of_sight_is_404(
    manager, client_for, team, other_team_rep, other_team
):
    # given
    relationship = RelationshipFactory(
        from_customer=CustomerFactory(team=team),
        to_customer=CustomerFactory(owner=other_team_rep, team=other_team),
    )

    # when  # then
    response = client_for(manager).post(f"/customers/relationships/{relationship.pk}/delete/")
    assert response.status_code == 404


# Products ----------------------------------------------------------------------------------------


def test_the_product_list_searches_and_shows_products_on_sale_by_default(rep_client):
    # given
    ProductFactory(sku="TEA-1", name="Tea set", category="Tea")
    ProductFactory(sku="CUP-1", name="Cups", category="Tableware")
    ProductFactory(sku="KET-1", name="Old kettle", is_active=False)

    # when  # then
    def names(**params):
        response = rep_client.get("/customers/products/", params)
        assert response.status_code == 200
        return [product.name for product in response.context["page"]]

    assert names() == ["Cups", "Tea set"]
    assert names(q="tea") == ["Tea set"]
    assert names(q="tableware") == ["Cups"]
    assert names(show="inactive") == ["Old kettle"]
    assert names(show="all") == ["Cups", "Old kettle", "Tea set"]


def test_creating_and_editing_a_product(rep_client):
    # given  # when a product is added
    response = rep_client.post(
        "/customers/products/new/",
        {
            "sku": "TEA-1",
            "name": "Tea set",
            "category": "Tea",
            "unit_price": "88",
            "is_active": "on",
        },
    )

    # then
    assert response.status_code == 302
    product = Product.objects.get()
    assert (product.currency, product.unit_price, product.is_active) == ("CNY", Decimal("88"), True)

    # when it is retired at a new price
    page = rep_client.get(f"/customers/products/{product.pk}/edit/")
    response = rep_client.post(
        f"/customers/products/{product.pk}/edit/",
        {"sku": "TEA-1", "name": "Tea set", "unit_price": "99.5", "currency": "CNY"},
    )

    # then
    assert 'value="TEA-1"' in page.content.decode()
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.unit_price, product.is_active) == (Decimal("99.50"), False)


def test_a_product_with_a_taken_sku_is_refused(rep_client):
    # given
    ProductFactory(sku="TEA-1")

    # when
    response = rep_client.post(
        "/customers/products/new/", {"sku": "TEA-1", "name": "Again", "unit_price": "1"}
    )

    # then
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Product.objects.count() == 1


def test_product_pages_need_a_role(user_without_role, client_for):
    # given
    product = ProductFactory()
    client = client_for(user_without_role)

    # when  # then
    for url in (
        "/customers/products/",
        "/customers/products/new/",
        f"/customers/products/{product.pk}/edit/",
    ):
        assert client.get(url).status_code == 403, url


def test_editing_a_missing_product_is_404(rep_client):
    # given  # when  # then
    assert rep_client.get("/customers/products/999999/edit/").status_code == 404


# Interactions list -------------------------------------------------------------------------------


def test_the_interactions_list_shows_visible_interactions_newest_first(
    rep, rep_client, other_team_rep, other_team, django_assert_max_num_queries
):
    # given interactions with the rep's customers, and one with another team's
    now = timezone.now()
    for index in range(30):
        InteractionFactory(
            customer=CustomerFactory(owner=rep),
            subject=f"Mine {index:02d}",
            occurred_at=now - timedelta(hours=index),
            handled_by=rep,
        )
    InteractionFactory(
        customer=CustomerFactory(owner=other_team_rep, team=other_team), subject="Theirs"
    )

    # when
    with django_assert_max_num_queries(12):
        response = rep_client.get("/customers/interactions/")

    # then
    subjects = [interaction.subject for interaction in response.context["interactions"]]
    assert subjects == [f"Mine {index:02d}" for index in range(30)]
    assert "Theirs" not in response.content.decode()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"channel": "email"}, ["Email in"]),
        ({"direction": "outbound"}, ["Call out", "Old SMS"]),
        ({"channel": "call", "direction": "inbound"}, []),
        ({"date_from": "{today}"}, ["Email in", "Call out"]),
        ({"date_to": "{long_ago}"}, ["Old SMS"]),
        ({"date_from": "{long_ago}", "date_to": "{long_ago}"}, ["Old SMS"]),
        ({"channel": "not-a-channel"}, ["Email in", "Call out", "Old SMS"]),
    ],
)
def test_the_interactions_list_filters(rep, rep_client, params, expected):
    # given
    customer = CustomerFactory(owner=rep)
    now = timezone.localtime()
    long_ago = now - timedelta(days=40)
    # A little earlier, but still today when the test runs just after midnight.
    earlier_today = max(
        now - timedelta(minutes=5), now.replace(hour=0, minute=0, second=0, microsecond=0)
    )
    InteractionFactory(
        customer=customer, subject="Email in", channel="email", direction="inbound", occurred_at=now
    )
    InteractionFactory(
        customer=customer,
        subject="Call out",
        channel="call",
        direction="outbound",
        occurred_at=earlier_today,
    )
    InteractionFactory(
        customer=customer,
        subject="Old SMS",
        channel="sms",
        direction="outbound",
        occurred_at=long_ago,
    )
    dates = {"today": now.date().isoformat(), "long_ago": long_ago.date().isoformat()}

    # when
    response = rep_client.get(
        "/customers/interactions/", {name: value.format(**dates) for name, value in params.items()}
    )

    # then
    assert [interaction.subject for interaction in response.context["interactions"]] == expected


def test_the_interactions_list_pages_with_older_links(rep, rep_client):
    # given 120 interactions, some at the same instant
    customer = CustomerFactory(owner=rep)
    now = timezone.now()
    for index in range(120):
        InteractionFactory(
            customer=customer, subject=f"{index:03d}", occurred_at=now - timedelta(hours=index // 4)
        )

    # when the pages are followed
    seen, before = [], None
    while True:
        response = rep_client.get("/customers/interactions/", {"before": before} if before else {})
        seen.extend(interaction.subject for interaction in response.context["interactions"])
        before = response.context["next_cursor"]
        if not before:
            break
        assert "Older" in response.content.decode()

    # then every interaction was shown once
    assert len(seen) == len(set(seen)) == 120


@pytest.mark.parametrize("before", ["garbage", Cursor(at=timezone.now(), key="x").encode()])
def test_the_interactions_list_refuses_a_broken_cursor(rep_client, before):
    # given  # when  # then
    assert rep_client.get("/customers/interactions/", {"before": before}).status_code == 400


def test_the_interactions_list_needs_a_role(user_without_role, client_for):
    # given  # when  # then
    assert client_for(user_without_role).get("/customers/interactions/").status_code == 403
