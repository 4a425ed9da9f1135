"""Reading the recommendations: a customer's similar customers (only those the user may see)
and next-best products (only active ones), and the build jobs."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, QuerySet

from analytics.models import AnalyticsJob, CustomerRecommendation
from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from customers.models import Customer, Order, OrderLine, Product

# Orders that did not end in a sale: they neither shape a customer's profile nor count as
# having bought a product (the same rule as customers' total spend).
ORDER_STATUSES_NOT_BOUGHT = [Order.Status.CANCELLED, Order.Status.REFUNDED]


@dataclass(frozen=True)
class SimilarCustomer:
    customer: Customer
    distance: float


@dataclass(frozen=True)
class ProductSuggestion:
    product: Product
    score: float
    # How many of the customer's similar customers bought it, hidden ones included: a count
    # names nobody.
    bought_by: int


@dataclass(frozen=True)
class CustomerRecommendations:
    similar: list[SimilarCustomer] = field(default_factory=list)
    products: list[ProductSuggestion] = field(default_factory=list)
    neighbours: int = 0
    computed_at: datetime | None = None


def customer_recommendations_for(
    *, user: User, customer: Customer, similar_limit: int | None = None
) -> CustomerRecommendations:
    """The latest recommendations for `customer`, whom the caller has checked `user` may see.

    A similar customer the user may not see is left out, as if it were not there. Four queries
    at most, whatever the number of neighbours and products."""
    stored = CustomerRecommendation.objects.filter(customer=customer).first()
    if stored is None:
        return CustomerRecommendations()
    distances = {int(customer_id): float(distance) for customer_id, distance in stored.similar}
    scores = {int(product_id): float(score) for product_id, score in stored.products}
    visible = records_visible_to(
        user=user, queryset=Customer.objects.filter(pk__in=distances)
    ).only("pk", "name")
    similar = sorted(
        (SimilarCustomer(customer=other, distance=distances[other.pk]) for other in visible),
        key=lambda entry: (entry.distance, entry.customer.pk),
    )
    if similar_limit is not None:
        similar = similar[:similar_limit]
    products = list(Product.objects.filter(pk__in=scores, is_active=True)) if scores else []
    bought_by = {}
    if products:
        bought_by = dict(
            OrderLine.objects.filter(
                order__customer_id__in=distances,
                product_id__in=[product.pk for product in products],
            )
            .exclude(order__status__in=ORDER_STATUSES_NOT_BOUGHT)
            .order_by()
            .values("product_id")
            .annotate(customers=Count("order__customer_id", distinct=True))
            .values_list("product_id", "customers")
        )
    suggestions = sorted(
        (
            ProductSuggestion(
                product=product, score=scores[product.pk], bought_by=bought_by.get(product.pk, 0)
            )
            for product in products
        ),
        key=lambda entry: (-entry.score, entry.product.pk),
    )
    return CustomerRecommendations(
        similar=similar,
        products=suggestions,
        neighbours=len(distances),
        computed_at=stored.computed_at,
    )


def recommendation_jobs() -> QuerySet[AnalyticsJob]:
    """The recommendation builds, newest first."""
    return AnalyticsJob.objects.filter(kind=AnalyticsJob.Kind.RECOMMENDATIONS).select_related(
        "started_by"
    )


def recommendation_job_latest() -> AnalyticsJob | None:
    return recommendation_jobs().first()


def recommendation_job_get(*, pk: int) -> AnalyticsJob:
    return recommendation_jobs().get(pk=pk)
