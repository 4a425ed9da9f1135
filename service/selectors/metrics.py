"""Service figures for the dashboard and its API, over the tickets the user may see (the
visibility rule, through ticket_list_visible), narrowed by team, agent (assignee), channel,
service tier and category, for a period of whole days (from and to both included, in the
current time zone).

Definitions (the dashboard shows them too):

- First response time: median and 90th percentile of `first_response_seconds` (business
  seconds) over the tickets created in the period that have had a first response.
- Resolution time: median and 90th percentile of `resolution_seconds` over the tickets resolved
  in the period.
- Percentiles are PostgreSQL's percentile_cont: linear interpolation between the two values
  around rank p × (n − 1). Elsewhere (SQLite) the same interpolation is computed from the one or
  two values at that rank, fetched with OFFSET.
- SLA compliance: among the tickets whose due time falls in the period and is already settled
  (the due time has passed, or the ticket was responded to / is resolved or closed), the share
  that was not breached (`first_response_breached`, `resolution_breached`).
- Backlog: tickets open now (new, open, pending), whatever the period, by age since creation.
- Reopen rate: tickets resolved in the period that had been reopened at least once, over the
  tickets resolved in the period.
- Satisfaction: surveys sent in the period; response rate = answered / sent; average rating of
  the answered ones.
- Trend, per day (periods up to 92 days) or per ISO week: tickets created, tickets resolved,
  median first response time of the tickets created, surveys answered and their average rating
  (by the day the survey was sent).

Every figure is aggregated in SQL; a dashboard costs the same handful of queries whatever the
number of tickets.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DateField,
    F,
    FloatField,
    Min,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.functions import RowNumber, TruncDay, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.accounts.field_security import field_access
from crm.accounts.models import Team, User
from crm.accounts.selectors import user_is_admin, user_team_ids
from crm.cache import FIGURES_SECONDS, user_figures_key
from service.models import Ticket, TicketCategory
from service.selectors.tickets import ticket_list_visible

DEFAULT_DAYS = 30
MAX_DAYS = 731
DAILY_UP_TO_DAYS = 92
GRANULARITY_DAY = "day"
GRANULARITY_WEEK = "week"
SECONDS_PER_HOUR = 3600
DONE_STATUSES = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)
# Backlog age buckets: (key, label, older than, at most) in days since creation.
AGE_BUCKETS = (
    ("under_1d", gettext_lazy("Under 1 day"), 0, 1),
    ("1d_3d", gettext_lazy("1–3 days"), 1, 3),
    ("3d_7d", gettext_lazy("3–7 days"), 3, 7),
    ("over_7d", gettext_lazy("Over 7 days"), 7, None),
)


class Percentile(Aggregate):
    """PostgreSQL's ordered-set aggregate: the continuous percentile of the expression."""

    function = "PERCENTILE_CONT"
    name = "Percentile"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, *, percentile: float, **extra):
        if not 0 <= percentile <= 1:
            raise ValueError("percentile must lie between 0 and 1")
        super().__init__(expression, percentile=repr(float(percentile)), **extra)


@dataclass(frozen=True)
class MetricsScope:
    """Whose tickets, over which days (`start` to `end`, both included), narrowed how."""

    user: User
    start: date
    end: date
    team: Team | None = None
    agent: User | None = None
    channel: str = ""
    tier: str = ""
    category: TicketCategory | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(_("The period ends before it starts."))
        if (self.end - self.start).days + 1 > MAX_DAYS:
            raise ValueError(_("A period covers at most %(days)s days.") % {"days": MAX_DAYS})

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    @property
    def granularity(self) -> str:
        days = (self.end - self.start).days + 1
        return GRANULARITY_DAY if days <= DAILY_UP_TO_DAYS else GRANULARITY_WEEK


def metrics_default_period(*, today: date | None = None) -> tuple[date, date]:
    """The last 30 days, today included."""
    today = today or timezone.localdate()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def metrics_teams_for(*, user: User) -> QuerySet[Team]:
    """The teams a user may narrow the figures to: those whose tickets they see."""
    teams = Team.objects.order_by("name")
    return teams if user_is_admin(user) else teams.filter(pk__in=user_team_ids(user))


def metrics_agents_for(*, user: User) -> QuerySet[User]:
    """The assignees a user may narrow the figures to: themselves and their teams' members."""
    users = User.objects.filter(is_active=True).order_by("username")
    if user_is_admin(user):
        return users
    return users.filter(
        Q(pk=user.pk) | Q(team_memberships__team_id__in=user_team_ids(user))
    ).distinct()


@dataclass(frozen=True)
class Timing:
    """Percentiles of a duration, in hours (None when there is nothing to measure)."""

    count: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def percent(self) -> float | None:
        if not self.denominator:
            return None
        return round(100 * self.numerator / self.denominator, 1)


@dataclass(frozen=True)
class AgeBucket:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class TrendPoint:
    period: date
    created: int = 0
    resolved: int = 0
    first_response_median_hours: float | None = None
    surveys_answered: int = 0
    csat_average: float | None = None


@dataclass(frozen=True)
class ServiceMetrics:
    scope: MetricsScope
    created: int
    first_response: Timing
    resolution: Timing
    first_response_sla: Rate
    resolution_sla: Rate
    backlog: int
    backlog_ages: list[AgeBucket]
    oldest_open_at: datetime | None
    reopen: Rate
    surveys: Rate
    csat_average: float | None
    trend: list[TrendPoint] = field(default_factory=list)
    # Field rules hide the ratings from the scope's user: the satisfaction figures are blank.
    csat_hidden: bool = False

    @property
    def granularity(self) -> str:
        return self.scope.granularity


# Querysets ---------------------------------------------------------------------------------------


def _tickets(scope: MetricsScope) -> QuerySet[Ticket]:
    tickets = ticket_list_visible(user=scope.user)
    if scope.team is not None:
        tickets = tickets.filter(team=scope.team)
    if scope.agent is not None:
        tickets = tickets.filter(assignee=scope.agent)
    if scope.channel:
        tickets = tickets.filter(channel=scope.channel)
    if scope.tier:
        tickets = tickets.filter(customer__tier=scope.tier)
    if scope.category is not None:
        tickets = tickets.filter(category=scope.category)
    # Aggregates need neither the joins of select_related nor the default ordering.
    return tickets.select_related(None).order_by()


def _in_period(scope: MetricsScope, name: str) -> Q:
    return Q(**{f"{name}__gte": scope.start_at, f"{name}__lt": scope.end_at})


def _conditions(scope: MetricsScope, now: datetime) -> dict[str, Q]:
    open_now = Q(status__in=Ticket.OPEN_STATUSES)
    response_settled = _in_period(scope, "first_response_due_at") & (
        Q(first_response_due_at__lte=now) | Q(first_responded_at__isnull=False)
    )
    resolution_settled = _in_period(scope, "resolution_due_at") & (
        Q(resolution_due_at__lte=now) | Q(status__in=DONE_STATUSES)
    )
    resolved = _in_period(scope, "resolved_at")
    created = _in_period(scope, "created_at")
    return {
        "created": created,
        "responded": created & Q(first_response_seconds__isnull=False),
        "resolved": resolved,
        "resolution_timed": resolved & Q(resolution_seconds__isnull=False),
        "reopened": resolved & Q(reopened_count__gt=0),
        "response_due": response_settled,
        "response_met": response_settled & Q(first_response_breached=False),
        "resolution_due": resolution_settled,
        "resolution_met": resolution_settled & Q(resolution_breached=False),
        "open": open_now,
    }


def _age_condition(now: datetime, older_than: int, at_most: int | None) -> Q:
    condition = Q(status__in=Ticket.OPEN_STATUSES)
    if older_than:
        condition &= Q(created_at__lte=now - timedelta(days=older_than))
    if at_most is not None:
        condition &= Q(created_at__gt=now - timedelta(days=at_most))
    return condition


def _uses_percentile_cont() -> bool:
    return connection.vendor == "postgresql"


# Percentiles -------------------------------------------------------------------------------------


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / SECONDS_PER_HOUR, 2)


def _percentile_by_offset(
    queryset: QuerySet, *, field_name: str, count: int, percentile: float
) -> float | None:
    """percentile_cont computed from the one or two ordered values at its rank (one query)."""
    if not count:
        return None
    rank = percentile * (count - 1)
    low = math.floor(rank)
    high = math.ceil(rank)
    values = list(queryset.order_by(field_name).values_list(field_name, flat=True)[low : high + 1])
    if high == low:
        return float(values[0])
    return values[0] + (rank - low) * (values[1] - values[0])


# Figures -----------------------------------------------------------------------------------------

TIMINGS = {
    # name: (field, condition name)
    "first_response": ("first_response_seconds", "responded"),
    "resolution": ("resolution_seconds", "resolution_timed"),
}


def _summary(scope: MetricsScope, tickets: QuerySet[Ticket], now: datetime) -> dict:
    conditions = _conditions(scope, now)
    aggregates = {name: Count("pk", filter=condition) for name, condition in conditions.items()}
    for key, _label, older_than, at_most in AGE_BUCKETS:
        aggregates[f"age_{key}"] = Count("pk", filter=_age_condition(now, older_than, at_most))
    aggregates["oldest_open_at"] = Min("created_at", filter=conditions["open"])
    if _uses_percentile_cont():
        for name, (field_name, condition) in TIMINGS.items():
            for label, percentile in (("median", 0.5), ("p90", 0.9)):
                aggregates[f"{name}_{label}"] = Percentile(
                    field_name, percentile=percentile, filter=conditions[condition]
                )
    # Only rows that count for some figure are read: each of these has an index to serve it.
    summary = tickets.filter(
        _in_period(scope, "created_at")
        | _in_period(scope, "resolved_at")
        | _in_period(scope, "first_response_due_at")
        | _in_period(scope, "resolution_due_at")
        | conditions["open"]
    ).aggregate(**aggregates)
    if not _uses_percentile_cont():
        for name, (field_name, condition) in TIMINGS.items():
            measured = tickets.filter(conditions[condition])
            for label, percentile in (("median", 0.5), ("p90", 0.9)):
                summary[f"{name}_{label}"] = _percentile_by_offset(
                    measured,
                    field_name=field_name,
                    count=summary[condition],
                    percentile=percentile,
                )
    return summary


def _bucket(scope: MetricsScope, name: str):
    trunc = TruncDay if scope.granularity == GRANULARITY_DAY else TruncWeek
    return trunc(name, output_field=DateField())


def _bucket_starts(scope: MetricsScope) -> list[date]:
    if scope.granularity == GRANULARITY_DAY:
        first, step = scope.start, timedelta(days=1)
    else:
        first, step = scope.start - timedelta(days=scope.start.weekday()), timedelta(weeks=1)
    starts = []
    day = first
    while day <= scope.end:
        starts.append(day)
        day += step
    return starts


def _created_trend(scope: MetricsScope, tickets: QuerySet[Ticket]) -> dict[date, dict]:
    created = tickets.filter(_in_period(scope, "created_at")).annotate(
        bucket=_bucket(scope, "created_at")
    )
    aggregates = {"created": Count("pk")}
    if _uses_percentile_cont():
        aggregates["response_median"] = Percentile(
            "first_response_seconds",
            percentile=0.5,
            filter=Q(first_response_seconds__isnull=False),
        )
    rows = {row["bucket"]: row for row in created.values("bucket").annotate(**aggregates)}
    if not _uses_percentile_cont():
        for bucket, median in _medians_by_window(scope, created).items():
            rows[bucket]["response_median"] = median
    return rows


def _medians_by_window(scope: MetricsScope, created: QuerySet[Ticket]) -> dict[date, float]:
    """Median first response per bucket without percentile_cont: number the responded tickets
    of each bucket in order and keep the middle one or two (at most two rows per bucket)."""
    middle = (
        created.filter(first_response_seconds__isnull=False)
        .annotate(
            position=Window(
                RowNumber(), partition_by=[F("bucket")], order_by=F("first_response_seconds").asc()
            ),
            size=Window(Count("pk"), partition_by=[F("bucket")]),
        )
        .filter(position__gte=(F("size") + 1) / 2, position__lte=F("size") / 2 + 1)
        .values_list("bucket", "first_response_seconds")
    )
    values: dict[date, list[int]] = {}
    for key, seconds in middle:
        values.setdefault(key, []).append(seconds)
    return {key: sum(pair) / len(pair) for key, pair in values.items()}


def _resolved_trend(scope: MetricsScope, tickets: QuerySet[Ticket]) -> dict[date, int]:
    rows = (
        tickets.filter(_in_period(scope, "resolved_at"))
        .annotate(bucket=_bucket(scope, "resolved_at"))
        .values("bucket")
        .annotate(resolved=Count("pk"))
    )
    return {row["bucket"]: row["resolved"] for row in rows}


def _survey_trend(scope: MetricsScope, tickets: QuerySet[Ticket]) -> dict[date, dict]:
    """Surveys sent, answered and the sum of the ratings per bucket: sums that add up to the
    period's figures, so one query serves both."""
    answered = Q(surveys__answered_at__isnull=False)
    rows = (
        tickets.filter(_in_period(scope, "surveys__sent_at"))
        .annotate(bucket=_bucket(scope, "surveys__sent_at"))
        .values("bucket")
        .annotate(
            sent=Count("surveys"),
            answered=Count("surveys", filter=answered),
            rating_sum=Sum("surveys__rating", filter=answered),
        )
    )
    return {row["bucket"]: row for row in rows}


def _average(total: int | None, count: int) -> float | None:
    return None if not count else round(total / count, 2)


def _trend(
    scope: MetricsScope, tickets: QuerySet[Ticket], surveys: dict[date, dict]
) -> list[TrendPoint]:
    created = _created_trend(scope, tickets)
    resolved = _resolved_trend(scope, tickets)
    ratings_hidden = _ratings_hidden(scope)
    points = []
    for start in _bucket_starts(scope):
        created_row = created.get(start, {})
        survey_row = surveys.get(start, {})
        points.append(
            TrendPoint(
                period=start,
                created=created_row.get("created", 0),
                resolved=resolved.get(start, 0),
                first_response_median_hours=_hours(created_row.get("response_median")),
                surveys_answered=survey_row.get("answered", 0),
                csat_average=None
                if ratings_hidden
                else _average(survey_row.get("rating_sum"), survey_row.get("answered", 0)),
            )
        )
    return points


def _ratings_hidden(scope: MetricsScope) -> bool:
    return not field_access(user=scope.user, model=Ticket).can_see("satisfaction_rating")


def metrics_for(*, scope: MetricsScope, now: datetime | None = None) -> ServiceMetrics:
    """Every figure of the dashboard for `scope` (definitions in this module's docstring)."""
    now = now or timezone.now()
    tickets = _tickets(scope)
    summary = _summary(scope, tickets, now)
    surveys = _survey_trend(scope, tickets)
    sent = sum(row["sent"] for row in surveys.values())
    answered = sum(row["answered"] for row in surveys.values())
    rating_sum = sum(row["rating_sum"] or 0 for row in surveys.values())
    csat_hidden = _ratings_hidden(scope)
    return ServiceMetrics(
        scope=scope,
        created=summary["created"],
        first_response=Timing(
            count=summary["responded"],
            median_hours=_hours(summary["first_response_median"]),
            p90_hours=_hours(summary["first_response_p90"]),
        ),
        resolution=Timing(
            count=summary["resolution_timed"],
            median_hours=_hours(summary["resolution_median"]),
            p90_hours=_hours(summary["resolution_p90"]),
        ),
        first_response_sla=Rate(summary["response_met"], summary["response_due"]),
        resolution_sla=Rate(summary["resolution_met"], summary["resolution_due"]),
        backlog=summary["open"],
        backlog_ages=[
            AgeBucket(key=key, label=str(label), count=summary[f"age_{key}"])
            for key, label, _older, _most in AGE_BUCKETS
        ],
        oldest_open_at=summary["oldest_open_at"],
        reopen=Rate(summary["reopened"], summary["resolved"]),
        surveys=Rate(answered, sent),
        csat_average=None if csat_hidden else _average(rating_sum, answered),
        trend=_trend(scope, tickets, surveys),
        csat_hidden=csat_hidden,
    )


def metrics_cached(*, scope: MetricsScope) -> ServiceMetrics:
    """metrics_for(scope), computed at most once every FIGURES_SECONDS: the dashboard and its API
    show figures up to a minute old, as the analytics dashboards do, instead of reading every
    ticket of the period again on each request."""
    key = user_figures_key(
        "service:metrics",
        user=scope.user,
        parts=(
            scope.start.isoformat(),
            scope.end.isoformat(),
            scope.team.pk if scope.team else "",
            scope.agent.pk if scope.agent else "",
            scope.channel,
            scope.tier,
            scope.category.pk if scope.category else "",
        ),
    )
    return cache.get_or_set(key, lambda: metrics_for(scope=scope), FIGURES_SECONDS)


TREND_COLUMNS = (
    ("period", gettext_lazy("Period starting")),
    ("created", gettext_lazy("Created")),
    ("resolved", gettext_lazy("Resolved")),
    ("first_response_median_hours", gettext_lazy("Median first response (hours)")),
    ("surveys_answered", gettext_lazy("Surveys answered")),
    ("csat_average", gettext_lazy("Average rating")),
)


def metrics_trend(*, scope: MetricsScope) -> list[TrendPoint]:
    """Only the trend of `scope`, one point per day or week (for the CSV download)."""
    tickets = _tickets(scope)
    return _trend(scope, tickets, _survey_trend(scope, tickets))


def metrics_trend_cells(trend: list[TrendPoint]) -> Iterator[list]:
    """The trend table's header, then one list of plain cells per period (for CSV)."""
    yield [str(label) for _key, label in TREND_COLUMNS]
    for point in trend:
        cells = [getattr(point, key) for key, _label in TREND_COLUMNS]
        yield ["" if cell is None else cell for cell in cells]
