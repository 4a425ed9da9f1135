"""Reads of pipelines and deals, every one through the visibility rule.

The board asks for each stage's count and amount in one grouped query and for each column's cards
a page at a time, so it costs the same with a hundred deals or a hundred thousand.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import django_filters
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Team, User
from crm.accounts.selectors import records_visible_to
from sales.models import Deal, DealStageChange, Pipeline, Stage

BOARD_COLUMN_PAGE_SIZE = 20


def pipeline_list_active() -> QuerySet[Pipeline]:
    return Pipeline.objects.filter(is_active=True).order_by("position", "name", "pk")


def pipeline_stages(*, pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.order_by("position", "pk"))


def stage_list() -> QuerySet[Stage]:
    return Stage.objects.select_related("pipeline").order_by("pipeline__position", "position")


def deal_list_visible(*, user: User) -> QuerySet[Deal]:
    return records_visible_to(user=user, queryset=Deal.objects.all()).select_related(
        "customer", "owner", "team", "pipeline", "stage", "campaign", "company"
    )


def deal_get_visible(*, user: User, pk: int) -> Deal:
    """The deal if `user` may see it; Deal.DoesNotExist otherwise."""
    return deal_list_visible(user=user).get(pk=pk)


def stale_condition(*, now: datetime | None = None) -> Q:
    """Open deals that have been in their stage longer than its limit.

    One condition per stage that has a limit (a handful), so each can use the stage index and
    the same condition works on every database."""
    now = now or timezone.now()
    limits = Stage.objects.filter(kind=Stage.Kind.OPEN, stale_after_days__isnull=False)
    condition = Q(pk__in=[])
    for stage_id, days in limits.values_list("pk", "stale_after_days"):
        condition |= Q(stage_id=stage_id, stage_entered_at__lt=now - timedelta(days=days))
    return condition


def deals_stale_unnotified(*, now: datetime) -> QuerySet[Deal]:
    return (
        Deal.objects.filter(stale_condition(now=now), stale_notified_at__isnull=True)
        .select_related("owner", "stage")
        .order_by("pk")
    )


class DealFilter(django_filters.FilterSet):
    """The filters the board, the list and the API share."""

    q = django_filters.CharFilter(method="filter_text", label=_("Search"))
    pipeline = django_filters.ModelChoiceFilter(
        queryset=Pipeline.objects.all(), label=_("Pipeline")
    )
    stage = django_filters.ModelChoiceFilter(queryset=Stage.objects.all(), label=_("Stage"))
    status = django_filters.ChoiceFilter(
        field_name="stage__kind", choices=Stage.Kind.choices, label=_("Status")
    )
    owner = django_filters.ModelChoiceFilter(
        queryset=User.objects.filter(is_active=True), label=_("Owner")
    )
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.all(), label=_("Team"))
    close_from = django_filters.DateFilter(
        field_name="expected_close_date", lookup_expr="gte", label=_("Closing from")
    )
    close_to = django_filters.DateFilter(
        field_name="expected_close_date", lookup_expr="lte", label=_("Closing until")
    )
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    campaign = django_filters.NumberFilter(field_name="campaign_id", label=_("Campaign"))
    forecast_category = django_filters.ChoiceFilter(
        choices=Deal.ForecastCategory.choices, label=_("Forecast category")
    )
    stale = django_filters.BooleanFilter(method="filter_stale", label=_("Stale only"))

    class Meta:
        model = Deal
        fields: list[str] = []

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(customer__name__icontains=value))

    def filter_stale(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(stale_condition()) if value else queryset.exclude(stale_condition())


def deal_list_filtered(*, user: User, params) -> tuple[DealFilter, QuerySet[Deal]]:
    deal_filter = DealFilter(params, queryset=deal_list_visible(user=user))
    return deal_filter, deal_filter.qs


def deals_with_stale_flag(queryset: QuerySet[Deal], *, stale: Q | None = None) -> QuerySet[Deal]:
    """`queryset` with `is_stale` on each deal; pass `stale` to reuse a condition already built."""
    return queryset.annotate(
        is_stale=Case(
            When(stale if stale is not None else stale_condition(), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


@dataclass
class ColumnTotals:
    stage: Stage
    count: int
    total: Decimal
    weighted: Decimal


@dataclass
class BoardColumn(ColumnTotals):
    cards: list[Deal]
    has_more: bool


def board_column_totals(*, deals: QuerySet[Deal], stages: list[Stage]) -> list[ColumnTotals]:
    """Each stage's deal count, amount and weighted amount over `deals`, in one grouped query."""
    money = DecimalField(max_digits=18, decimal_places=2)
    rows = (
        deals.filter(stage__in=stages)
        .order_by()
        .values("stage_id")
        .annotate(count=Count("pk"), total=Coalesce(Sum("amount"), Value(0), output_field=money))
    )
    totals = {row["stage_id"]: (row["count"], row["total"]) for row in rows}
    columns = []
    for stage in stages:
        count, total = totals.get(stage.pk, (0, Decimal("0")))
        weighted = (total * stage.probability / 100).quantize(Decimal("0.01"))
        columns.append(ColumnTotals(stage=stage, count=count, total=total, weighted=weighted))
    return columns


def board_column_cards(
    *,
    deals: QuerySet[Deal],
    stage: Stage,
    offset: int = 0,
    limit: int = BOARD_COLUMN_PAGE_SIZE,
    stale: Q | None = None,
) -> tuple[list[Deal], bool]:
    """One page of a column's cards, soonest expected close first; and whether more follow."""
    # A card shows its customer and owner only; joining every relation the list selector
    # brings costs PostgreSQL more time planning each column's query than running it.
    cards = (
        deals_with_stale_flag(deals.filter(stage=stage), stale=stale)
        .select_related(None)
        .select_related("customer", "owner")
        .order_by(F("expected_close_date").asc(nulls_last=True), "pk")
    )
    page = list(cards[offset : offset + limit + 1])
    return page[:limit], len(page) > limit


def board_columns(*, deals: QuerySet[Deal], pipeline: Pipeline) -> list[BoardColumn]:
    """The board of `pipeline` over `deals` (already visible and filtered)."""
    deals = deals.filter(pipeline=pipeline)
    stale = stale_condition()
    columns = []
    for totals in board_column_totals(deals=deals, stages=pipeline_stages(pipeline=pipeline)):
        cards, has_more = board_column_cards(deals=deals, stage=totals.stage, stale=stale)
        columns.append(BoardColumn(**vars(totals), cards=cards, has_more=has_more))
    return columns


def deal_stage_history(*, deal: Deal) -> QuerySet[DealStageChange]:
    return deal.stage_changes.select_related("from_stage", "to_stage", "changed_by").order_by(
        "changed_at", "pk"
    )


def stage_change_list_visible(*, user: User) -> QuerySet[DealStageChange]:
    return records_visible_to(user=user, queryset=DealStageChange.objects.all()).select_related(
        "deal", "from_stage", "to_stage", "changed_by"
    )
