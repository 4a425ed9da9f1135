"""seed_demo's customer histories: the catalogue, orders with lines, interactions on every
channel, needs and relationships, customer figures that match them, and the manager's segments."""

import io
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Sum

from crm.accounts.models import User
from customers.models import Customer, Interaction, Need, Order, OrderLine, Product, Relationship
from customers.selectors.customers import (
    CustomerFilter,
    customer_list_filter,
    customer_list_visible,
    segment_list_visible,
)
from customers.services.customers import customer_aggregates_refresh

pytestmark = pytest.mark.django_db

CUSTOMERS = 400


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """One seeded database for the whole module, rolled back after its last test."""
    output = io.StringIO()
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", customers=CUSTOMERS, seed=11, stdout=output)
        yield output.getvalue()
        transaction.set_rollback(True)


def figures() -> dict[int, tuple]:
    return {
        pk: (order_count, total_spend, last_contact_at)
        for pk, order_count, total_spend, last_contact_at in Customer.objects.values_list(
            "pk", "order_count", "total_spend", "last_contact_at"
        )
    }


def test_the_seed_writes_a_history_for_the_customers(seeded):
    # given  # when seeded  # then there is a catalogue and every kind of record
    assert Product.objects.count() >= 20
    assert Order.objects.count() > CUSTOMERS / 2
    assert OrderLine.objects.count() > Order.objects.count()
    assert Interaction.objects.count() > CUSTOMERS
    assert Need.objects.exists()
    assert Relationship.objects.exists()
    assert "interactions:" in seeded


def test_the_customer_figures_match_a_recomputation(seeded):
    # given the figures the seed wrote with the customers
    written = figures()
    assert any(order_count for order_count, _spend, _contact in written.values())
    assert any(contact for _count, _spend, contact in written.values())

    # when they are recomputed from the orders and interactions
    customer_aggregates_refresh(customer_ids=list(written))

    # then nothing changes
    assert figures() == written


def test_order_totals_are_the_sum_of_their_lines(seeded):
    # given  # when
    orders = Order.objects.annotate(
        lines_total=Sum(F("lines__quantity") * F("lines__unit_price")), line_count=Count("lines")
    )

    # then
    mismatched = [order.number for order in orders if order.total_amount != order.lines_total]
    assert mismatched == []
    assert all(order.line_count >= 1 for order in orders)
    assert set(Order.objects.values_list("currency", flat=True)) == {"CNY"}


def test_most_customers_have_zero_to_five_orders(seeded):
    # given  # when
    per_customer = Counter(
        Customer.objects.annotate(orders_placed=Count("orders")).values_list(
            "orders_placed", flat=True
        )
    )

    # then
    at_most_five = sum(count for orders, count in per_customer.items() if orders <= 5)
    assert at_most_five / CUSTOMERS > 0.9
    assert per_customer[0] > 0


def test_interactions_cover_every_channel_and_are_handled_by_the_owner(seeded):
    # given  # when
    channels = set(Interaction.objects.values_list("channel", flat=True))

    # then
    assert channels == set(Interaction.Channel.values)
    assert set(Interaction.objects.values_list("direction", flat=True)) == {"inbound", "outbound"}
    # (contacts about a ticket are handled by the service desk, not the owner)
    by_owner = Interaction.objects.filter(related_type__isnull=True)
    assert not by_owner.exclude(handled_by=F("customer__owner")).exists()
    assert not Interaction.objects.filter(occurred_at__lt=F("customer__created_at")).exists()


def test_cancelled_and_refunded_orders_are_there_and_do_not_count(seeded):
    # given  # when
    statuses = set(Order.objects.values_list("status", flat=True))

    # then
    assert {"completed", "cancelled", "refunded"} <= statuses
    counted = Order.objects.exclude(status__in=["cancelled", "refunded"])
    assert sum(order_count for order_count, _spend, _contact in figures().values()) == (
        counted.count()
    )
    assert Customer.objects.aggregate(spend=Sum("total_spend"))["spend"] == (
        counted.aggregate(spend=Sum("total_amount"))["spend"] or Decimal("0")
    )


def test_relationships_are_valid(seeded):
    # given  # when
    relationships = list(
        Relationship.objects.values_list("from_customer", "to_customer", "kind", "strength")
    )

    # then none points to its own customer, and symmetric kinds appear once per pair
    assert all(source != target for source, target, _kind, _strength in relationships)
    assert all(1 <= strength <= 5 for _source, _target, _kind, strength in relationships)
    symmetric = [
        (min(source, target), max(source, target), kind)
        for source, target, kind, _strength in relationships
        if kind != "referred_by"
    ]
    assert len(symmetric) == len(set(symmetric))
    colleagues = Relationship.objects.filter(kind="colleague").select_related(
        "from_customer", "to_customer"
    )
    assert all(edge.from_customer.company_id == edge.to_customer.company_id for edge in colleagues)


def test_needs_are_recorded_by_the_owner(seeded):
    # given  # when  # then
    assert not Need.objects.exclude(created_by=F("customer__owner")).exists()
    assert {"open", "met"} <= set(Need.objects.values_list("status", flat=True))


def test_the_demo_manager_keeps_segments_with_members(seeded):
    # given  # when seeded  # then the manager sees segments, each with customers in it
    manager = User.objects.get(username="manager")
    segments = list(segment_list_visible(user=manager))

    assert len(segments) == 3
    visible = customer_list_visible(user=manager)
    for segment in segments:
        members = customer_list_filter(
            queryset=visible, filters=CustomerFilter.from_json(segment.filters)
        )
        assert members.exists(), segment.name
