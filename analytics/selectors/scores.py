"""Reads of the stored customer scores (hot leads, customers at risk), only ever of customers the
user may see."""

from dataclasses import dataclass

from django.db.models import F, QuerySet

from analytics.models import CustomerScore, PredictiveModel
from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from customers.models import Customer

# The customer-subject built-in models whose scores the lists show: hot leads, then at risk.
SCORED_MODEL_NAMES = ("purchase", "churn")
# Who may read customer scores, on every surface: the 360 panel, the scores page and API, and a
# prediction for a customer.
VIEW_SCORES = "analytics.view_customerscore"
DEFAULT_ORDERING = "-probability"
# Both follow the customer_score_rank index (model, -probability, customer), read either way.
SCORE_ORDERINGS = {
    "-probability": (F("probability").desc(), F("customer_id").asc()),
    "probability": (F("probability").asc(), F("customer_id").desc()),
}


@dataclass(frozen=True)
class ScoreFilter:
    """What a score list is narrowed to; empty values do not filter."""

    min_probability: float | None = None
    owner_id: int | None = None
    team_id: int | None = None
    ordering: str = DEFAULT_ORDERING


def scored_models() -> QuerySet[PredictiveModel]:
    return PredictiveModel.objects.filter(name__in=SCORED_MODEL_NAMES).select_related(
        "active_version"
    )


def score_list_visible(
    *, user: User, model: PredictiveModel, filters: ScoreFilter | None = None
) -> QuerySet[CustomerScore]:
    """The model's scores of customers `user` may see, highest first unless asked otherwise."""
    filters = filters or ScoreFilter()
    visible = records_visible_to(user=user, queryset=Customer.objects.all())
    scores = CustomerScore.objects.filter(model=model, customer__in=visible.values("pk"))
    if filters.min_probability is not None:
        scores = scores.filter(probability__gte=filters.min_probability)
    if filters.owner_id is not None:
        scores = scores.filter(customer__owner_id=filters.owner_id)
    if filters.team_id is not None:
        scores = scores.filter(customer__team_id=filters.team_id)
    ordering = SCORE_ORDERINGS.get(filters.ordering, SCORE_ORDERINGS[DEFAULT_ORDERING])
    return scores.select_related(
        "model", "customer", "customer__owner", "customer__team", "version"
    ).order_by(*ordering)


def customer_scores(*, customer: Customer) -> list[CustomerScore]:
    """The customer's purchase and churn scores, in that order (the caller has checked that the
    user may see the customer)."""
    scores = CustomerScore.objects.filter(
        customer=customer, model__name__in=SCORED_MODEL_NAMES
    ).select_related("model", "version")
    by_name = {score.model.name: score for score in scores}
    return [by_name[name] for name in SCORED_MODEL_NAMES if name in by_name]
