"""Periods, sales targets with their attainment, and the forecast.

Definitions (the pages show them as help text too):

- Period: a calendar month (``2026-11``) or quarter (``2026-Q4``) in the server's time zone. A
  target's ``period_start`` is the first day of its month or quarter. Pages and the API read it
  from ``?period=``; without one, the current month.
- Attainment of a target: the amount of the won deals (stage kind won) closed within the
  target's period, owned by the rep (``deal.owner``) for a rep's target or belonging to the team
  (``deal.team``) for a team's target, divided by the target amount.
- Forecast for a period, per rep (deal owner) and per team (deal team):
  Won: won deals closed in the period.
  Commit: open deals in forecast category commit expected to close in the period.
  Best case: Commit plus the open best-case deals expected to close in the period.
  Weighted: the amount × stage probability / 100 of the open deals expected to close in the
  period, omitted ones left out.
  Pipeline: the amount of the open deals expected to close in the period, omitted ones left out.
  Projected: Won + Commit, compared with the target (as a percentage and as the gap left).

Only the deals the user may see count (the visibility rule, through ``deal_list_visible``): a
rep's figures cover their own deals and their teams', a manager's the teams they manage. Every
figure is summed in the database in one grouped query; nothing loops over deals.

Amounts are summed as they are, whatever their currency: there is no conversion (a known
limitation; keep a team's deals and targets in one currency).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import (
    Case,
    DateField,
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth, TruncQuarter
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from crm.accounts.models import Team, User
from crm.accounts.selectors import records_visible_to, user_is_admin
from sales.models import Deal, SalesTarget, Stage
from sales.selectors.deals import deal_list_visible

MONEY = DecimalField(max_digits=18, decimal_places=2)
ZERO = Decimal("0.00")
CENT = Decimal("0.01")

GROUP_REP = "rep"
GROUP_TEAM = "team"
FORECAST_GROUPS = (GROUP_REP, GROUP_TEAM)


# Periods -----------------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """A calendar month or quarter; `start` is its first day, `end` the first day after it."""

    kind: str
    start: date

    @property
    def months(self) -> int:
        return 3 if self.kind == SalesTarget.Period.QUARTER else 1

    @property
    def end(self) -> date:
        return _add_months(self.start, self.months)

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end, time.min))

    @property
    def quarter(self) -> int:
        return (self.start.month - 1) // 3 + 1

    @property
    def key(self) -> str:
        """How the period is written in a query string: 2026-11 or 2026-Q4."""
        if self.kind == SalesTarget.Period.QUARTER:
            return f"{self.start.year}-Q{self.quarter}"
        return f"{self.start:%Y-%m}"

    @property
    def label(self) -> str:
        if self.kind == SalesTarget.Period.QUARTER:
            return _("Q%(quarter)s %(year)s") % {"quarter": self.quarter, "year": self.start.year}
        return formats.date_format(self.start, "YEAR_MONTH_FORMAT")

    def previous(self) -> "Period":
        return Period(kind=self.kind, start=_add_months(self.start, -self.months))

    def next(self) -> "Period":
        return Period(kind=self.kind, start=self.end)

    def __str__(self) -> str:
        return self.key


def period_containing(day: date, *, kind: str = SalesTarget.Period.MONTH) -> Period:
    if kind == SalesTarget.Period.QUARTER:
        return Period(kind=kind, start=date(day.year, (day.month - 1) // 3 * 3 + 1, 1))
    return Period(kind=SalesTarget.Period.MONTH, start=day.replace(day=1))


def period_current(*, kind: str = SalesTarget.Period.MONTH) -> Period:
    return period_containing(timezone.localdate(), kind=kind)


def period_parse(value: str) -> Period:
    """2026-11 (a month) or 2026-Q4 (a quarter); ValueError with a message for people otherwise."""
    text = (value or "").strip().upper()
    year, _dash, rest = text.partition("-")
    message = _("“%(value)s” is not a period: write a month as 2026-11 or a quarter as 2026-Q4.")
    if not (year.isdigit() and len(year) == 4 and 1900 <= int(year) <= 9999):
        raise ValueError(message % {"value": value})
    if rest.startswith("Q") and rest[1:].isdigit() and 1 <= int(rest[1:]) <= 4:
        first_month = (int(rest[1:]) - 1) * 3 + 1
        return Period(kind=SalesTarget.Period.QUARTER, start=date(int(year), first_month, 1))
    if rest.isdigit() and len(rest) <= 2 and 1 <= int(rest) <= 12:
        return Period(kind=SalesTarget.Period.MONTH, start=date(int(year), int(rest), 1))
    raise ValueError(message % {"value": value})


def period_of_target(target: SalesTarget) -> Period:
    return Period(kind=target.period, start=target.period_start)


def period_start_is_valid(*, kind: str, start: date) -> bool:
    """Whether `start` is the first day of a month (or of a quarter, for a quarter)."""
    return period_containing(start, kind=kind).start == start


def percent_of(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    """`part` as a percentage of `whole`, to one decimal; None when `whole` is empty or zero."""
    if part is None or not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


# Targets -----------------------------------------------------------------------------------------


def _won_total_by_target_period(deals: QuerySet[Deal], trunc) -> Subquery:
    """The won amount of the target's rep (or team) within its period, for one kind of period.

    A target has either an owner or a team, so the other comparison is with NULL and never
    matches."""
    won = (
        deals.filter(stage__kind=Stage.Kind.WON, closed_at__isnull=False)
        .filter(Q(owner_id=OuterRef("owner_id")) | Q(team_id=OuterRef("team_id")))
        .annotate(period_key=trunc("closed_at", output_field=DateField()))
        .filter(period_key=OuterRef("period_start"))
        .order_by()
        .values("period_key")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Subquery(won, output_field=MONEY)


def targets_with_attainment(*, user: User, targets: QuerySet[SalesTarget]) -> QuerySet:
    """`targets` annotated with `attained`: the won amount, in the same query as the targets."""
    deals = deal_list_visible(user=user)
    attained = Case(
        When(
            period=SalesTarget.Period.MONTH,
            then=_won_total_by_target_period(deals, TruncMonth),
        ),
        default=_won_total_by_target_period(deals, TruncQuarter),
        output_field=MONEY,
    )
    return targets.annotate(attained=Coalesce(attained, Value(ZERO), output_field=MONEY))


def target_list_visible(*, user: User, period: Period | None = None) -> QuerySet[SalesTarget]:
    """The targets `user` may see (their own, their teams' and teammates'), with attainment."""
    targets = records_visible_to(user=user, queryset=SalesTarget.objects.all()).select_related(
        "owner", "team"
    )
    if period is not None:
        targets = targets.filter(period=period.kind, period_start=period.start)
    targets = targets.order_by("-period_start", "team__name", "owner__username", "pk")
    return targets_with_attainment(user=user, targets=targets)


def target_get_visible(*, user: User, pk: int) -> SalesTarget:
    """The target if `user` may see it; SalesTarget.DoesNotExist otherwise."""
    return target_list_visible(user=user).get(pk=pk)


def target_teams_manageable(*, user: User) -> QuerySet[Team]:
    """Teams whose targets `user` sets: every team for an admin, the teams a manager manages."""
    teams = Team.objects.order_by("name")
    return teams if user_is_admin(user) else teams.filter(manager=user)


def target_reps_manageable(*, user: User) -> QuerySet[User]:
    """Reps whose targets `user` sets: anyone for an admin, a manager's team members."""
    users = User.objects.filter(is_active=True).order_by("username")
    if user_is_admin(user):
        return users
    return users.filter(team_memberships__team__manager=user).distinct()


def targets_can_manage(*, user: User) -> bool:
    """Whether `user` may set any target at all (pages use it to offer the forms)."""
    if not user.has_perm("sales.add_salestarget"):
        return False
    return user_is_admin(user) or Team.objects.filter(manager=user).exists()


# Forecast ----------------------------------------------------------------------------------------


@dataclass
class ForecastRow:
    key: int | None
    label: str
    won: Decimal = ZERO
    commit: Decimal = ZERO
    best_case: Decimal = ZERO
    weighted: Decimal = ZERO
    pipeline: Decimal = ZERO
    target: Decimal | None = None

    @property
    def projected(self) -> Decimal:
        return self.won + self.commit

    @property
    def projected_percent(self) -> Decimal | None:
        return percent_of(self.projected, self.target)

    @property
    def gap(self) -> Decimal | None:
        """What is left to reach the target (negative when it is beaten)."""
        return None if self.target is None else self.target - self.projected

    @property
    def bar_value(self) -> Decimal:
        return min(self.projected_percent or Decimal("0"), Decimal("100"))


@dataclass
class Forecast:
    period: Period
    group: str
    rows: list[ForecastRow]
    totals: ForecastRow = field(init=False)

    def __post_init__(self) -> None:
        targets = [row.target for row in self.rows if row.target is not None]
        self.totals = ForecastRow(
            key=None,
            label=_("Total"),
            won=sum((row.won for row in self.rows), ZERO),
            commit=sum((row.commit for row in self.rows), ZERO),
            best_case=sum((row.best_case for row in self.rows), ZERO),
            weighted=sum((row.weighted for row in self.rows), ZERO),
            pipeline=sum((row.pipeline for row in self.rows), ZERO),
            target=sum(targets, ZERO) if targets else None,
        )


def _money_sum(condition: Q, value=None) -> Coalesce:
    total = Sum(Case(When(condition, then=value or F("amount")), output_field=MONEY))
    return Coalesce(total, Value(ZERO), output_field=MONEY)


def forecast_totals(*, deals: QuerySet[Deal], period: Period, group: str) -> list[dict]:
    """One row per rep (or team) with Won, Commit, Best case, Weighted and Pipeline: one query."""
    won = Q(stage__kind=Stage.Kind.WON, closed_at__gte=period.start_at, closed_at__lt=period.end_at)
    open_in_period = Q(
        stage__kind=Stage.Kind.OPEN,
        expected_close_date__gte=period.start,
        expected_close_date__lt=period.end,
    )
    counted = open_in_period & ~Q(forecast_category=Deal.ForecastCategory.OMITTED)
    commit = open_in_period & Q(forecast_category=Deal.ForecastCategory.COMMIT)
    best_case = open_in_period & Q(
        forecast_category__in=[Deal.ForecastCategory.COMMIT, Deal.ForecastCategory.BEST_CASE]
    )
    group_field = "owner_id" if group == GROUP_REP else "team_id"
    return list(
        deals.filter(won | open_in_period)
        .order_by()
        .values(group_field)
        .annotate(
            won=_money_sum(won),
            commit=_money_sum(commit),
            best_case=_money_sum(best_case),
            weighted_x100=_money_sum(counted, F("amount") * F("stage__probability")),
            pipeline=_money_sum(counted),
        )
        .values_list(group_field, "won", "commit", "best_case", "weighted_x100", "pipeline")
    )


def forecast_for(*, user: User, period: Period, group: str = GROUP_REP) -> Forecast:
    """The forecast of `period` by rep or by team, over the deals `user` may see, with targets.

    Rows come from the deals and from the targets of the period the user may see, so a rep
    with a target and nothing in the pipeline still shows, at zero."""
    if group not in FORECAST_GROUPS:
        raise ValueError(group)
    totals = forecast_totals(deals=deal_list_visible(user=user), period=period, group=group)
    subject = "owner" if group == GROUP_REP else "team"
    targets = records_visible_to(user=user, queryset=SalesTarget.objects.all()).filter(
        **{f"{subject}__isnull": False}, period=period.kind, period_start=period.start
    )
    target_amounts = dict(targets.values_list(f"{subject}_id", "amount"))
    keys = {row[0] for row in totals} | set(target_amounts)
    model = User if group == GROUP_REP else Team
    names = model.objects.in_bulk([key for key in keys if key is not None])
    nobody = _("No owner") if group == GROUP_REP else _("No team")

    rows = {
        key: ForecastRow(
            key=key,
            label=str(names[key]) if key in names else nobody,
            target=target_amounts.get(key),
        )
        for key in keys
    }
    for key, won, commit, best_case, weighted_x100, pipeline in totals:
        row = rows[key]
        row.won, row.commit, row.best_case, row.pipeline = won, commit, best_case, pipeline
        row.weighted = (Decimal(weighted_x100) / 100).quantize(CENT)
    ordered = sorted(rows.values(), key=lambda row: (row.key is None, row.label.lower()))
    return Forecast(period=period, group=group, rows=ordered)
