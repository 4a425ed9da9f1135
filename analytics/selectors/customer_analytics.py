"""Customer analytics: who the visible customers are (age, income, tier, city, segments) and
what they are worth (orders, spend, RFM value tiers, lifetime value), each figure one chart.

Every figure is over the customers the user may see (the visibility rule), narrowed to the
filter's team and owner (the customer's). The period applies to the order figures (order
counts, spend by tier and city): an order counts when it was placed in the period and was not
cancelled or refunded (as for a customer's total spend). Amounts are summed as they are,
whatever their currency (no conversion, as in the sales reports).

The value figures (RFM tiers, lifetime value by tier, top customers) read each customer's
CustomerValue, computed nightly over the last 365 days by
analytics.services.customer_values (whose docstring defines RFM, the tiers and lifetime value),
so they are not filtered by the period and do not rank a year of orders per request.

- Age: whole years at today's date, from the birthday; unknown without one.

Each figure is one grouped query (the segment sizes one count per segment, at most
MAX_SEGMENTS), so a chart costs the same few queries whatever the number of customers; each is
cached for a minute per user and filter (analytics.dashboard_filters.dashboard_cached).
"""

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial

from django.db.models import Case, CharField, Count, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Mod
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.charts import Chart, Series, chart_fields_hidden, chart_hidden
from analytics.dashboard_filters import DashboardFilter, dashboard_cached, dashboard_cached_unless
from analytics.models import CustomerValue
from analytics.services.customer_values import (
    DAYS_PER_YEAR,
    LIFESPAN_YEARS,
    NOT_COUNTED_STATUSES,
    TIER_NO_ORDERS,
    VALUE_TIERS,
    WINDOW_DAYS,
    customer_values_ensure,
)
from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from customers.models import Customer, Order
from customers.selectors.customers import (
    CustomerFilter,
    customer_list_filter,
    customer_list_visible,
    segment_list_visible,
)

CENT = Decimal("0.01")
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

# The securable customer fields each chart is computed from (crm.accounts.field_security).
CHART_FIELDS = {
    "age-histogram": ((Customer, "birthday"),),
    "age-income": ((Customer, "birthday"), (Customer, "annual_income")),
    "spend-by-city": ((Customer, "city"),),
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
    customers = customer_list_visible(user=user).select_related(None)
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
    # Every city's spend in one pass over the period's orders, ranked here: a second pass for
    # the total alone cost 0.45 s at a million customers (benchmarks/customer_analytics_results.md).
    cities = sorted(
        customer_analytics_orders(user=user, filters=filters)
        .values("customer__city")
        .annotate(spend=Sum("total_amount")),
        key=lambda row: (-_money(row["spend"]), row["customer__city"]),
    )
    top = cities[:TOP_CITIES]
    total = sum((_money(row["spend"]) for row in cities), Decimal("0.00"))
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


# RFM and lifetime value ---------------------------------------------------------------------


@dataclass(frozen=True)
class ValueTier:
    key: str
    label: str
    customers: int
    orders: int
    spend: Decimal
    lifetime_value: Decimal


def customer_values_computed_at() -> datetime | None:
    """When the customer values were last computed; computed now if never, when orders exist
    (a fresh install, before the nightly refresh first runs)."""
    computed_at = CustomerValue.objects.order_by("pk").values_list("computed_at", flat=True)
    if computed_at.first() is None:
        customer_values_ensure()
    return computed_at.first()


def _valued_customers(*, user: User, filters: DashboardFilter) -> QuerySet[Customer]:
    """The customers the value figures are about: those of the figures less the erased (they
    have no values: their orders stay in the spend figures, but they are profiled no more)."""
    return customer_analytics_customers(user=user, filters=filters).filter(erased_at__isnull=True)


def _value_tier_rows(*, user: User, filters: DashboardFilter) -> dict[str, tuple]:
    """(customers, orders, spend) by value tier key."""
    customers = customer_analytics_customers(user=user, filters=filters)
    if customers.query.has_filters():
        # Narrowed by the visibility rule, a team or an owner: one pass over the customers
        # joined to their values; one added since the refresh has none yet (no orders).
        value_tier = Coalesce("value__value_tier", Value(TIER_NO_ORDERS))
        return {
            key: (count, orders, spend)
            for key, count, orders, spend in customers.filter(erased_at__isnull=True)
            .annotate(value_tier=value_tier)
            .values_list("value_tier")
            .annotate(
                count=Count("pk"), orders=Sum("value__frequency"), spend=Sum("value__monetary")
            )
            .values_list("value_tier", "count", "orders", "spend")
        }
    # Someone who sees every customer, of any team and owner, needs no join: the values and a
    # count, 0.5 s instead of 1.1 s at a million (values exist only for living customers; one
    # erased since the last refresh stays in its tier until the next).
    rows = {
        key: (count, orders, spend)
        for key, count, orders, spend in CustomerValue.objects.order_by()
        .exclude(value_tier=TIER_NO_ORDERS)
        .values_list("value_tier")
        .annotate(count=Count("pk"), orders=Sum("frequency"), spend=Sum("monetary"))
        .values_list("value_tier", "count", "orders", "spend")
    }
    living = customers.filter(erased_at__isnull=True).count()
    rows[TIER_NO_ORDERS] = (living - sum(count for count, _orders, _spend in rows.values()), 0, 0)
    return rows


def _value_tiers_compute(*, user: User, filters: DashboardFilter) -> list[ValueTier]:
    rows = _value_tier_rows(user=user, filters=filters)
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
                lifetime_value=lifetime_value(spend=spend, customers=customers, days=WINDOW_DAYS),
            )
        )
    return tiers


def value_tiers(*, user: User, filters: DashboardFilter) -> list[ValueTier]:
    """Customers, orders, spend and average lifetime value per RFM value tier (VALUE_TIERS order;
    the customers without an order in the window last), from the customer values. Cached, as
    both the RFM and the lifetime value charts read it."""
    return dashboard_cached(
        user=user,
        filters=filters,
        name="customer-analytics:value-tiers",
        build=lambda: _value_tiers_compute(user=user, filters=filters),
    )


def _as_of_note() -> str:
    """When the values were computed; computing them first on a fresh install."""
    computed_at = customer_values_computed_at()
    if computed_at is None:
        return _("Over the last 365 days; not filtered by the period. No orders yet.")
    return _(
        "Over the last 365 days as of %(computed_at)s, recomputed nightly; not filtered by the "
        "period."
    ) % {"computed_at": formats.date_format(timezone.localtime(computed_at), "DATETIME_FORMAT")}


def _rfm_note() -> str:
    return _(
        "Among all customers with an order in the last 365 days, recency (last order), "
        "frequency (orders) and monetary value (spend) each score 1–5 by percent rank. "
        "Champions: R ≥ 4 and F + M ≥ 8; New: R ≥ 4 and one order; Loyal: R ≥ 3 and F + M ≥ 6; "
        "At risk: R ≤ 2 and F + M ≥ 6; Hibernating: other R ≤ 2; Needs attention: the rest."
    )


def rfm_tiers_chart(*, user: User, filters: DashboardFilter) -> Chart:
    as_of = _as_of_note()
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
        note=_rfm_note() + " " + as_of,
        extra={"keys": [tier.key for tier in tiers]},
    )


def _clv_note() -> str:
    return _(
        "Lifetime value = average order value × orders per year × %(years)s years of expected "
        "lifespan (a fixed assumption), over the orders of the last 365 days: the yearly spend "
        "× %(years)s."
    ) % {"years": LIFESPAN_YEARS}


def clv_by_tier_chart(*, user: User, filters: DashboardFilter) -> Chart:
    as_of = _as_of_note()
    tiers = [tier for tier in value_tiers(user=user, filters=filters) if tier.key != TIER_NO_ORDERS]
    average_order = [
        (tier.spend / tier.orders).quantize(CENT) if tier.orders else Decimal("0.00")
        for tier in tiers
    ]
    orders_per_year = [
        round(tier.orders * DAYS_PER_YEAR / WINDOW_DAYS / tier.customers, 2)
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
        note=_clv_note() + " " + _("Averaged over the tier's customers.") + " " + as_of,
        extra={"keys": [tier.key for tier in tiers], "lifespan_years": LIFESPAN_YEARS},
    )


def top_customers_chart(*, user: User, filters: DashboardFilter) -> Chart:
    as_of = _as_of_note()
    rows = (
        _valued_customers(user=user, filters=filters)
        .filter(value__frequency__gt=0)
        .order_by("-value__lifetime_value", "pk")
        .values_list("pk", "name", "value__frequency", "value__monetary", "value__lifetime_value")[
            :TOP_CUSTOMERS
        ]
    )
    customers = [
        {
            "id": pk,
            "name": name,
            "orders": orders,
            "spend": float(_money(spend)),
            "lifetime_value": float(_money(value)),
        }
        for pk, name, orders, spend, value in rows
    ]
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
        note=_clv_note() + " " + as_of,
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
    """Chart `key` of the customer-analytics page for `user`, cached for a minute; one computed
    from a field hidden from the user comes without figures (chart_hidden).

    KeyError for an unknown key."""
    return customer_analytics_charts(user=user, filters=filters, keys=[key])[0]


def _chart_without_figures(*, user: User, key: str) -> Chart | None:
    hidden = chart_fields_hidden(user=user, fields=CHART_FIELDS.get(key, ()))
    return chart_hidden(key=key, title=str(CHART_TITLES[key]), fields=hidden) if hidden else None


def customer_analytics_charts(
    *, user: User, filters: DashboardFilter, keys: Iterable[str] = CUSTOMER_CHARTS
) -> list[Chart]:
    """Charts `keys` (all of them by default) as customer_analytics_chart gives each, the cached
    ones read in one round trip."""
    return dashboard_cached_unless(
        user=user,
        filters=filters,
        builds={
            f"customer-analytics:{key}": partial(CUSTOMER_CHARTS[key], user=user, filters=filters)
            for key in keys
        },
        instead={
            f"customer-analytics:{key}": _chart_without_figures(user=user, key=key) for key in keys
        },
    )
