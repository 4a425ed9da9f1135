"""The record services: products, orders with lines, interactions, needs and relationships, and
the customer figures they keep in step."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import Customer, Interaction, Need, Order, Relationship
from customers.services import records as services
from tests.customers.factories import (
    CompanyFactory,
    CustomerFactory,
    InteractionFactory,
    NeedFactory,
    OrderFactory,
    ProductFactory,
    RelationshipFactory,
)

pytestmark = pytest.mark.django_db


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


def figures(customer: Customer) -> tuple:
    customer.refresh_from_db()
    return customer.order_count, customer.total_spend, customer.last_contact_at


# Products ----------------------------------------------------------------------------------------


def test_product_create_cleans_and_defaults_the_currency(rep, settings):
    # given
    settings.CRM_DEFAULT_CURRENCY = "CNY"

    # when
    product = services.product_create(
        actor=rep, sku="  SKU-1 ", name="Tea   set", unit_price=Decimal("88.00")
    )

    # then
    assert (product.sku, product.name, product.currency, product.is_active) == (
        "SKU-1",
        "Tea set",
        "CNY",
        True,
    )


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"sku": "SKU-TAKEN", "name": "Again", "unit_price": Decimal("1")}, "sku"),
        ({"sku": "SKU-2", "name": "Cheap", "unit_price": Decimal("-1")}, "unit_price"),
        ({"sku": "SKU-3", "name": "", "unit_price": Decimal("1")}, "name"),
        ({"sku": "SKU-4", "name": "X", "unit_price": Decimal("1"), "owner": 1}, "owner"),
    ],
)
def test_product_create_refuses_bad_values(rep, values, field):
    # given a product already using SKU-TAKEN
    ProductFactory(sku="SKU-TAKEN")

    # when  # then
    with pytest.raises(ValidationError) as excinfo:
        services.product_create(actor=rep, **values)
    assert field in errors_of(excinfo)


def test_product_update_changes_only_the_given_fields(rep):
    # given
    product = ProductFactory(name="Tea set", unit_price=Decimal("88.00"), category="Tea")

    # when
    services.product_update(
        actor=rep, product=product, unit_price=Decimal("99.50"), is_active=False
    )

    # then
    product.refresh_from_db()
    assert (product.name, product.unit_price, product.category, product.is_active) == (
        "Tea set",
        Decimal("99.50"),
        "Tea",
        False,
    )


def test_product_update_with_an_empty_currency_takes_the_default(rep, settings):
    # given
    settings.CRM_DEFAULT_CURRENCY = "CNY"
    product = ProductFactory(currency="USD")

    # when
    services.product_update(actor=rep, product=product, currency=" ")

    # then
    product.refresh_from_db()
    assert product.currency == "CNY"


def test_product_update_refuses_a_taken_sku(rep):
    # given
    ProductFactory(sku="TAKEN")
    product = ProductFactory(sku="MINE")

    # when  # then
    with pytest.raises(ValidationError) as excinfo:
        services.product_update(actor=rep, product=product, sku="TAKEN")
    assert "sku" in errors_of(excinfo)


# Orders ------------------------------------------------------------------------------------------


def test_order_create_totals_the_lines_numbers_the_order_and_refreshes_the_figures(rep):
    # given a customer of the rep and two products
    customer = CustomerFactory(owner=rep)
    tea = ProductFactory(unit_price=Decimal("88.00"))
    cups = ProductFactory(unit_price=Decimal("12.50"))

    # when the rep orders two tea sets at the catalogue price and four cups at a discount
    order = services.order_create(
        actor=rep,
        customer=customer,
        lines=[
            {"product": tea, "quantity": 2},
            {"product": cups, "quantity": 4, "unit_price": Decimal("10.00")},
        ],
    )

    # then the total is the sum of the lines, the order has a number and the figures follow
    assert order.total_amount == Decimal("216.00")
    assert order.number.startswith(f"SO-{order.ordered_at:%Y%m%d}-")
    assert order.currency == "CNY"
    assert order.status == Order.Status.PENDING
    assert [(line.product, line.quantity, line.unit_price) for line in order.lines.all()] == [
        (tea, 2, Decimal("88.00")),
        (cups, 4, Decimal("10.00")),
    ]
    assert figures(customer)[:2] == (1, Decimal("216.00"))


def test_order_create_keeps_a_given_number(rep):
    # given
    customer = CustomerFactory(owner=rep)

    # when
    order = services.order_create(
        actor=rep,
        customer=customer,
        number=" PO 77 ",
        lines=[{"product": ProductFactory(), "quantity": 1}],
    )

    # then
    assert order.number == "PO 77"


@pytest.mark.parametrize(
    ("make_values", "field"),
    [
        (lambda product: {"lines": []}, "lines"),
        (lambda product: {"lines": [{"product": None, "quantity": 1}]}, "lines"),
        (lambda product: {"lines": [{"product": product, "quantity": 0}]}, "lines"),
        (
            lambda product: {
                "lines": [{"product": product, "quantity": 1, "unit_price": Decimal("-5")}]
            },
            "lines",
        ),
        (
            lambda product: {"lines": [{"product": product, "quantity": 1}], "currency": "USD"},
            "lines",
        ),
        (
            lambda product: {"lines": [{"product": product, "quantity": 1}], "number": "SO-TAKEN"},
            "number",
        ),
        (
            lambda product: {
                "lines": [{"product": product, "quantity": 1}],
                "ordered_at": timezone.now() + timedelta(days=1),
            },
            "ordered_at",
        ),
        (
            lambda product: {"lines": [{"product": product, "quantity": 1}], "status": "lost"},
            "status",
        ),
    ],
)
def test_order_create_refuses_bad_orders(rep, make_values, field):
    # given a customer of the rep, a product priced in CNY and an order numbered SO-TAKEN
    customer = CustomerFactory(owner=rep)
    OrderFactory(number="SO-TAKEN")
    product = ProductFactory(currency="CNY")

    # when  # then nothing is written
    with pytest.raises(ValidationError) as excinfo:
        services.order_create(actor=rep, customer=customer, **make_values(product))
    assert field in errors_of(excinfo)
    assert not customer.orders.exists()


def test_order_create_refuses_a_product_no_longer_sold(rep):
    # given
    customer = CustomerFactory(owner=rep)
    retired = ProductFactory(name="Old kettle", is_active=False)

    # when  # then
    with pytest.raises(ValidationError) as excinfo:
        services.order_create(
            actor=rep, customer=customer, lines=[{"product": retired, "quantity": 1}]
        )
    assert "Old kettle" in errors_of(excinfo)["lines"][0]


def test_order_create_refuses_mixed_currencies(rep):
    # given
    customer = CustomerFactory(owner=rep)
    yuan = ProductFactory(currency="CNY")
    dollars = ProductFactory(currency="USD")

    # when  # then
    with pytest.raises(ValidationError) as excinfo:
        services.order_create(
            actor=rep,
            customer=customer,
            lines=[{"product": yuan, "quantity": 1}, {"product": dollars, "quantity": 1}],
        )
    assert "USD" in errors_of(excinfo)["lines"][0]


def test_order_create_for_a_customer_the_actor_cannot_see_is_refused(
    rep, other_team_rep, other_team
):
    # given a customer of another team
    customer = CustomerFactory(owner=other_team_rep, team=other_team)

    # when  # then
    with pytest.raises(ValidationError) as excinfo:
        services.order_create(
            actor=rep, customer=customer, lines=[{"product": ProductFactory(), "quantity": 1}]
        )
    assert errors_of(excinfo) == {"customer": ["No such customer."]}


def test_spend_excludes_cancelled_and_refunded_orders(rep):
    # given a customer with a completed order
    customer = CustomerFactory(owner=rep)
    product = ProductFactory(unit_price=Decimal("100.00"))
    kept = services.order_create(
        actor=rep,
        customer=customer,
        status="completed",
        lines=[{"product": product, "quantity": 1}],
    )
    second = services.order_create(
        actor=rep, customer=customer, status="paid", lines=[{"product": product, "quantity": 3}]
    )
    assert figures(customer)[:2] == (2, Decimal("400.00"))

    # when the second order is refunded, and a third cancelled
    services.order_update_status(actor=rep, order=second, status="refunded")
    third = services.order_create(
        actor=rep, customer=customer, lines=[{"product": product, "quantity": 1}]
    )
    services.order_update_status(actor=rep, order=third, status="cancelled")

    # then only the completed order counts
    assert figures(customer)[:2] == (1, kept.total_amount)


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        ("pending", "paid", True),
        ("pending", "shipped", False),
        ("paid", "shipped", True),
        ("shipped", "completed", True),
        ("completed", "refunded", True),
        ("completed", "pending", False),
        ("cancelled", "paid", False),
        ("refunded", "completed", False),
    ],
)
def test_order_update_status_follows_the_life_cycle(rep, current, new, allowed):
    # given an order in `current`
    order = OrderFactory(customer=CustomerFactory(owner=rep), status=current)

    # when  # then
    if allowed:
        services.order_update_status(actor=rep, order=order, status=new)
        order.refresh_from_db()
        assert order.status == new
    else:
        with pytest.raises(ValidationError) as excinfo:
            services.order_update_status(actor=rep, order=order, status=new)
        assert "status" in errors_of(excinfo)
        order.refresh_from_db()
        assert order.status == current


def test_order_update_status_to_the_same_status_changes_nothing(rep):
    # given
    order = OrderFactory(customer=CustomerFactory(owner=rep), status="paid")

    # when
    services.order_update_status(actor=rep, order=order, status="paid")

    # then
    order.refresh_from_db()
    assert order.status == "paid"


# Interactions ------------------------------------------------------------------------------------


def test_interaction_log_moves_the_last_contact_to_the_latest(rep):
    # given a customer never contacted
    customer = CustomerFactory(owner=rep)
    assert figures(customer)[2] is None
    yesterday = timezone.now() - timedelta(days=1)

    # when the rep logs a call yesterday, then an email a week ago
    call = services.interaction_log(
        actor=rep,
        customer=customer,
        channel="call",
        direction="outbound",
        occurred_at=yesterday,
        subject="  Follow   up ",
        duration_seconds=300,
        outcome="positive",
    )
    services.interaction_log(
        actor=rep,
        customer=customer,
        channel="email",
        direction="inbound",
        occurred_at=yesterday - timedelta(days=6),
    )

    # then the last contact is the call's time, and the rep handled both
    assert figures(customer)[2] == yesterday
    assert call.subject == "Follow up"
    assert set(customer.interactions.values_list("handled_by", flat=True)) == {rep.pk}


def test_interaction_log_defaults_to_now_and_may_name_another_handler(rep, rep_teammate):
    # given
    customer = CustomerFactory(owner=rep)
    before = timezone.now()

    # when
    interaction = services.interaction_log(
        actor=rep, customer=customer, channel="wechat", direction="inbound", handled_by=rep_teammate
    )

    # then
    assert interaction.occurred_at >= before
    assert interaction.handled_by == rep_teammate
    assert figures(customer)[2] == interaction.occurred_at


def test_interaction_log_links_a_visible_related_record(rep):
    # given a company of the rep, standing in for a deal
    customer = CustomerFactory(owner=rep)
    company = CompanyFactory(owner=rep)
    company_type = ContentType.objects.get_for_model(company)

    # when
    interaction = services.interaction_log(
        actor=rep,
        customer=customer,
        channel="meeting",
        direction="outbound",
        related_type=company_type,
        related_id=company.pk,
    )

    # then
    assert interaction.related_record == company


@pytest.mark.parametrize(
    ("make_values", "field"),
    [
        (lambda context: {"channel": "pigeon"}, "channel"),
        (lambda context: {"direction": "sideways"}, "direction"),
        (lambda context: {"outcome": "meh"}, "outcome"),
        (lambda context: {"occurred_at": timezone.now() + timedelta(hours=2)}, "occurred_at"),
        (lambda context: {"related_type": context["company_type"]}, "related_id"),
        (lambda context: {"related_id": 1}, "related_id"),
        (
            lambda context: {"related_type": context["company_type"], "related_id": 999_999},
            "related_id",
        ),
        (
            lambda context: {
                "related_type": context["company_type"],
                "related_id": context["hidden_company"].pk,
            },
            "related_id",
        ),
        (lambda context: {"duration_seconds": -5}, "duration_seconds"),
        (
            lambda context: {"related_type": context["group_type"], "related_id": 1},
            "related_type",
        ),
    ],
)
def test_interaction_log_refuses_bad_values(rep, other_team_rep, other_team, make_values, field):
    # given a customer of the rep, and a company the rep cannot see
    customer = CustomerFactory(owner=rep)
    context = {
        "company_type": ContentType.objects.get_for_model(CompanyFactory._meta.model),
        "hidden_company": CompanyFactory(owner=other_team_rep, team=other_team),
        "group_type": ContentType.objects.get_by_natural_key("auth", "group"),
    }
    values = {"channel": "call", "direction": "outbound", **make_values(context)}

    # when  # then nothing is logged and the last contact stays empty
    with pytest.raises(ValidationError) as excinfo:
        services.interaction_log(actor=rep, customer=customer, **values)
    assert field in errors_of(excinfo)
    assert not Interaction.objects.exists()
    assert figures(customer)[2] is None


def test_interaction_log_for_a_customer_the_actor_cannot_see_is_refused(
    rep, other_team_rep, other_team
):
    # given
    customer = CustomerFactory(owner=other_team_rep, team=other_team)

    # when  # then
    with pytest.raises(ValidationError):
        services.interaction_log(actor=rep, customer=customer, channel="call", direction="inbound")


def test_interaction_log_by_a_teammate_is_allowed(rep, rep_teammate, team):
    # given a customer of the rep's team
    customer = CustomerFactory(owner=rep, team=team)

    # when the teammate logs a chat
    services.interaction_log(
        actor=rep_teammate, customer=customer, channel="chat", direction="inbound"
    )

    # then
    assert customer.interactions.get().handled_by == rep_teammate


# Needs -------------------------------------------------------------------------------------------


def test_need_create_records_who_noted_it(rep):
    # given
    customer = CustomerFactory(owner=rep)

    # when
    need = services.need_create(
        actor=rep,
        customer=customer,
        text=" A quote for 40 chairs ",
        category=" Quote ",
        priority="high",
    )

    # then
    assert (need.text, need.category, need.priority, need.status, need.created_by) == (
        "A quote for 40 chairs",
        "Quote",
        "high",
        Need.Status.OPEN,
        rep,
    )


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"text": "  "}, "text"),
        ({"text": "Chairs", "priority": "urgent"}, "priority"),
        ({"text": "Chairs", "status": "forgotten"}, "status"),
        ({"text": "Chairs", "created_by": None}, "created_by"),
    ],
)
def test_need_create_refuses_bad_values(rep, values, field):
    # given
    customer = CustomerFactory(owner=rep)

    # when  # then
    with pytest.raises(ValidationError) as excinfo:
        services.need_create(actor=rep, customer=customer, **values)
    assert field in errors_of(excinfo)


def test_need_update_edits_and_closes_a_need(rep):
    # given
    need = NeedFactory(customer=CustomerFactory(owner=rep), text="Chairs")

    # when the rep edits it, then closes it as met
    services.need_update(actor=rep, need=need, text="Forty chairs", priority="high")
    services.need_update(actor=rep, need=need, status="met")

    # then
    need.refresh_from_db()
    assert (need.text, need.priority, need.status) == ("Forty chairs", "high", "met")


def test_need_update_of_a_customer_the_actor_cannot_see_is_refused(rep, other_team_rep, other_team):
    # given
    need = NeedFactory(customer=CustomerFactory(owner=other_team_rep, team=other_team))

    # when  # then
    with pytest.raises(ValidationError):
        services.need_update(actor=rep, need=need, status="dropped")
    need.refresh_from_db()
    assert need.status == "open"


# Relationships -----------------------------------------------------------------------------------


def test_relationship_create_links_two_visible_customers(rep, rep_teammate, team):
    # given a customer of the rep and one of a teammate
    ada = CustomerFactory(owner=rep)
    bo = CustomerFactory(owner=rep_teammate, team=team)

    # when
    relationship = services.relationship_create(
        actor=rep,
        from_customer=ada,
        to_customer=bo,
        kind="referred_by",
        strength=5,
        notes=" met at a fair ",
    )

    # then
    assert (relationship.from_customer, relationship.to_customer, relationship.kind) == (
        ada,
        bo,
        "referred_by",
    )
    assert (relationship.strength, relationship.notes) == (5, "met at a fair")


def test_relationship_create_refuses_a_customer_related_to_themselves(rep):
    # given
    ada = CustomerFactory(owner=rep)

    # when  # then
    with pytest.raises(ValidationError) as excinfo:
        services.relationship_create(actor=rep, from_customer=ada, to_customer=ada, kind="family")
    assert "to_customer" in errors_of(excinfo)


def test_relationship_create_refuses_the_same_kind_twice(rep):
    # given
    ada, bo = CustomerFactory(owner=rep), CustomerFactory(owner=rep)
    RelationshipFactory(from_customer=ada, to_customer=bo, kind="colleague")

    # when  # then the same link is refused, and so is its mirror for a symmetric kind
    with pytest.raises(ValidationError):
        services.relationship_create(actor=rep, from_customer=ada, to_customer=bo, kind="colleague")
    with pytest.raises(ValidationError) as excinfo:
        services.relationship_create(actor=rep, from_customer=bo, to_customer=ada, kind="colleague")
    assert "already linked" in errors_of(excinfo)["to_customer"][0]

    # and another kind between the same two is fine
    services.relationship_create(actor=rep, from_customer=ada, to_customer=bo, kind="family")
    assert Relationship.objects.count() == 2


def test_referred_by_is_directional(rep):
    # given Ada was referred by Bo
    ada, bo = CustomerFactory(owner=rep), CustomerFactory(owner=rep)
    RelationshipFactory(from_customer=ada, to_customer=bo, kind="referred_by")

    # when Bo is recorded as referred by Ada too (a loop, but two different facts)
    services.relationship_create(actor=rep, from_customer=bo, to_customer=ada, kind="referred_by")

    # then
    assert Relationship.objects.filter(kind="referred_by").count() == 2


def test_relationship_create_refuses_a_target_the_actor_cannot_see(rep, other_team_rep, other_team):
    # given a customer of the rep and one of another team
    ada = CustomerFactory(owner=rep)
    hidden = CustomerFactory(owner=other_team_rep, team=other_team)

    # when  # then in either direction
    with pytest.raises(ValidationError) as excinfo:
        services.relationship_create(
            actor=rep, from_customer=ada, to_customer=hidden, kind="partner"
        )
    assert errors_of(excinfo) == {"to_customer": ["No such customer."]}
    with pytest.raises(ValidationError) as excinfo:
        services.relationship_create(
            actor=rep, from_customer=hidden, to_customer=ada, kind="partner"
        )
    assert errors_of(excinfo) == {"from_customer": ["No such customer."]}
    assert not Relationship.objects.exists()


@pytest.mark.parametrize(("strength", "kind"), [(0, "family"), (6, "family"), (3, "enemy")])
def test_relationship_create_refuses_bad_strength_or_kind(rep, strength, kind):
    # given
    ada, bo = CustomerFactory(owner=rep), CustomerFactory(owner=rep)

    # when  # then
    with pytest.raises(ValidationError):
        services.relationship_create(
            actor=rep, from_customer=ada, to_customer=bo, kind=kind, strength=strength
        )


def test_relationship_delete(rep, other_team_rep, other_team):
    # given a relationship between the rep's customers, and one reaching a hidden customer
    ada, bo = CustomerFactory(owner=rep), CustomerFactory(owner=rep)
    hidden = CustomerFactory(owner=other_team_rep, team=other_team)
    mine = RelationshipFactory(from_customer=ada, to_customer=bo)
    reaching_out = RelationshipFactory(from_customer=ada, to_customer=hidden)

    # when  # then the rep removes their own, but not one whose other end they cannot see
    services.relationship_delete(actor=rep, relationship=mine)
    with pytest.raises(ValidationError):
        services.relationship_delete(actor=rep, relationship=reaching_out)
    assert list(Relationship.objects.all()) == [reaching_out]


def test_system_writes_without_an_actor_skip_the_visibility_check(other_team_rep, other_team):
    # given a customer, and no actor (an import or the demo seeder)
    customer = CustomerFactory(owner=other_team_rep, team=other_team)

    # when
    interaction = services.interaction_log(
        actor=None, customer=customer, channel="web_form", direction="inbound"
    )

    # then
    assert interaction.handled_by is None
    assert figures(customer)[2] == interaction.occurred_at


def test_interaction_factory_rows_are_counted_by_a_refresh(rep):
    # given interactions written directly (as an import would), then a logged one in the past
    customer = CustomerFactory(owner=rep)
    latest = InteractionFactory(customer=customer, occurred_at=timezone.now() - timedelta(hours=1))

    # when an older interaction is logged through the service
    services.interaction_log(
        actor=rep,
        customer=customer,
        channel="sms",
        direction="outbound",
        occurred_at=timezone.now() - timedelta(days=3),
    )

    # then the last contact is the latest of all, not the one just logged
    assert figures(customer)[2] == latest.occurred_at
