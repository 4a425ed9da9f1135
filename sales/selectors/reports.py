"""Sales reports over a range of periods, each in one grouped query over the deals the user may
see (the visibility rule), optionally narrowed to a rep, a team or a pipeline, and grouped by rep
(deal owner), team (deal team), period (month or quarter, as the range is written) or not at all.

Definitions (the reports page shows them too):

- Outcomes: among the deals closed (won or lost) within the range, Won and Lost counts; win rate
  = won / (won + lost); won amount; average deal size = average won amount; average sales cycle
  = average of (closed_at - created_at) in days over the won deals.
- Funnel: for each open stage of a pipeline, Reached = the deals that entered the stage within
  the range (from their stage history); Went on = those of them that later entered a later open
  stage (higher position) or a won stage, at any time; conversion = went on / reached. A deal
  created straight into a later stage reached only that stage; a deal lost from a stage did not
  go on.
- Time in stage: for each stage left within the range, how many moves left it and the average
  time the deal had spent in it (DealStageChange.seconds_in_from_stage), in days.
- Lost reasons: among the deals lost within the range, the count and amount by lost reason.

Amounts are summed as they are, whatever their currency: there is no conversion (a known
limitation). A report's size depends on the number of reps, teams, periods and stages, never on
the number of deals.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth, TruncQuarter
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.accounts.field_security import field_access
from crm.accounts.models import Team, User
from crm.accounts.selectors import user_is_admin, user_team_ids
from sales.models import Deal, DealStageChange, Pipeline, SalesTarget, Stage
from sales.selectors.deals import deal_list_visible, stage_change_list_visible
from sales.selectors.forecasts import (
    CENT,
    MONEY,
    ZERO,
    Period,
    percent_of,
)

GROUP_NONE = ""
GROUP_REP = "rep"
GROUP_TEAM = "team"
GROUP_PERIOD = "period"
REPORT_GROUPS = {
    GROUP_NONE: gettext_lazy("Nothing (totals only)"),
    GROUP_REP: gettext_lazy("Rep"),
    GROUP_TEAM: gettext_lazy("Team"),
    GROUP_PERIOD: gettext_lazy("Period"),
}

# Reports group by period at most this many months, so a report stays a page long.
MAX_RANGE_MONTHS = 36
SECONDS_PER_DAY = Decimal(86400)
ONE_DECIMAL = Decimal("0.1")


@dataclass(frozen=True)
class ReportScope:
    """Whose deals, over which periods (`start` to `end`, both included), grouped how."""

    user: User
    start: Period
    end: Period
    owner: User | None = None
    team: Team | None = None
    pipeline: Pipeline | None = None
    group: str = GROUP_NONE

    def __post_init__(self) -> None:
        if self.group not in REPORT_GROUPS:
            raise ValueError(_("Unknown grouping “%(group)s”.") % {"group": self.group})
        if self.end.end <= self.start.start:
            raise ValueError(_("The range ends before it starts."))
        months = (self.end.end.year - self.start.start.year) * 12 + (
            self.end.end.month - self.start.start.month
        )
        if months > MAX_RANGE_MONTHS:
            raise ValueError(
                _("A report covers at most %(months)s months.") % {"months": MAX_RANGE_MONTHS}
            )

    @property
    def start_at(self):
        return self.start.start_at

    @property
    def end_at(self):
        return self.end.end_at


@dataclass(frozen=True)
class ReportColumn:
    key: str
    label: str | Promise
    # text, count, money, percent or days: how the page aligns and formats the cell.
    kind: str = "text"


@dataclass
class Report:
    name: str
    title: str | Promise
    help: str | Promise
    columns: list[ReportColumn]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def table(self) -> list[list[tuple[Any, str]]]:
        """Each row's cells in column order, with the column's kind (for the page)."""
        return [[(row[column.key], column.kind) for column in self.columns] for row in self.rows]


def report_teams_for(*, user: User) -> QuerySet[Team]:
    """The teams a user may narrow reports to: those whose deals they see."""
    teams = Team.objects.order_by("name")
    return teams if user_is_admin(user) else teams.filter(pk__in=user_team_ids(user))


def report_reps_for(*, user: User) -> QuerySet[User]:
    """The reps a user may narrow reports to: themselves and the members of their teams."""
    users = User.objects.filter(is_active=True).order_by("username")
    if user_is_admin(user):
        return users
    return users.filter(
        Q(pk=user.pk) | Q(team_memberships__team_id__in=user_team_ids(user))
    ).distinct()


# Grouping ----------------------------------------------------------------------------------------


def _group_column(scope: ReportScope) -> list[ReportColumn]:
    if scope.group == GROUP_NONE:
        return []
    return [ReportColumn(key="group", label=REPORT_GROUPS[scope.group])]


def _group_expression(scope: ReportScope, *, prefix: str, date_field: str):
    if scope.group == GROUP_REP:
        return F(f"{prefix}owner_id")
    if scope.group == GROUP_TEAM:
        return F(f"{prefix}team_id")
    trunc = TruncQuarter if scope.start.kind == SalesTarget.Period.QUARTER else TruncMonth
    return trunc(date_field, output_field=DateField())


def _grouped(queryset: QuerySet, scope: ReportScope, *, prefix: str, date_field: str, by=()):
    """`queryset` as values grouped by the scope's grouping (as `group_key`) and `by`; None when
    there is nothing to group by (the caller aggregates the whole queryset)."""
    if scope.group == GROUP_NONE:
        return queryset.order_by().values(*by) if by else None
    expression = _group_expression(scope, prefix=prefix, date_field=date_field)
    return queryset.annotate(group_key=expression).order_by().values("group_key", *by)


def _group_labels(scope: ReportScope, keys) -> dict[Any, str]:
    keys = set(keys)
    if scope.group == GROUP_REP:
        names = User.objects.in_bulk([key for key in keys if key is not None])
        return {key: str(names[key]) if key in names else _("No owner") for key in keys}
    if scope.group == GROUP_TEAM:
        names = Team.objects.in_bulk([key for key in keys if key is not None])
        return {key: str(names[key]) if key in names else _("No team") for key in keys}
    if scope.group == GROUP_PERIOD:
        return {key: Period(kind=scope.start.kind, start=key).key for key in keys}
    return dict.fromkeys(keys, "")


def _group_sort_key(scope: ReportScope, key, label: str):
    if scope.group == GROUP_PERIOD:
        return (key or date.min,)
    return (key is None, label.lower())


# Scopes ------------------------------------------------------------------------------------------


def _deals(scope: ReportScope) -> QuerySet[Deal]:
    deals = deal_list_visible(user=scope.user)
    if scope.owner is not None:
        deals = deals.filter(owner=scope.owner)
    if scope.team is not None:
        deals = deals.filter(team=scope.team)
    if scope.pipeline is not None:
        deals = deals.filter(pipeline=scope.pipeline)
    return deals


def _stage_changes(scope: ReportScope) -> QuerySet[DealStageChange]:
    changes = stage_change_list_visible(user=scope.user).filter(
        changed_at__gte=scope.start_at, changed_at__lt=scope.end_at
    )
    if scope.owner is not None:
        changes = changes.filter(deal__owner=scope.owner)
    if scope.team is not None:
        changes = changes.filter(deal__team=scope.team)
    return changes


def _closed_in_range(scope: ReportScope) -> Q:
    return Q(closed_at__gte=scope.start_at, closed_at__lt=scope.end_at)


def _days(value: timedelta | Decimal | float | None) -> Decimal | None:
    if value is None:
        return None
    seconds = Decimal(value.total_seconds() if isinstance(value, timedelta) else value)
    return (seconds / SECONDS_PER_DAY).quantize(ONE_DECIMAL)


def _money(value) -> Decimal:
    return ZERO if value is None else Decimal(value).quantize(CENT)


# Reports -----------------------------------------------------------------------------------------


def report_outcomes(scope: ReportScope) -> Report:
    won = Q(stage__kind=Stage.Kind.WON)
    cycle = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
    aggregates = {
        "won": Count("pk", filter=won),
        "lost": Count("pk", filter=Q(stage__kind=Stage.Kind.LOST)),
        "won_amount": Coalesce(Sum("amount", filter=won), Value(ZERO), output_field=MONEY),
        "average_size": Avg("amount", filter=won, output_field=MONEY),
        "average_cycle": Avg(cycle, filter=won),
    }
    deals = _deals(scope).filter(
        _closed_in_range(scope), stage__kind__in=[Stage.Kind.WON, Stage.Kind.LOST]
    )
    grouped = _grouped(deals, scope, prefix="", date_field="closed_at")
    results = (
        [{"group_key": None, **deals.aggregate(**aggregates)}]
        if grouped is None
        else list(grouped.annotate(**aggregates))
    )
    labels = _group_labels(scope, (result["group_key"] for result in results))
    rows = []
    for result in results:
        label = labels[result["group_key"]]
        rows.append(
            {
                "sort": _group_sort_key(scope, result["group_key"], label),
                "group": label,
                "won": result["won"],
                "lost": result["lost"],
                "win_rate": percent_of(result["won"], result["won"] + result["lost"]),
                "won_amount": _money(result["won_amount"]),
                "average_size": (
                    None if result["average_size"] is None else _money(result["average_size"])
                ),
                "average_cycle_days": _days(result["average_cycle"]),
            }
        )
    return Report(
        name="outcomes",
        title=gettext_lazy("Win rate, deal size and sales cycle"),
        help=gettext_lazy(
            "Deals closed (won or lost) in the range. Win rate = won / (won + lost); average deal "
            "size = average won amount; sales cycle = average days from creation to close of "
            "the won deals."
        ),
        columns=[
            *_group_column(scope),
            ReportColumn("won", gettext_lazy("Won"), "count"),
            ReportColumn("lost", gettext_lazy("Lost"), "count"),
            ReportColumn("win_rate", gettext_lazy("Win rate (%)"), "percent"),
            ReportColumn("won_amount", gettext_lazy("Won amount"), "money"),
            ReportColumn("average_size", gettext_lazy("Average deal size"), "money"),
            ReportColumn("average_cycle_days", gettext_lazy("Average sales cycle (days)"), "days"),
        ],
        rows=_sorted(rows),
    )


def _funnel_pipeline(scope: ReportScope) -> Pipeline | None:
    if scope.pipeline is not None:
        return scope.pipeline
    return Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()


def report_funnel(scope: ReportScope) -> Report:
    pipeline = _funnel_pipeline(scope)
    stages = (
        list(pipeline.stages.filter(kind=Stage.Kind.OPEN).order_by("position", "pk"))
        if pipeline is not None
        else []
    )
    # A later entry (by time) of the same deal into a later open stage or a won stage.
    went_on = Exists(
        DealStageChange.objects.filter(
            deal_id=OuterRef("deal_id"),
            changed_at__gte=OuterRef("changed_at"),
            to_stage__pipeline_id=OuterRef("to_stage__pipeline_id"),
        )
        .filter(
            Q(to_stage__kind=Stage.Kind.WON)
            | Q(
                to_stage__kind=Stage.Kind.OPEN,
                to_stage__position__gt=OuterRef("to_stage__position"),
            )
        )
        .exclude(pk=OuterRef("pk"))
    )
    changes = _stage_changes(scope).filter(to_stage__in=stages).annotate(went_on=went_on)
    grouped = _grouped(
        changes, scope, prefix="deal__", date_field="changed_at", by=("to_stage_id",)
    )
    results = list(
        grouped.annotate(
            reached=Count("deal_id", distinct=True),
            went_on_count=Count("deal_id", distinct=True, filter=Q(went_on=True)),
        )
    )
    found = {(result.get("group_key"), result["to_stage_id"]): result for result in results}
    # Without grouping every open stage shows, the empty ones at zero.
    keys = [(None, stage.pk) for stage in stages] if scope.group == GROUP_NONE else list(found)
    labels = _group_labels(scope, (group_key for group_key, _stage in keys))
    stage_by_id = {stage.pk: stage for stage in stages}
    rows = []
    for group_key, stage_id in keys:
        result = found.get((group_key, stage_id), {"reached": 0, "went_on_count": 0})
        stage = stage_by_id[stage_id]
        label = labels[group_key]
        rows.append(
            {
                "sort": (*_group_sort_key(scope, group_key, label), stage.position, stage.pk),
                "group": label,
                "stage": stage.name,
                "reached": result["reached"],
                "went_on": result["went_on_count"],
                "conversion": percent_of(result["went_on_count"], result["reached"]),
            }
        )
    return Report(
        name="funnel",
        title=(
            gettext_lazy("Stage funnel: %(pipeline)s") % {"pipeline": pipeline.name}
            if pipeline is not None
            else gettext_lazy("Stage funnel")
        ),
        help=gettext_lazy(
            "Reached: deals that entered the stage in the range. Went on: those of them that "
            "later entered a later open stage or were won. Conversion = went on / reached."
        ),
        columns=[
            *_group_column(scope),
            ReportColumn("stage", gettext_lazy("Stage")),
            ReportColumn("reached", gettext_lazy("Reached"), "count"),
            ReportColumn("went_on", gettext_lazy("Went on"), "count"),
            ReportColumn("conversion", gettext_lazy("Conversion (%)"), "percent"),
        ],
        rows=_sorted(rows),
    )


def report_time_in_stage(scope: ReportScope) -> Report:
    changes = _stage_changes(scope).filter(
        from_stage__isnull=False, seconds_in_from_stage__isnull=False
    )
    if scope.pipeline is not None:
        changes = changes.filter(from_stage__pipeline=scope.pipeline)
    by = (
        "from_stage_id",
        "from_stage__name",
        "from_stage__position",
        "from_stage__pipeline__name",
        "from_stage__pipeline__position",
    )
    grouped = _grouped(changes, scope, prefix="deal__", date_field="changed_at", by=by)
    results = list(
        grouped.annotate(moves=Count("pk"), average_seconds=Avg("seconds_in_from_stage"))
    )
    labels = _group_labels(scope, (result.get("group_key") for result in results))
    rows = []
    for result in results:
        group_key = result.get("group_key")
        label = labels[group_key]
        rows.append(
            {
                "sort": (
                    *_group_sort_key(scope, group_key, label),
                    result["from_stage__pipeline__position"],
                    result["from_stage__pipeline__name"],
                    result["from_stage__position"],
                    result["from_stage_id"],
                ),
                "group": label,
                "stage": f"{result['from_stage__pipeline__name']} / {result['from_stage__name']}",
                "moves": result["moves"],
                "average_days": _days(result["average_seconds"]),
            }
        )
    return Report(
        name="time_in_stage",
        title=gettext_lazy("Time in stage"),
        help=gettext_lazy(
            "Moves out of each stage in the range, and the average time the deal had spent in "
            "the stage before the move."
        ),
        columns=[
            *_group_column(scope),
            ReportColumn("stage", gettext_lazy("Stage")),
            ReportColumn("moves", gettext_lazy("Moves out"), "count"),
            ReportColumn("average_days", gettext_lazy("Average days in stage"), "days"),
        ],
        rows=_sorted(rows),
    )


def report_lost_reasons(scope: ReportScope) -> Report:
    deals = _deals(scope).filter(_closed_in_range(scope), stage__kind=Stage.Kind.LOST)
    grouped = _grouped(deals, scope, prefix="", date_field="closed_at", by=("lost_reason",))
    results = list(
        grouped.annotate(
            deals=Count("pk"),
            amount=Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY),
        )
    )
    labels = _group_labels(scope, (result.get("group_key") for result in results))
    reasons = dict(Deal.LostReason.choices)
    order = {value: index for index, value in enumerate(Deal.LostReason.values)}
    rows = []
    for result in results:
        group_key = result.get("group_key")
        label = labels[group_key]
        reason = result["lost_reason"]
        rows.append(
            {
                "sort": (
                    *_group_sort_key(scope, group_key, label),
                    -result["deals"],
                    order.get(reason, len(order)),
                ),
                "group": label,
                "reason": str(reasons.get(reason, _("Not given"))),
                "deals": result["deals"],
                "amount": _money(result["amount"]),
            }
        )
    return Report(
        name="lost_reasons",
        title=gettext_lazy("Lost reasons"),
        help=gettext_lazy("Deals lost in the range, counted and summed by the reason given."),
        columns=[
            *_group_column(scope),
            ReportColumn("reason", gettext_lazy("Reason")),
            ReportColumn("deals", gettext_lazy("Deals"), "count"),
            ReportColumn("amount", gettext_lazy("Amount"), "money"),
        ],
        rows=_sorted(rows),
    )


def _sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows.sort(key=lambda row: row["sort"])
    for row in rows:
        del row["sort"]
    return rows


REPORTS: dict[str, Callable[[ReportScope], Report]] = {
    "outcomes": report_outcomes,
    "funnel": report_funnel,
    "time_in_stage": report_time_in_stage,
    "lost_reasons": report_lost_reasons,
}


def report_build(*, name: str, scope: ReportScope) -> Report:
    """The report called `name`; KeyError for an unknown name. Its money columns are sums of
    deal amounts, left out when field rules hide the amount from the scope's user."""
    report = REPORTS[name](scope)
    if not field_access(user=scope.user, model=Deal).can_see("amount"):
        report.columns = [column for column in report.columns if column.kind != "money"]
    return report


def report_cells(report: Report) -> Iterator[list[Any]]:
    """The header, then one list of plain cell values per row (for CSV and JSON alike)."""
    yield [str(column.label) for column in report.columns]
    for row in report.rows:
        yield ["" if row[column.key] is None else row[column.key] for column in report.columns]
