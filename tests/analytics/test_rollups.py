"""The daily order rollup: what it counts, which days a refresh replaces, and its Celery tasks."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.models import OrderDailyTotal
from analytics.services.rollups import (
    RECENT_DAYS,
    order_daily_totals_ensure,
    order_daily_totals_refresh,
)
from analytics.tasks.rollups import (
    order_daily_totals_refresh_recent_task,
    order_daily_totals_refresh_task,
)
from customers.models import Order
from tests.customers.factories import CustomerFactory, OrderFactory


def at(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=hour))


def totals() -> dict[tuple[date, int | None, int | None], tuple[int, Decimal]]:
    return {
        (row.day, row.owner_id, row.team_id): (row.orders, row.revenue)
        for row in OrderDailyTotal.objects.all()
    }


@pytest.fixture
def customers(rep, other_team_rep, team, other_team):
    return (
        CustomerFactory(owner=rep, team=team),
        CustomerFactory(owner=other_team_rep, team=other_team),
        CustomerFactory(owner=None, team=None),
    )


def test_refresh_groups_revenue_by_day_owner_and_team_without_cancelled_or_refunded(
    customers, rep, other_team_rep, team, other_team
):
    east, west, nobodys = customers
    day = date(2026, 7, 1)
    OrderFactory(customer=east, ordered_at=at(day, 9), total_amount=Decimal("100.00"))
    OrderFactory(
        customer=east,
        ordered_at=at(day, 15),
        total_amount=Decimal("20.50"),
        status=Order.Status.PAID,
    )
    OrderFactory(
        customer=east,
        ordered_at=at(day),
        total_amount=Decimal("999.00"),
        status=Order.Status.CANCELLED,
    )
    OrderFactory(
        customer=west,
        ordered_at=at(day),
        total_amount=Decimal("888.00"),
        status=Order.Status.REFUNDED,
    )
    OrderFactory(customer=west, ordered_at=at(day + timedelta(days=1)), total_amount=Decimal("7"))
    OrderFactory(customer=nobodys, ordered_at=at(day), total_amount=Decimal("3.00"))

    written = order_daily_totals_refresh()

    assert written == 3
    assert totals() == {
        (day, rep.pk, team.pk): (2, Decimal("120.50")),
        (day + timedelta(days=1), other_team_rep.pk, other_team.pk): (1, Decimal("7.00")),
        (day, None, None): (1, Decimal("3.00")),
    }


def test_days_follow_the_sites_time_zone_whoever_refreshes(customers, settings, rep, team):
    east, _west, _nobodys = customers
    settings.TIME_ZONE = "Asia/Shanghai"
    late_evening_utc = datetime(2026, 7, 1, 20, 0, tzinfo=UTC)
    OrderFactory(customer=east, ordered_at=late_evening_utc, total_amount=Decimal("10.00"))

    with timezone.override("America/New_York"):
        order_daily_totals_refresh()

    assert totals() == {(date(2026, 7, 2), rep.pk, team.pk): (1, Decimal("10.00"))}


def test_refresh_since_replaces_those_days_only(customers, rep, team):
    east, _west, _nobodys = customers
    old, recent = date(2026, 6, 1), date(2026, 7, 1)
    OrderFactory(customer=east, ordered_at=at(old), total_amount=Decimal("10.00"))
    late = OrderFactory(customer=east, ordered_at=at(recent), total_amount=Decimal("20.00"))
    order_daily_totals_refresh()
    OrderFactory(customer=east, ordered_at=at(old), total_amount=Decimal("1.00"))
    late.status = Order.Status.CANCELLED
    late.save(update_fields=["status"])
    OrderFactory(customer=east, ordered_at=at(recent), total_amount=Decimal("5.00"))

    order_daily_totals_refresh(since=recent)

    assert totals() == {
        (old, rep.pk, team.pk): (1, Decimal("10.00")),
        (recent, rep.pk, team.pk): (1, Decimal("5.00")),
    }


def test_full_refresh_follows_a_change_of_owner_and_drops_emptied_days(
    customers, rep, other_team_rep, other_team
):
    east, _west, _nobodys = customers
    day = date(2026, 7, 1)
    order = OrderFactory(customer=east, ordered_at=at(day), total_amount=Decimal("10.00"))
    cancelled_later = OrderFactory(
        customer=east, ordered_at=at(day - timedelta(days=1)), total_amount=Decimal("4.00")
    )
    order_daily_totals_refresh()
    east.owner, east.team = other_team_rep, other_team
    east.save(update_fields=["owner", "team"])
    cancelled_later.status = Order.Status.CANCELLED
    cancelled_later.save(update_fields=["status"])

    order_daily_totals_refresh()

    assert order.customer_id == east.pk
    assert totals() == {(day, other_team_rep.pk, other_team.pk): (1, Decimal("10.00"))}


def test_ensure_fills_an_empty_rollup_only(customers):
    east, _west, _nobodys = customers
    OrderFactory(customer=east, ordered_at=at(date(2026, 7, 1)), total_amount=Decimal("10.00"))

    order_daily_totals_ensure()
    filled = OrderDailyTotal.objects.get()
    OrderFactory(customer=east, ordered_at=at(date(2026, 7, 2)), total_amount=Decimal("1.00"))
    order_daily_totals_ensure()

    assert list(OrderDailyTotal.objects.all()) == [filled]


def test_tasks_refresh_the_recent_days_and_everything(customers, eager_tasks):
    east, _west, _nobodys = customers
    today = timezone.localdate()
    old = today - timedelta(days=RECENT_DAYS)
    OrderFactory(customer=east, ordered_at=at(old), total_amount=Decimal("10.00"))
    OrderFactory(customer=east, ordered_at=at(today, 0), total_amount=Decimal("2.00"))

    recent_rows = order_daily_totals_refresh_recent_task.delay().get()
    recent_days = set(OrderDailyTotal.objects.values_list("day", flat=True))
    all_rows = order_daily_totals_refresh_task.delay().get()

    assert recent_rows == 1 and recent_days == {today}
    assert all_rows == 2
