"""The nightly customer values: what a refresh writes (values, scores, tiers, lifetime value) over
the 365 days up to its day, that it replaces every row and drops erased customers, the task and
its beat entry, the refresh on first use of a fresh install, and the read-only admin."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from analytics.models import CustomerValue
from analytics.services.customer_values import customer_values_refresh
from analytics.tasks.customer_values import customer_values_refresh_task
from crm.celery import app as celery_app
from customers.models import Order
from customers.services.privacy import customer_erase
from tests.customers.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db
TODAY = date(2025, 12, 31)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def at(day: str, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(f"{day}T{hour:02d}:00"))


def order(customer, day: str, amount: str, **fields) -> None:
    OrderFactory(customer=customer, ordered_at=at(day), total_amount=Decimal(amount), **fields)


def row(customer) -> tuple:
    value = CustomerValue.objects.get(customer=customer)
    return (
        value.recency_days,
        value.frequency,
        value.monetary,
        (value.recency_score, value.frequency_score, value.monetary_score),
        value.value_tier,
        value.lifetime_value,
    )


def test_refresh_scores_every_customer_over_the_last_365_days(rep, team):
    # given: Ada orders often and lately, Bo twice, Cy once long ago, Di only outside the window
    # or cancelled, Ed never.
    ada, bo, cy, di, ed = (CustomerFactory(owner=rep, team=team) for _ in range(5))
    for day in ("2025-12-01", "2025-12-10", "2025-12-30"):
        order(ada, day, "500")
    order(bo, "2025-11-01", "400")
    order(bo, "2025-12-01", "400.50")
    order(cy, "2025-01-01", "100")
    order(di, "2024-12-31", "5000")
    order(di, "2025-06-01", "999", status=Order.Status.CANCELLED)

    # when
    written = customer_values_refresh(today=TODAY)

    # then: ranks among Ada, Bo, Cy (2 steps of 0.5): R Cy 1, Bo 3, Ada 5; F Cy 1, Bo 3, Ada 5;
    # M Cy 1, Bo 3, Ada 5. Lifetime value = 365 days' spend × 3 years.
    assert written == 5
    assert row(ada) == (1, 3, Decimal("1500.00"), (5, 5, 5), "champions", Decimal("4500.00"))
    assert row(bo) == (30, 2, Decimal("800.50"), (3, 3, 3), "loyal", Decimal("2401.50"))
    assert row(cy) == (364, 1, Decimal("100.00"), (1, 1, 1), "hibernating", Decimal("300.00"))
    assert row(di) == (None, 0, Decimal("0.00"), (0, 0, 0), "no_orders", Decimal("0.00"))
    assert row(ed) == (None, 0, Decimal("0.00"), (0, 0, 0), "no_orders", Decimal("0.00"))
    assert CustomerValue.objects.filter(computed_at__isnull=True).count() == 0


def test_refresh_replaces_the_values_and_drops_erased_customers(admin_user, rep, team):
    # given values computed a year earlier, then a customer erased
    kept, erased = CustomerFactory(owner=rep, team=team), CustomerFactory(owner=rep, team=team)
    order(kept, "2024-12-01", "100")
    order(erased, "2024-12-01", "200")
    customer_values_refresh(today=TODAY - timedelta(days=365))
    customer_erase(actor=admin_user, customer=erased, reason="Asked to be forgotten")

    # when
    customer_values_refresh(today=TODAY)

    # then: the old orders left the window, and the erased customer's row is gone
    assert list(CustomerValue.objects.values_list("customer_id", "value_tier")) == [
        (kept.pk, "no_orders")
    ]


def test_the_task_refreshes_and_runs_nightly(rep, team, eager_tasks):
    order(CustomerFactory(owner=rep, team=team), timezone.localdate().isoformat(), "10")

    written = customer_values_refresh_task.delay().get()

    # A lone customer's percent ranks are 0: scores 1, hibernating.
    assert written == 1
    assert CustomerValue.objects.get().value_tier == "hibernating"
    assert any(
        entry["task"] == "analytics.customer_values_refresh_task"
        for entry in celery_app.conf.beat_schedule.values()
    )


def test_a_fresh_install_computes_the_values_on_first_use(client_for, rep, team):
    # given orders and no values yet (before the beat's first run)
    customer = CustomerFactory(name="Ada", owner=rep, team=team)
    order(customer, (timezone.localdate() - timedelta(days=3)).isoformat(), "250")

    # when
    response = client_for(rep).get(
        reverse("analytics:customer_analytics_chart", args=["top-customers"])
    )

    # then
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["extra"]["customers"]] == ["Ada"]
    assert CustomerValue.objects.get().recency_days == 3


def test_without_orders_nothing_is_computed(client_for, rep, team):
    CustomerFactory(owner=rep, team=team)

    response = client_for(rep).get(
        reverse("analytics:customer_analytics_chart", args=["rfm-tiers"])
    )

    assert response.status_code == 200
    assert not CustomerValue.objects.exists()
    assert response.json()["series"][0]["data"][-1] == 1
    assert "No orders yet." in response.json()["note"]


def test_admin_lists_the_values_read_only(client_for, superuser, rep, team):
    order(CustomerFactory(name="Ada", owner=rep, team=team), "2025-12-01", "100")
    customer_values_refresh(today=TODAY)
    given = client_for(superuser)

    listing = given.get(reverse("admin:analytics_customervalue_changelist"))
    adding = given.get(reverse("admin:analytics_customervalue_add"))

    assert listing.status_code == 200
    assert "Ada" in listing.content.decode()
    assert adding.status_code == 403
