"""Building the recommendations: similar customers and next-best products for every customer.

A build is an AnalyticsJob that goes queued -> running -> done (or failed), one at a time.
1. Compare-with set: the customers with at least one counted order (only they can suggest a
   product), at most COMPARE_WITH_LIMIT of them, a fixed-seed random sample beyond that. The
   brute-force search costs (customers x compared-with), so the cap makes a build's time grow
   with the number of customers alone, and a random 50,000 buyers still hold ten close
   neighbours for everyone. Measured on two cores shared with other work: 100,000 customers
   (75,000 buyers, 50,000 compared with) in 104 s, so a million in about 20 minutes, hence the
   task's own time limit.
2. Features, read in pk chunks from SQL aggregates: age, income, orders, spend, days since the
   last order, tier, the most common cities, and the share of spend in each product category;
   scaled, so no one unit outweighs the others.
3. For every customer not erased, chunk by chunk: its NEIGHBOURS nearest in the compare-with
   set, and the PRODUCTS_KEPT products they bought (weighted by closeness and quantity) that it
   has not bought, stored in bulk. Rows a build did not refresh (erased customers) are deleted
   at the end.
"""

import time
from dataclasses import dataclass
from datetime import date

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from scipy import sparse

from analytics.ml.neighbours import (
    NO_NEIGHBOUR,
    NeighbourIndex,
    neighbour_index_fit,
    neighbours_find,
    products_rank,
)
from analytics.models import AnalyticsJob, CustomerRecommendation, ModelVersion
from analytics.selectors.recommendations import ORDER_STATUSES_NOT_BOUGHT
from analytics.services.jobs import (
    JobBusy,
    analytics_job_queue,
    analytics_job_run,
    analytics_job_start,
    progress_save,
)
from crm.accounts.models import User
from customers.models import Customer, Order, OrderLine, Product

NEIGHBOURS = 10
PRODUCTS_KEPT = 5
COMPARE_WITH_LIMIT = 50_000
SAMPLE_SEED = 7
CHUNK_SIZE = 2000
TOP_CITIES = 10
TOP_CATEGORIES = 20

CUSTOMER_FIELDS = (
    "pk",
    "birthday",
    "annual_income",
    "order_count",
    "total_spend",
    "tier",
    "city",
)
NUMERIC_FEATURES = ["age", "log_income", "log_orders", "log_spend", "log_days_since_order"]
DAYS_SINCE_ORDER = NUMERIC_FEATURES.index("log_days_since_order")


# A build of a million customers outlasts Celery's default limits; it saves its progress every
# chunk, so a job that has not moved for this long has lost its worker.
BUILD_TIME_LIMIT = 2 * 60 * 60 + 300


class RecommendationsBusy(JobBusy):
    """A build is already queued or running."""


class NoOneToCompareWith(Exception):
    """No customer has an order, so no one can suggest a product."""


@dataclass(frozen=True)
class FeatureLayout:
    """What the feature columns are for this build, and the column of each active product."""

    cities: list[str]
    categories: list[str]
    product_columns: dict[int, int]

    @property
    def columns(self) -> list[str]:
        return [
            *NUMERIC_FEATURES,
            *(f"tier_{tier}" for tier in Customer.Tier.values),
            *(f"city_{city}" for city in self.cities),
            *(f"category_{category}" for category in self.categories),
        ]

    @property
    def product_ids(self) -> list[int]:
        return list(self.product_columns)


@dataclass(frozen=True)
class CustomerChunk:
    ids: np.ndarray
    features: np.ndarray
    # (customers x active products): the quantity each customer bought of each product.
    purchases: sparse.csr_matrix


def recommendations_build_request(*, user: User | None, trigger: str) -> AnalyticsJob:
    """Queue a build and return its job; RecommendationsBusy while another is queued or running.

    A job that has not moved for the build's hard time limit belonged to a worker that died: it
    is marked failed and no longer blocks."""
    job = analytics_job_start(
        kind=AnalyticsJob.Kind.RECOMMENDATIONS,
        trigger=trigger,
        user=user,
        busy=RecommendationsBusy(_("Recommendations are already being built.")),
        time_limit=BUILD_TIME_LIMIT,
    )

    from analytics.tasks.recommendations import recommendations_build_task

    analytics_job_queue(job=job, task=recommendations_build_task)
    return job


def recommendations_build_scheduled() -> int | None:
    """The nightly build; None when one is already under way."""
    try:
        return recommendations_build_request(user=None, trigger=ModelVersion.Trigger.SCHEDULE).pk
    except RecommendationsBusy:
        return None


def recommendations_build_run(*, job_id: int) -> AnalyticsJob:
    """Build every customer's recommendations for one queued job. Safe to run twice: a job that
    is no longer queued is left alone."""
    return analytics_job_run(
        job_id=job_id,
        kind=AnalyticsJob.Kind.RECOMMENDATIONS,
        work=_build,
        expected=(NoOneToCompareWith,),
    )


def _most_common(queryset, field: str, *, limit: int) -> list[str]:
    """The `limit` non-empty values of `field` held by the most rows, ties broken by value."""
    return list(
        queryset.exclude(**{field: ""})
        .order_by()
        .values(field)
        .annotate(rows=Count("pk"))
        .order_by("-rows", field)
        .values_list(field, flat=True)[:limit]
    )


def _layout_read() -> FeatureLayout:
    cities = _most_common(Customer.objects.all(), "city", limit=TOP_CITIES)
    categories = _most_common(Product.objects.all(), "category", limit=TOP_CATEGORIES)
    active = Product.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)
    return FeatureLayout(
        cities=cities,
        categories=categories,
        product_columns={product_id: column for column, product_id in enumerate(active)},
    )


def _chunk_read(rows: list[tuple], *, layout: FeatureLayout, today: date) -> CustomerChunk:
    """Features and purchases of these customers (rows of CUSTOMER_FIELDS): two queries."""
    ids = [row[0] for row in rows]
    position = {customer_id: index for index, customer_id in enumerate(ids)}
    columns = layout.columns
    features = np.zeros((len(ids), len(columns)))
    tier_column = {tier: columns.index(f"tier_{tier}") for tier in Customer.Tier.values}
    city_column = {city: columns.index(f"city_{city}") for city in layout.cities}
    category_column = {
        category: columns.index(f"category_{category}") for category in layout.categories
    }
    for index, (_pk, birthday, income, orders, spend, tier, city) in enumerate(rows):
        features[index, 0] = (today - birthday).days / 365.25 if birthday else np.nan
        features[index, 1] = np.log1p(max(float(income), 0.0)) if income is not None else np.nan
        features[index, 2] = np.log1p(orders)
        features[index, 3] = np.log1p(max(float(spend), 0.0))
        features[index, DAYS_SINCE_ORDER] = np.nan
        if tier in tier_column:
            features[index, tier_column[tier]] = 1.0
        if city in city_column:
            features[index, city_column[city]] = 1.0

    latest_orders = (
        Order.objects.filter(customer_id__in=ids)
        .exclude(status__in=ORDER_STATUSES_NOT_BOUGHT)
        .order_by()
        .values("customer_id")
        .annotate(latest=Max("ordered_at"))
        .values_list("customer_id", "latest")
    )
    for customer_id, latest in latest_orders:
        days = max((today - latest.date()).days, 0)
        features[position[customer_id], DAYS_SINCE_ORDER] = np.log1p(days)

    line_total = ExpressionWrapper(
        F("quantity") * F("unit_price"), output_field=DecimalField(max_digits=20, decimal_places=2)
    )
    lines = (
        OrderLine.objects.filter(order__customer_id__in=ids)
        .exclude(order__status__in=ORDER_STATUSES_NOT_BOUGHT)
        .order_by()
        .values("order__customer_id", "product_id", "product__category")
        .annotate(units=Sum("quantity"), spend=Sum(line_total))
        .values_list("order__customer_id", "product_id", "product__category", "units", "spend")
    )
    spend_by_customer = np.zeros(len(ids))
    purchase_rows, purchase_columns, quantities = [], [], []
    for customer_id, product_id, category, quantity, spend in lines:
        row = position[customer_id]
        amount = float(spend or 0)
        spend_by_customer[row] += amount
        if category in category_column:
            features[row, category_column[category]] += amount
        if product_id in layout.product_columns:
            purchase_rows.append(row)
            purchase_columns.append(layout.product_columns[product_id])
            quantities.append(float(quantity))
    if category_column:
        shares = slice(len(columns) - len(layout.categories), len(columns))
        with np.errstate(invalid="ignore", divide="ignore"):
            features[:, shares] = np.nan_to_num(
                features[:, shares] / spend_by_customer[:, np.newaxis]
            )
    purchases = sparse.csr_matrix(
        (quantities, (purchase_rows, purchase_columns)),
        shape=(len(ids), len(layout.product_columns)),
    )
    return CustomerChunk(
        ids=np.asarray(ids, dtype=np.int64), features=features, purchases=purchases
    )


def _compare_with_ids() -> tuple[np.ndarray, int]:
    """The ids of the compare-with set, in pk order, and how many buyers there are in all."""
    buyers = (
        Customer.objects.filter(order_count__gt=0, erased_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    ids = np.fromiter(buyers.iterator(chunk_size=10_000), dtype=np.int64)
    if len(ids) <= COMPARE_WITH_LIMIT:
        return ids, len(ids)
    sample = np.random.default_rng(SAMPLE_SEED).choice(ids, COMPARE_WITH_LIMIT, replace=False)
    return np.sort(sample), len(ids)


def _index_build(
    job: AnalyticsJob, *, ids: np.ndarray, layout: FeatureLayout, today: date
) -> tuple[NeighbourIndex, sparse.csr_matrix]:
    chunks = []
    for start in range(0, len(ids), CHUNK_SIZE):
        chunk_ids = [int(pk) for pk in ids[start : start + CHUNK_SIZE]]
        rows = list(
            Customer.objects.filter(pk__in=chunk_ids).order_by("pk").values_list(*CUSTOMER_FIELDS)
        )
        chunks.append(_chunk_read(rows, layout=layout, today=today))
        progress_save(
            job,
            progress=5 + int(20 * (start + len(chunk_ids)) / len(ids)),
            stage=_("Reading the customers to compare with"),
        )
    progress_save(job, progress=25, stage=_("Scaling and indexing"))
    index = neighbour_index_fit(
        ids=np.concatenate([chunk.ids for chunk in chunks]),
        features=np.vstack([chunk.features for chunk in chunks]),
        high_when_missing=(DAYS_SINCE_ORDER,),
    )
    purchases = sparse.vstack([chunk.purchases for chunk in chunks]).tocsr()
    return index, purchases


def _recommendations(
    chunk: CustomerChunk,
    *,
    index: NeighbourIndex,
    purchases: sparse.csr_matrix,
    product_ids: list[int],
    computed_at,
) -> list[CustomerRecommendation]:
    positions, distances = neighbours_find(
        index=index, ids=chunk.ids, features=chunk.features, k=NEIGHBOURS
    )
    ranked = products_rank(
        positions=positions,
        distances=distances,
        purchases=purchases,
        owned=chunk.purchases,
        top=PRODUCTS_KEPT,
    )
    # Plain Python lists once per chunk: the per-row loop below then touches no numpy scalars.
    neighbour_ids = np.where(positions == NO_NEIGHBOUR, NO_NEIGHBOUR, index.ids[positions]).tolist()
    neighbour_distances = np.round(distances, 4).tolist()
    return [
        CustomerRecommendation(
            customer_id=customer_id,
            similar=[
                [other, distance]
                for other, distance in zip(
                    neighbour_ids[row], neighbour_distances[row], strict=True
                )
                if other != NO_NEIGHBOUR
            ],
            products=[[product_ids[column], round(score, 4)] for column, score in ranked[row]],
            computed_at=computed_at,
        )
        for row, customer_id in enumerate(chunk.ids.tolist())
    ]


def _store(recommendations: list[CustomerRecommendation]) -> None:
    def write(rows: list[CustomerRecommendation]) -> None:
        with transaction.atomic():
            CustomerRecommendation.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["customer"],
                update_fields=["similar", "products", "computed_at"],
                batch_size=500,
            )

    try:
        write(recommendations)
    except IntegrityError:
        # A customer merged or deleted since its chunk was read: store the others.
        existing = set(
            Customer.objects.filter(
                pk__in=[row.customer_id for row in recommendations]
            ).values_list("pk", flat=True)
        )
        write([row for row in recommendations if row.customer_id in existing])


def _build(job: AnalyticsJob) -> dict:
    started = time.monotonic()
    computed_at = timezone.now()
    today = timezone.localdate()
    layout = _layout_read()
    progress_save(job, progress=2, stage=_("Choosing the customers to compare with"))
    compare_with, buyers = _compare_with_ids()
    if not len(compare_with):
        raise NoOneToCompareWith(
            _("No customer has an order yet, so there is no one to learn from.")
        )
    index, purchases = _index_build(job, ids=compare_with, layout=layout, today=today)

    customers = Customer.objects.filter(erased_at__isnull=True)
    total = customers.count()
    done, last_pk = 0, 0
    recommended: set[int] = set()
    while True:
        rows = list(
            customers.filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list(*CUSTOMER_FIELDS)[:CHUNK_SIZE]
        )
        if not rows:
            break
        last_pk = rows[-1][0]
        chunk = _chunk_read(rows, layout=layout, today=today)
        recommendations = _recommendations(
            chunk,
            index=index,
            purchases=purchases,
            product_ids=layout.product_ids,
            computed_at=computed_at,
        )
        _store(recommendations)
        recommended.update(
            product_id for row in recommendations for product_id, _score in row.products
        )
        done += len(rows)
        progress_save(
            job,
            progress=min(30 + int(68 * done / max(total, 1)), 98),
            stage=_("Finding neighbours and products"),
            stats={"customers": done},
        )
    CustomerRecommendation.objects.filter(computed_at__lt=computed_at).delete()
    return {
        "customers": done,
        "buyers": buyers,
        "compared_with": len(compare_with),
        "features": len(layout.columns),
        "products": len(recommended),
        "seconds": round(time.monotonic() - started, 1),
    }
