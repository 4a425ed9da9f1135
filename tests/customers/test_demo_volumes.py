"""seed_demo with asked totals of orders and interactions: drawn near the asked figures, with
customer figures that match what was written. Apart from test_demo_records, whose seeded
database a second seed would clash with."""

import io

import pytest
from django.core.management import call_command
from django.db.models import Count

from customers.models import Customer, Interaction, Order
from customers.services.customers import customer_aggregates_refresh

pytestmark = pytest.mark.django_db

CUSTOMERS = 400


def figures() -> dict[int, tuple]:
    return {
        pk: (order_count, total_spend, last_contact_at)
        for pk, order_count, total_spend, last_contact_at in Customer.objects.values_list(
            "pk", "order_count", "total_spend", "last_contact_at"
        )
    }


def test_asked_totals_of_orders_and_interactions_are_drawn_with_consistent_figures():
    # given a seed asking for about four orders and six interactions a customer, three times
    # and more than twice the usual shares  # when
    call_command(
        "seed_demo",
        customers=CUSTOMERS,
        orders=4 * CUSTOMERS,
        interactions=6 * CUSTOMERS,
        seed=11,
        stdout=io.StringIO(),
    )

    # then the totals come out near the asked ones (the per-customer counts are drawn)
    assert Order.objects.count() == pytest.approx(4 * CUSTOMERS, rel=0.1)
    own_history = Interaction.objects.filter(related_type__isnull=True)
    assert own_history.count() == pytest.approx(6 * CUSTOMERS, rel=0.1)
    # and the spread per customer keeps its shape: leads still have fewest
    per_status = dict(
        Customer.objects.values_list("status").annotate(orders_placed=Count("orders"))
    )
    assert per_status["lead"] < per_status["customer"]

    # and the customer figures match a recomputation from what was written
    written = figures()
    customer_aggregates_refresh(customer_ids=list(written))
    assert figures() == written
