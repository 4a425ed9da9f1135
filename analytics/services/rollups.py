"""Rollups that let the dashboards add up a few thousand rows instead of every order in a period.

OrderDailyTotal holds, per day and per owner and team of the ordering customer, the number and
total of the orders that count as revenue. Days are those of the site's time zone (TIME_ZONE),
whoever triggers a refresh, so a refresh from a request of a user in another zone files every
order under the same day as the beat's refreshes do.
"""

from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.models import OrderDailyTotal
from customers.models import Order

# Orders that count as revenue: as for a customer's total spend, not cancelled or refunded ones.
REVENUE_EXCLUDED_STATUSES = (Order.Status.CANCELLED, Order.Status.REFUNDED)
# The days the frequent refresh recomputes: late payments, cancellations and refunds of the last
# month land in the charts within minutes; older changes wait for the nightly full refresh.
RECENT_DAYS = 35
WRITE_BATCH = 5_000
# Any constant shared by every process: the key of the PostgreSQL advisory lock of refreshes.
_REFRESH_LOCK_KEY = 7_302_115


def rollup_time_zone():
    return timezone.get_default_timezone()


def revenue_orders() -> QuerySet[Order]:
    """Every order that counts as revenue (erased customers' orders too, as in their spend)."""
    return Order.objects.order_by().exclude(status__in=REVENUE_EXCLUDED_STATUSES)


def order_daily_totals_refresh(*, since: date | None = None) -> int:
    """Recompute the daily order totals of the days from `since` (every day when None) and
    return the number of rows written.

    One grouped query over the orders, in one transaction that first deletes the rows of those
    days, so a reader sees either the old rows or the new ones, never half. Refreshes take turns
    (an advisory lock on PostgreSQL; SQLite lets one writer in at a time), so two overlapping
    runs cannot both insert the same days."""
    zone = rollup_time_zone()
    orders = revenue_orders()
    stale = OrderDailyTotal.objects.all()
    if since is not None:
        orders = orders.filter(
            ordered_at__gte=timezone.make_aware(datetime.combine(since, time.min), zone)
        )
        stale = stale.filter(day__gte=since)
    grouped = orders.values(
        day=TruncDate("ordered_at", tzinfo=zone),
        owner_key=F("customer__owner_id"),
        team_key=F("customer__team_id"),
    ).annotate(order_count=Count("pk"), revenue_total=Sum("total_amount"))
    refreshed_at = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REFRESH_LOCK_KEY])
        stale.delete()
        rows = OrderDailyTotal.objects.bulk_create(
            (
                OrderDailyTotal(
                    day=row["day"],
                    owner_id=row["owner_key"],
                    team_id=row["team_key"],
                    orders=row["order_count"],
                    revenue=row["revenue_total"],
                    refreshed_at=refreshed_at,
                )
                for row in grouped.iterator(chunk_size=WRITE_BATCH)
            ),
            batch_size=WRITE_BATCH,
        )
    return len(rows)


def order_daily_totals_refresh_recent() -> int:
    """The frequent refresh: the last RECENT_DAYS days, today included."""
    today = timezone.localdate(timezone=rollup_time_zone())
    return order_daily_totals_refresh(since=today - timedelta(days=RECENT_DAYS - 1))


def order_daily_totals_ensure() -> None:
    """Fill the rollup on first use, so a fresh install's charts are right before the beat's
    first run; a rollup with rows is left to the beat."""
    if not OrderDailyTotal.objects.exists() and Order.objects.exists():
        order_daily_totals_refresh()
