"""Every customer's RFM scores, value tier and lifetime value over the last WINDOW_DAYS days,
computed in one SQL statement and kept in CustomerValue, so the value charts read one row per
customer instead of ranking every order of the year on each request.

Definitions (the charts' notes say them too):

- The orders that count: placed in the WINDOW_DAYS days up to and including the refresh's day
  (days of the site's time zone), neither cancelled nor refunded. Erased customers get no row.
- RFM: among all customers with such an order, recency = their last order, frequency = their
  number of orders, monetary = their spend. Each becomes a score from 1 to 5 by its percent rank
  among them (1 + floor(5 × percent_rank), 5 at most; a later order, more orders or more spend
  rank higher), so equal values get equal scores. With FM = F + M: Champions R ≥ 4 and FM ≥ 8;
  New R ≥ 4 and F = 1; Loyal R ≥ 3 and FM ≥ 6; At risk R ≤ 2 and FM ≥ 6; Hibernating R ≤ 2;
  Needs attention the rest (R ≥ 3 with low F and M). A customer without such an order is in
  tier "no orders", with scores 0 and no recency.
- Lifetime value = average order value × orders per year × LIFESPAN_YEARS of expected lifespan;
  over a window of a year that is the customer's spend in it × LIFESPAN_YEARS.
"""

from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Max, Sum, Window
from django.db.models.expressions import RowRange
from django.db.models.functions import Rank
from django.utils import timezone
from django.utils.translation import gettext_lazy

from analytics.models import CustomerValue
from customers.models import Customer, Order

NOT_COUNTED_STATUSES = (Order.Status.CANCELLED, Order.Status.REFUNDED)
WINDOW_DAYS = 365
DAYS_PER_YEAR = 365
LIFESPAN_YEARS = 3
TIER_CHAMPIONS = "champions"
TIER_LOYAL = "loyal"
TIER_NEW = "new"
TIER_NEEDS_ATTENTION = "needs_attention"
TIER_AT_RISK = "at_risk"
TIER_HIBERNATING = "hibernating"
TIER_NO_ORDERS = "no_orders"
VALUE_TIERS = {
    TIER_CHAMPIONS: gettext_lazy("Champions"),
    TIER_LOYAL: gettext_lazy("Loyal"),
    TIER_NEW: gettext_lazy("New"),
    TIER_NEEDS_ATTENTION: gettext_lazy("Needs attention"),
    TIER_AT_RISK: gettext_lazy("At risk"),
    TIER_HIBERNATING: gettext_lazy("Hibernating"),
    TIER_NO_ORDERS: gettext_lazy("No orders in the last 365 days"),
}
# Any constant shared by every process: the key of the PostgreSQL advisory lock of refreshes.
_REFRESH_LOCK_KEY = 7_302_116


def _score(rank: str) -> str:
    """1 + floor(5 × percent_rank), at most 5, with percent_rank = (rank - 1) / steps (0 for a
    single customer), compared in whole numbers so both databases round alike."""
    below = " ".join(
        f"WHEN 5 * ({rank} - 1) < {score} * steps THEN {score}" for score in range(1, 5)
    )
    return f"CASE WHEN steps = 0 THEN 1 {below} ELSE 5 END"


_TIER_CASE = f"""CASE
    WHEN r >= 4 AND f + m >= 8 THEN '{TIER_CHAMPIONS}'
    WHEN r >= 4 AND f = 1 THEN '{TIER_NEW}'
    WHEN r >= 3 AND f + m >= 6 THEN '{TIER_LOYAL}'
    WHEN r <= 2 AND f + m >= 6 THEN '{TIER_AT_RISK}'
    WHEN r <= 2 THEN '{TIER_HIBERNATING}'
    ELSE '{TIER_NEEDS_ATTENTION}'
END"""

_ROWS_SO_FAR = RowRange(start=None, end=0)


def _ranked_sql(*, start_at: datetime, end_at: datetime) -> tuple[str, tuple]:
    """One row per living customer with an order in the window: the RFM values and their ranks.

    RANK() rather than PERCENT_RANK(), over ROWS rather than the default RANGE frame: before
    version 16, PostgreSQL reads the whole partition, or for RANGE each row's whole group of
    equals (most customers have one order), back from disk past work_mem, over and over (20 s
    instead of 5 at 800,000 customers). The percent rank is computed from the rank and the
    number of rows instead (see _score); a frame does not change a rank."""
    ranked = (
        Order.objects.filter(
            ordered_at__gte=start_at, ordered_at__lt=end_at, customer__erased_at__isnull=True
        )
        .exclude(status__in=NOT_COUNTED_STATUSES)
        .order_by()
        .values("customer_id")
        .annotate(
            recency=Max("ordered_at"),
            frequency=Count("pk"),
            monetary=Sum("total_amount"),
        )
        .annotate(
            r_rank=Window(Rank(), order_by=F("recency").asc(), frame=_ROWS_SO_FAR),
            f_rank=Window(Rank(), order_by=F("frequency").asc(), frame=_ROWS_SO_FAR),
            m_rank=Window(Rank(), order_by=F("monetary").asc(), frame=_ROWS_SO_FAR),
        )
    )
    return ranked.query.sql_with_params()


def _days_since(column: str) -> str:
    """Whole days from `column` (a moment) to the parameter (the end of the window)."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(DAY FROM %s - {column}) AS integer)"
    return f"CAST(julianday(%s) - julianday({column}) AS integer)"


def _refresh_sql(*, start_at: datetime, end_at: datetime, computed_at: datetime):
    ranked, ranked_params = _ranked_sql(start_at=start_at, end_at=end_at)
    table = CustomerValue._meta.db_table
    ops = connection.ops
    sql = f"""
        INSERT INTO {table} (
            customer_id, recency_days, frequency, monetary, recency_score, frequency_score,
            monetary_score, value_tier, lifetime_value, computed_at
        )
        WITH ranked AS ({ranked}),
        counted AS (SELECT COUNT(*) - 1 AS steps FROM ranked),
        scored AS (
            SELECT customer_id, recency, frequency, monetary,
                {_score("r_rank")} AS r, {_score("f_rank")} AS f, {_score("m_rank")} AS m
            FROM ranked CROSS JOIN counted
        )
        SELECT customer.id,
            {_days_since("scored.recency")},
            COALESCE(scored.frequency, 0),
            COALESCE(scored.monetary, 0),
            COALESCE(scored.r, 0),
            COALESCE(scored.f, 0),
            COALESCE(scored.m, 0),
            CASE WHEN scored.customer_id IS NULL THEN '{TIER_NO_ORDERS}' ELSE {_TIER_CASE} END,
            COALESCE(scored.monetary * {DAYS_PER_YEAR} / {WINDOW_DAYS} * {LIFESPAN_YEARS}, 0),
            %s
        FROM {Customer._meta.db_table} customer
        LEFT JOIN scored ON scored.customer_id = customer.id
        WHERE customer.erased_at IS NULL
    """
    params = (
        *ranked_params,
        ops.adapt_datetimefield_value(end_at),
        ops.adapt_datetimefield_value(computed_at),
    )
    return sql, params


def customer_values_window(*, today: date) -> tuple[datetime, datetime]:
    """The first moment of the window ending with `today` and the first moment after it."""
    zone = timezone.get_default_timezone()
    start = today - timedelta(days=WINDOW_DAYS - 1)
    return (
        timezone.make_aware(datetime.combine(start, time.min), zone),
        timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min), zone),
    )


def customer_values_refresh(*, today: date | None = None) -> int:
    """Recompute every living customer's CustomerValue over the WINDOW_DAYS days up to `today`
    (the site's today when None) and return the number of rows written.

    One INSERT ... SELECT in one transaction that first deletes every row, so a reader sees the
    old values or the new ones, never half, and an erased customer's row goes. Refreshes take
    turns (an advisory lock on PostgreSQL; SQLite lets one writer in at a time)."""
    if today is None:
        today = timezone.localdate(timezone=timezone.get_default_timezone())
    start_at, end_at = customer_values_window(today=today)
    sql, params = _refresh_sql(start_at=start_at, end_at=end_at, computed_at=timezone.now())
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REFRESH_LOCK_KEY])
        cursor.execute(f"DELETE FROM {CustomerValue._meta.db_table}")
        cursor.execute(sql, params)
        return cursor.rowcount


def customer_values_ensure() -> None:
    """Fill the values on first use, so a fresh install's charts are right before the beat's
    first run; values that exist are left to the beat."""
    if not CustomerValue.objects.exists() and Order.objects.exists():
        customer_values_refresh()
