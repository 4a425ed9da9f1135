"""Customer analytics: who the visible customers are (age, income, tier, city, segments) and
what they are worth (orders, spend, RFM value tiers, lifetime value), each figure one chart.

Every figure is over the customers the user may see (the visibility rule), narrowed to the
filter's team and owner (the customer's); the period applies to orders: an order counts when it
was placed in the period and was not cancelled or refunded (as for a customer's total spend).
Amounts are summed as they are, whatever their currency (no conversion, as in the sales
reports).

Definitions (the charts' notes say them too):

- Age: whole years at today's date, from the birthday; unknown without one.
- RFM: among the customers with an order in the period, recency = their last order, frequency =
  their number of orders, monetary = their spend. Each becomes a score from 1 to 5 by its
  percent rank among them (1 + floor(5 × percent_rank), 5 at most; a later order, more orders
  or more spend rank higher), so equal values get equal scores. With FM = F + M:
  Champions R ≥ 4 and FM ≥ 8; New R ≥ 4 and F = 1; Loyal R ≥ 3 and FM ≥ 6; At risk R ≤ 2 and
  FM ≥ 6; Hibernating R ≤ 2; Needs attention the rest (R ≥ 3 with low F and M).
- Lifetime value = average order value × orders per year × expected lifespan, with orders per
  year = orders in the period × 365 / days in the period and an expected lifespan of
  LIFESPAN_YEARS (a constant). For a customer that is their yearly spend × LIFESPAN_YEARS.

Each figure is one grouped query (the segment sizes one count per segment, at most
MAX_SEGMENTS), so a chart costs the same few queries whatever the number of customers; each is
cached for a minute per user and filter (analytics.dashboard_filters.dashboard_cached).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import Case, CharField, Count, F, Max, Q, QuerySet, Sum, Value, When, Window
from django.db.models.expressions import RowRange
from django.db.models.functions import Mod, Rank
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.charts import Chart, Series
from analytics.dashboard_filters import DashboardFilter, dashboard_cached
from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from customers.models import Customer, Order
from customers.selectors.customers import (
    CustomerFilter,
    customer_list_filter,
    segment_list_visible,
)

NOT_COUNTED_STATUSES = (Order.Status.CANCELLED, Order.Status.REFUNDED)
CENT = Decimal("0.01")
DAYS_PER_YEAR = 365
LIFESPAN_YEARS = 3
SCATTER_POINTS = 2000
TOP_CITIES = 15
TOP_CUSTOMERS = 20
MAX_SEGMENTS = 20
# (key, label, youngest age, oldest age + 1); None is open-ended.
AGE_BUCKETS = (
    ("under_20", gettext_lazy("Under 20"), None, 20),
    ("20_29", "20–29", 20, 30),
    ("30_39", "30–39", 30, 40),
    ("40_49", "40–49", 40, 50),
    ("50_59", "50–59", 50, 60),
    ("60_69", "60–69", 60, 70),
    ("70_plus", gettext_lazy("70 and over"), 70, None),
)
AGE_UNKNOWN = "unknown"
# (key, label, fewest orders, most orders); None is open-ended.
ORDER_COUNT_BUCKETS = (
    ("0", "0", 0, 0),
    ("1", "1", 1, 1),
    ("2", "2", 2, 2),
    ("3_5", "3–5", 3, 5),
    ("6_10", "6–10", 6, 10),
    ("11_plus", gettext_lazy("11 or more"), 11, None),
)
CHART_TITLES = {
    "age-histogram": gettext_lazy("Customers by age"),
    "order-count": gettext_lazy("Customers by number of orders"),
    "age-income": gettext_lazy("Age and annual income"),
    "spend-by-tier": gettext_lazy("Spend by service tier"),
    "spend-by-city": gettext_lazy("Spend by city"),
    "segment-sizes": gettext_lazy("Segment sizes"),
    "rfm-tiers": gettext_lazy("RFM value tiers"),
    "clv-by-tier": gettext_lazy("Customer lifetime value by value tier"),
    "top-customers": gettext_lazy("Top customers by lifetime value"),
}
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
    TIER_NO_ORDERS: gettext_lazy("No orders in the period"),
}


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def age_on(birthday: date, *, today: date) -> int:
    had_birthday = (today.month, today.day) >= (birthday.month, birthday.day)
    return today.year - birthday.year - (0 if had_birthday else 1)


def customer_analytics_customers(*, user: User, filters: DashboardFilter) -> QuerySet[Customer]:
    """The customers the figures are about: visible to `user`, of the filter's team and owner."""
    customers = records_visible_to(user=user, queryset=Customer.objects.all())
    if filters.team_id is not None:
        customers = customers.filter(team_id=filters.team_id)
    if filters.owner_id is not None:
        customers = customers.filter(owner_id=filters.owner_id)
    return customers.order_by()


def customer_analytics_orders(*, user: User, filters: DashboardFilter) -> QuerySet[Order]:
    """The orders that count: of those customers, placed in the period, neither cancelled nor
    refunded."""
    orders = records_visible_to(user=user, queryset=Order.objects.all())
    if filters.team_id is not None:
        orders = orders.filter(customer__team_id=filters.team_id)
    if filters.owner_id is not None:
        orders = orders.filter(customer__owner_id=filters.owner_id)
    return (
        orders.filter(ordered_at__gte=filters.start_at, ordered_at__lt=filters.end_at)
        .exclude(status__in=NOT_COUNTED_STATUSES)
        .order_by()
    )


def _money(value) -> Decimal:
    """A sum as the database gives it (a float or an int on SQLite), to the cent."""
    if value is None:
        return Decimal("0.00")
    return Decimal(str(value)).quantize(CENT)


def _per_year(amount: Decimal, *, days: int) -> Decimal:
    return amount * DAYS_PER_YEAR / days


def lifetime_value(*, spend: Decimal, customers: int, days: int) -> Decimal:
    """Average order value × orders per year × LIFESPAN_YEARS, for `customers` who spent `spend`
    over `days` days (the orders cancel out: spend / orders × orders / customers / years)."""
    if not customers:
        return Decimal("0.00")
    return (_per_year(spend, days=days) / customers * LIFESPAN_YEARS).quantize(CENT)


# Age and orders ----------------------------------------------------------------------------------


def age_histogram_chart(*, user: User, filters: DashboardFilter) -> Chart:
    today = timezone.localdate()
    whens = [When(birthday__isnull=True, then=Value(AGE_UNKNOWN))]
    for key, _label, _youngest, oldest_plus_one in AGE_BUCKETS:
        if oldest_plus_one is not None:
            # Younger than N ⇔ born after the day N years ago (ages become birthday bounds, so
            # no age is computed per row).
            whens.append(When(birthday__gt=_years_before(today, oldest_plus_one), then=Value(key)))
    bucket = Case(*whens, default=Value(AGE_BUCKETS[-1][0]), output_field=CharField())
    counts = dict(
        customer_analytics_customers(user=user, filters=filters)
        .annotate(bucket=bucket)
        .values_list("bucket")
        .annotate(customers=Count("pk"))
        .values_list("bucket", "customers")
    )
    keys = [key for key, *_rest in AGE_BUCKETS] + [AGE_UNKNOWN]
    labels = [str(label) for _key, label, *_rest in AGE_BUCKETS] + [_("Unknown")]
    return Chart(
        key="age-histogram",
        title=str(CHART_TITLES["age-histogram"]),
        kind="bar",
        labels=labels,
        series=[Series(label=_("Customers"), data=[counts.get(key, 0) for key in keys])],
        x_label=_("Age"),
        y_label=_("Customers"),
        note=_("Age in whole years today, from the birthday; not filtered by the period."),
    )


def order_count_chart(*, user: User, filters: DashboardFilter) -> Chart:
    per_customer = (
        customer_analytics_orders(user=user, filters=filters)
        .values("customer_id")
        .annotate(orders=Count("pk"))
    )
    buckets = {}
    for key, _label, fewest, most in ORDER_COUNT_BUCKETS[1:]:
        condition = Q(orders__gte=fewest)
        if most is not None:
            condition &= Q(orders__lte=most)
        buckets[key] = Count("customer_id", filter=condition)
    counts = per_customer.aggregate(**buckets)
    customers = customer_analytics_customers(user=user, filters=filters).count()
    counts["0"] = customers - sum(counts.values())
    return Chart(
        key="order-count",
        title=str(CHART_TITLES["order-count"]),
        kind="bar",
        labels=[str(label) for _key, label, *_rest in ORDER_COUNT_BUCKETS],
        series=[
            Series(
                label=_("Customers"),
                data=[counts[key] for key, *_rest in ORDER_COUNT_BUCKETS],
            )
        ],
        x_label=_("Orders in the period"),
        y_label=_("Customers"),
        note=_("Orders placed in the period, not counting cancelled or refunded ones."),
    )


def age_income_chart(*, user: User, filters: DashboardFilter) -> Chart:
    today = timezone.localdate()
    known = customer_analytics_customers(user=user, filters=filters).filter(
        birthday__isnull=False, annual_income__isnull=False
    )
    total = known.count()
    # Every stride-th id: the same sample on every database and every reload, spread over the
    # whole table, and read in one pass.
    stride = max(1, math.ceil(total / SCATTER_POINTS))
    sample = known
    if stride > 1:
        sample = known.alias(id_remainder=Mod("pk", stride)).filter(id_remainder=0)
    rows = sample.order_by("pk").values_list("birthday", "annual_income")[:SCATTER_POINTS]
    points = [[age_on(birthday, today=today), income] for birthday, income in rows]
    return Chart(
        key="age-income",
        title=str(CHART_TITLES["age-income"]),
        kind="scatter",
        labels=[],
        series=[Series(label=_("Customers"), data=points)],
        x_label=_("Age"),
        y_label=_("Annual income"),
        note=_(
            "A sample of %(shown)s of the %(total)s customers with a birthday and an income "
            "(one in every %(stride)s by id); incomes as recorded, in their own currencies."
        )
        % {"shown": len(points), "total": total, "stride": stride},
        extra={"sample_size": len(points), "population": total},
    )


# Spend ---------------------------------------------------------------------------------------


def spend_by_tier_chart(*, user: User, filters: DashboardFilter) -> Chart:
    rows = {
        row["customer__tier"]: row
        for row in customer_analytics_orders(user=user, filters=filters)
        .values("customer__tier")
        .annotate(spend=Sum("total_amount"), orders=Count("pk"))
    }
    tiers = Customer.Tier
    return Chart(
        key="spend-by-tier",
        title=str(CHART_TITLES["spend-by-tier"]),
        kind="bar",
        labels=[str(label) for label in tiers.labels],
        series=[
            Series(
                label=_("Spend"),
                data=[_money(rows.get(tier, {}).get("spend")) for tier in tiers.values],
            ),
            Series(
                label=_("Orders"),
                data=[rows.get(tier, {}).get("orders", 0) for tier in tiers.values],
                kind="line",
                right_axis=True,
            ),
        ],
        x_label=_("Service tier"),
        y_label=_("Spend"),
        note=_("Orders placed in the period, not counting cancelled or refunded ones."),
    )


def spend_by_city_chart(*, user: User, filters: DashboardFilter) -> Chart:
    orders = customer_analytics_orders(user=user, filters=filters)
    top = list(
        orders.values("customer__city")
        .annotate(spend=Sum("total_amount"))
        .order_by("-spend", "customer__city")[:TOP_CITIES]
    )
    total = _money(orders.aggregate(spend=Sum("total_amount"))["spend"])
    labels = [row["customer__city"] or _("No city") for row in top]
    spend = [_money(row["spend"]) for row in top]
    other = total - sum(spend, Decimal("0.00"))
    if other:
        labels.append(_("Other cities"))
        spend.append(other)
    return Chart(
        key="spend-by-city",
        title=str(CHART_TITLES["spend-by-city"]),
        kind="bar",
        labels=labels,
        series=[Series(label=_("Spend"), data=spend)],
        x_label=_("City"),
        y_label=_("Spend"),
        horizontal=True,
        note=_("The %(top)s cities with the most spend in the period, then all others together.")
        % {"top": TOP_CITIES},
    )


# Segments ------------------------------------------------------------------------------------


def segment_sizes_chart(*, user: User, filters: DashboardFilter) -> Chart:
    customers = customer_analytics_customers(user=user, filters=filters)
    labels, sizes, unreadable = [], [], 0
    for segment in segment_list_visible(user=user)[:MAX_SEGMENTS]:
        try:
            segment_filter = CustomerFilter.from_json(segment.filters)
        except ValueError:
            unreadable += 1
            continue
        labels.append(segment.name)
        sizes.append(customer_list_filter(queryset=customers, filters=segment_filter).count())
    note = _("Members now, among the customers you see; the first %(limit)s segments by name.") % {
        "limit": MAX_SEGMENTS
    }
    if unreadable:
        note += " " + _(
            "%(count)s segment(s) left out: their saved filters no longer read as a filter."
        ) % {"count": unreadable}
    return Chart(
        key="segment-sizes",
        title=str(CHART_TITLES["segment-sizes"]),
        kind="bar",
        labels=labels,
        series=[Series(label=_("Customers"), data=sizes)],
        x_label=_("Segment"),
        y_label=_("Customers"),
        horizontal=True,
        note=note,
    )


# RFM and lifetime value ----------------------------------------------------------------------


@dataclass(frozen=True)
class ValueTier:
    key: str
    label: str
    customers: int
    orders: int
    spend: Decimal
    lifetime_value: Decimal


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


def _rfm_scores(*, user: User, filters: DashboardFilter) -> QuerySet:
    """One row per customer with an order in the period: the RFM values and their ranks.

    RANK() rather than PERCENT_RANK(), over ROWS rather than the default RANGE frame: before
    version 16, PostgreSQL reads the whole partition, or for RANGE each row's whole group of
    equals (most customers have one order), back from disk past work_mem, over and over (20 s
    instead of 5 at 800,000 customers). The percent rank is computed from the rank and the
    number of rows instead (see _score); a frame does not change a rank."""
    return (
        customer_analytics_orders(user=user, filters=filters)
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


def _value_tier_sql(scores: QuerySet) -> tuple[str, tuple]:
    sql, params = scores.query.sql_with_params()
    scored = (
        f"SELECT frequency, monetary, {_score('r_rank')} AS r, {_score('f_rank')} AS f, "
        f"{_score('m_rank')} AS m FROM ranked CROSS JOIN counted"
    )
    return (
        f"WITH ranked AS ({sql}), counted AS (SELECT COUNT(*) - 1 AS steps FROM ranked) "
        f"SELECT {_TIER_CASE} AS tier, COUNT(*), SUM(frequency), SUM(monetary) "
        f"FROM ({scored}) scored GROUP BY 1",
        params,
    )


def _value_tiers_compute(*, user: User, filters: DashboardFilter) -> list[ValueTier]:
    sql, params = _value_tier_sql(_rfm_scores(user=user, filters=filters))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = {tier: (customers, orders, spend) for tier, customers, orders, spend in cursor}
    everyone = customer_analytics_customers(user=user, filters=filters).count()
    rows[TIER_NO_ORDERS] = (everyone - sum(row[0] for row in rows.values()), 0, 0)
    tiers = []
    for key, label in VALUE_TIERS.items():
        customers, orders, spend = rows.get(key, (0, 0, 0))
        spend = _money(spend)
        tiers.append(
            ValueTier(
                key=key,
                label=str(label),
                customers=customers,
                orders=orders or 0,
                spend=spend,
                lifetime_value=lifetime_value(spend=spend, customers=customers, days=filters.days),
            )
        )
    return tiers


def value_tiers(*, user: User, filters: DashboardFilter) -> list[ValueTier]:
    """Customers, orders, spend and average lifetime value per RFM value tier (VALUE_TIERS order;
    the customers without an order in the period last). Cached, as both the RFM and the lifetime
    value charts read it and it is the costliest figure."""
    return dashboard_cached(
        user=user,
        filters=filters,
        name="customer-analytics:value-tiers",
        build=lambda: _value_tiers_compute(user=user, filters=filters),
    )


def _rfm_note() -> str:
    return _(
        "Among the customers with an order in the period, recency (last order), frequency "
        "(orders) and monetary value (spend) each score 1–5 by percent rank. Champions: R ≥ 4 "
        "and F + M ≥ 8; New: R ≥ 4 and one order; Loyal: R ≥ 3 and F + M ≥ 6; At risk: R ≤ 2 "
        "and F + M ≥ 6; Hibernating: other R ≤ 2; Needs attention: the rest."
    )


def rfm_tiers_chart(*, user: User, filters: DashboardFilter) -> Chart:
    tiers = value_tiers(user=user, filters=filters)
    return Chart(
        key="rfm-tiers",
        title=str(CHART_TITLES["rfm-tiers"]),
        kind="bar",
        labels=[tier.label for tier in tiers],
        series=[
            Series(label=_("Customers"), data=[tier.customers for tier in tiers]),
            Series(
                label=_("Spend"),
                data=[tier.spend for tier in tiers],
                kind="line",
                right_axis=True,
            ),
        ],
        x_label=_("Value tier"),
        y_label=_("Customers"),
        note=_rfm_note(),
        extra={"keys": [tier.key for tier in tiers]},
    )


def _clv_note() -> str:
    return _(
        "Lifetime value = average order value × orders per year × %(years)s years of expected "
        "lifespan (a fixed assumption), with orders per year = orders in the period × 365 / "
        "days in the period: the yearly spend × %(years)s."
    ) % {"years": LIFESPAN_YEARS}


def clv_by_tier_chart(*, user: User, filters: DashboardFilter) -> Chart:
    tiers = [tier for tier in value_tiers(user=user, filters=filters) if tier.key != TIER_NO_ORDERS]
    average_order = [
        (tier.spend / tier.orders).quantize(CENT) if tier.orders else Decimal("0.00")
        for tier in tiers
    ]
    orders_per_year = [
        round(tier.orders * DAYS_PER_YEAR / filters.days / tier.customers, 2)
        if tier.customers
        else 0
        for tier in tiers
    ]
    return Chart(
        key="clv-by-tier",
        title=str(CHART_TITLES["clv-by-tier"]),
        kind="bar",
        labels=[tier.label for tier in tiers],
        series=[
            Series(label=_("Average lifetime value"), data=[tier.lifetime_value for tier in tiers]),
            Series(label=_("Average order value"), data=average_order),
            Series(
                label=_("Orders per customer per year"),
                data=orders_per_year,
                kind="line",
                right_axis=True,
            ),
        ],
        x_label=_("Value tier"),
        y_label=_("Amount"),
        note=_clv_note() + " " + _("Averaged over the tier's customers."),
        extra={"keys": [tier.key for tier in tiers], "lifespan_years": LIFESPAN_YEARS},
    )


def top_customers_chart(*, user: User, filters: DashboardFilter) -> Chart:
    rows = list(
        customer_analytics_orders(user=user, filters=filters)
        .values("customer_id", "customer__name")
        .annotate(orders=Count("pk"), spend=Sum("total_amount"))
        .order_by("-spend", "customer_id")[:TOP_CUSTOMERS]
    )
    customers = []
    for row in rows:
        spend = _money(row["spend"])
        customers.append(
            {
                "id": row["customer_id"],
                "name": row["customer__name"],
                "orders": row["orders"],
                "spend": float(spend),
                "lifetime_value": float(
                    lifetime_value(spend=spend, customers=1, days=filters.days)
                ),
            }
        )
    return Chart(
        key="top-customers",
        title=str(CHART_TITLES["top-customers"]),
        kind="bar",
        labels=[customer["name"] for customer in customers],
        series=[
            Series(
                label=_("Lifetime value"),
                data=[customer["lifetime_value"] for customer in customers],
            ),
            Series(label=_("Spend"), data=[customer["spend"] for customer in customers]),
            Series(label=_("Orders"), data=[customer["orders"] for customer in customers]),
        ],
        x_label=_("Customer"),
        y_label=_("Amount"),
        horizontal=True,
        note=_clv_note(),
        extra={"customers": customers, "lifespan_years": LIFESPAN_YEARS},
    )


# The charts, by key --------------------------------------------------------------------------

ChartBuilder = Callable[..., Chart]
CUSTOMER_CHARTS: dict[str, ChartBuilder] = {
    "age-histogram": age_histogram_chart,
    "order-count": order_count_chart,
    "age-income": age_income_chart,
    "spend-by-tier": spend_by_tier_chart,
    "spend-by-city": spend_by_city_chart,
    "segment-sizes": segment_sizes_chart,
    "rfm-tiers": rfm_tiers_chart,
    "clv-by-tier": clv_by_tier_chart,
    "top-customers": top_customers_chart,
}


def customer_analytics_chart(*, key: str, user: User, filters: DashboardFilter) -> Chart:
    """Chart `key` of CUSTOMER_CHARTS, computed at most once a minute per user and filter.

    KeyError for an unknown key."""
    build = CUSTOMER_CHARTS[key]
    return dashboard_cached(
        user=user,
        filters=filters,
        name=f"customer-analytics:{key}",
        build=lambda: build(user=user, filters=filters),
    )


def customer_analytics_charts(*, user: User, filters: DashboardFilter) -> list[Chart]:
    return [
        customer_analytics_chart(key=key, user=user, filters=filters) for key in CUSTOMER_CHARTS
    ]
