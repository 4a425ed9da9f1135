"""The figures of the manager dashboard and of a rep's own dashboard, each as a Chart
(analytics.charts) that the page draws, the API returns and the CSV download writes.

Each figure reads only what the user may see: deals through `deal_list_visible`, orders through
`order_list_visible`, tickets through the service metrics (`ticket_list_visible`), customers
through `customer_list_visible`, tasks through `task_list_visible`. The rules that already have a
selector are that selector's (forecast, targets, win rate, funnel, SLA, response times, CSAT);
this module only turns their output into charts. Revenue and top customers are new here:

- Revenue: the total of the orders placed in the period, cancelled and refunded ones left out
  (the rule of a customer's total spend), by week or month, read from the daily rollup
  (analytics.services.rollups, refreshed every ten minutes for the last 35 days and nightly for
  all) plus, live, the orders of customers the user sees only through a share (`customer_reach`).
  Days are those of the site's time zone, the rollup's.
- Top customers: the customers with the highest lifetime spend (`Customer.total_spend`), with
  their revenue and orders in the period beside it.
- At-risk customers: the customers with the highest churn probability (model "churn");
  hottest leads: a rep's own leads and prospects with the highest purchase probability
  (model "purchase").

The team filter narrows deals and tickets by their team and orders and customers by the
customer's team; the owner filter narrows deals by owner, tickets by assignee and orders and
customers by the customer's owner. Every figure is one grouped query or a bounded list, and is
cached for a minute per user and filter (analytics.dashboard_filters).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, DateField, F, Max, Model, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.charts import Chart, Series, chart_fields_hidden, chart_hidden
from analytics.dashboard_filters import (
    GRANULARITY_MONTH,
    DashboardFilter,
    dashboard_cached,
    dashboard_cached_unless,
)
from analytics.models import OrderDailyTotal, PredictiveModel
from analytics.selectors.customer_analytics import customer_analytics_customers
from analytics.services.rollups import (
    order_daily_totals_ensure,
    revenue_orders,
    rollup_time_zone,
)
from collaboration.models import Task
from collaboration.selectors.tasks import task_list_tab
from crm.accounts.models import Team, User
from crm.accounts.selectors import (
    ownership_condition,
    shared_record_ids,
    user_is_admin,
    user_sees_all,
)
from crm.planner import planner_settings
from customers.models import Customer, Order
from customers.selectors.customers import customer_list_visible
from sales.models import Deal, SalesTarget, Stage
from sales.selectors.deals import board_column_totals, deal_list_visible
from sales.selectors.forecasts import (
    GROUP_REP,
    GROUP_TEAM,
    ForecastRow,
    Period,
    forecast_for,
    period_containing,
)
from sales.selectors.reports import (
    GROUP_NONE,
    GROUP_PERIOD,
    ReportScope,
    report_funnel,
    report_outcomes,
)
from service.models import Ticket
from service.selectors.metrics import MetricsScope, ServiceMetrics, metrics_for

TOP_CUSTOMERS = 10
AT_RISK_CUSTOMERS = 10
HOTTEST_LEADS = 10
# The task table's JSON and CSV hold at most this many of the rep's open tasks (the page pages).
TASK_TABLE_LIMIT = 500
CHURN_MODEL = "churn"
PURCHASE_MODEL = "purchase"


# Scopes of the existing selectors ----------------------------------------------------------------


@dataclass(frozen=True)
class _DaysReportScope(ReportScope):
    """A sales report scope over exact days rather than whole months: the report's rules, the
    dashboard's period. Grouping by period still buckets by month."""

    first_day: date | None = None
    last_day: date | None = None

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first_day, time.min))

    @property
    def end_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.last_day + timedelta(days=1), time.min))


def _report_scope(*, user: User, filters: DashboardFilter, group: str) -> ReportScope:
    month = SalesTarget.Period.MONTH
    return _DaysReportScope(
        user=user,
        start=period_containing(filters.period_start, kind=month),
        end=period_containing(filters.period_end, kind=month),
        # The reports filter by these; an unsaved instance with the id is all they need.
        owner=User(pk=filters.owner_id) if filters.owner_id else None,
        team=Team(pk=filters.team_id) if filters.team_id else None,
        group=group,
        first_day=filters.period_start,
        last_day=filters.period_end,
    )


def _service_metrics(*, user: User, filters: DashboardFilter) -> ServiceMetrics:
    """The service figures of the period, computed once for the three service charts."""

    def build() -> ServiceMetrics:
        scope = MetricsScope(
            user=user,
            start=filters.period_start,
            end=filters.period_end,
            team=Team(pk=filters.team_id) if filters.team_id else None,
            agent=User(pk=filters.owner_id) if filters.owner_id else None,
        )
        return metrics_for(scope=scope)

    return dashboard_cached(user=user, filters=filters, name="service_metrics", build=build)


# Buckets -----------------------------------------------------------------------------------------


def _bucket_starts(filters: DashboardFilter) -> list[date]:
    """The first day of each week (Monday) or month the period touches."""
    if filters.granularity == GRANULARITY_MONTH:
        starts, day = [], filters.period_start.replace(day=1)
        while day <= filters.period_end:
            starts.append(day)
            day = (day + timedelta(days=32)).replace(day=1)
        return starts
    day = filters.period_start - timedelta(days=filters.period_start.weekday())
    starts = []
    while day <= filters.period_end:
        starts.append(day)
        day += timedelta(weeks=1)
    return starts


def _bucket_label(filters: DashboardFilter, start: date) -> str:
    return f"{start:%Y-%m}" if filters.granularity == GRANULARITY_MONTH else start.isoformat()


def _months(filters: DashboardFilter) -> list[date]:
    return _bucket_starts(replace(filters, granularity=GRANULARITY_MONTH))


def _period_note(filters: DashboardFilter) -> str:
    return _("%(start)s to %(end)s.") % {
        "start": formats.date_format(filters.period_start, "SHORT_DATE_FORMAT"),
        "end": formats.date_format(filters.period_end, "SHORT_DATE_FORMAT"),
    }


# Sales -------------------------------------------------------------------------------------------


def _deals(*, user: User, filters: DashboardFilter):
    deals = deal_list_visible(user=user).select_related(None)
    if filters.team_id:
        deals = deals.filter(team_id=filters.team_id)
    if filters.owner_id:
        deals = deals.filter(owner_id=filters.owner_id)
    return deals


def chart_pipeline_by_stage(
    *, user: User, filters: DashboardFilter, key: str = "pipeline"
) -> Chart:
    stages = list(
        Stage.objects.filter(kind=Stage.Kind.OPEN, pipeline__is_active=True)
        .select_related("pipeline")
        .order_by("pipeline__position", "pipeline__name", "position", "pk")
    )
    deals = _deals(user=user, filters=filters).filter(
        expected_close_date__gte=filters.period_start,
        expected_close_date__lte=filters.period_end,
    )
    columns = board_column_totals(deals=deals, stages=stages)
    several_pipelines = len({stage.pipeline_id for stage in stages}) > 1
    return Chart(
        key=key,
        title=_("Pipeline by stage"),
        kind="bar",
        labels=[
            f"{column.stage.pipeline.name}: {column.stage.name}"
            if several_pipelines
            else column.stage.name
            for column in columns
        ],
        series=[
            Series(label=_("Amount"), data=[column.total for column in columns]),
            Series(label=_("Weighted amount"), data=[column.weighted for column in columns]),
            Series(
                label=_("Deals"),
                data=[column.count for column in columns],
                kind="line",
                right_axis=True,
            ),
        ],
        x_label=_("Stage"),
        y_label=_("Amount"),
        note=_(
            "Open deals expected to close in the period, by stage; weighted = amount × the "
            "stage's probability."
        )
        + " "
        + _period_note(filters),
    )


def _forecast_period(filters: DashboardFilter) -> Period:
    """The quarter to forecast: the current one when the period includes today, otherwise the
    quarter the period ends in."""
    today = timezone.localdate()
    day = today if filters.period_start <= today <= filters.period_end else filters.period_end
    return period_containing(day, kind=SalesTarget.Period.QUARTER)


def _forecast_chart(*, key: str, title: str, note: str, columns: list[tuple[str, object]]) -> Chart:
    """A forecast chart from (label, ForecastRow) columns."""
    rows = [row for _label, row in columns]
    return Chart(
        key=key,
        title=title,
        kind="bar",
        labels=[label for label, _row in columns],
        series=[
            Series(label=_("Won"), data=[row.won for row in rows]),
            Series(label=_("Commit"), data=[row.commit for row in rows]),
            Series(label=_("Best case"), data=[row.best_case for row in rows]),
            Series(label=_("Target"), data=[row.target for row in rows], kind="line"),
        ],
        y_label=_("Amount"),
        note=note,
        extra={
            "projected_percent": [
                None if row.projected_percent is None else float(row.projected_percent)
                for row in rows
            ]
        },
    )


def chart_forecast(*, user: User, filters: DashboardFilter) -> Chart:
    """Forecast against target by team, or by rep for one owner; one team's row for a team."""
    period = _forecast_period(filters)
    group = GROUP_REP if filters.owner_id else GROUP_TEAM
    forecast = forecast_for(user=user, period=period, group=group)
    wanted = filters.owner_id or filters.team_id
    rows = [row for row in forecast.rows if wanted is None or row.key == wanted]
    return _forecast_chart(
        key="forecast",
        title=_("Forecast against target, %(period)s") % {"period": period.label},
        note=_(
            "Won: won deals closed in the quarter. Commit and best case: open deals expected to "
            "close in it, by forecast category. Target: the quarter's sales target."
        ),
        columns=[(row.label, row) for row in rows],
    )


def chart_win_rate(*, user: User, filters: DashboardFilter) -> Chart:
    report = report_outcomes(_report_scope(user=user, filters=filters, group=GROUP_PERIOD))
    found = {row["group"]: row for row in report.rows}
    labels = [f"{month:%Y-%m}" for month in _months(filters)]
    rows = [found.get(label, {}) for label in labels]
    return Chart(
        key="win_rate",
        title=_("Win rate"),
        kind="bar",
        labels=labels,
        series=[
            Series(label=_("Won"), data=[row.get("won", 0) for row in rows]),
            Series(label=_("Lost"), data=[row.get("lost", 0) for row in rows]),
            Series(
                label=_("Win rate (%)"),
                data=[row.get("win_rate") for row in rows],
                kind="line",
                right_axis=True,
            ),
        ],
        x_label=_("Month"),
        y_label=_("Deals"),
        note=_("Deals closed in the period by month; win rate = won / (won + lost).")
        + " "
        + _period_note(filters),
    )


def chart_funnel(*, user: User, filters: DashboardFilter) -> Chart:
    # The funnel's "went on" test is a subquery per stage change (130,000 a year at a million
    # customers); the planner prices it above jit_above_cost, and compiling the plan then costs
    # more than running it: 0.6-1.3 s with JIT against 0.15-0.45 s without (EXPLAIN ANALYZE on
    # the benchmark's dataset, benchmarks/analytics_dashboards_results.md).
    with planner_settings(jit="off"):
        report = report_funnel(_report_scope(user=user, filters=filters, group=GROUP_NONE))
    return Chart(
        key="funnel",
        title=str(report.title),
        kind="bar",
        labels=[row["stage"] for row in report.rows],
        series=[
            Series(label=_("Reached"), data=[row["reached"] for row in report.rows]),
            Series(label=_("Went on"), data=[row["went_on"] for row in report.rows]),
            Series(
                label=_("Conversion (%)"),
                data=[row["conversion"] for row in report.rows],
                kind="line",
                right_axis=True,
            ),
        ],
        x_label=_("Stage"),
        y_label=_("Deals"),
        note=str(report.help),
    )


# Orders and customers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerReach:
    """The customers a user sees (the rule of crm.accounts.selectors), split for figures rolled
    up by a customer's owner and team:

    - `everyone`: an admin or a holder of "see all customers" sees every customer;
    - otherwise `by_owner_or_team`, a condition on `owner_id` and `team_id` that holds for a
      Customer and for an OrderDailyTotal alike: the user's own, their teams' and their
      teammates' customers (crm.accounts.selectors.ownership_condition, the rule without its
      share branch);
    - and `shared_only`: the customers shared with the user or one of their teams that the
      condition above does not already reach.

    The two parts never overlap, so a figure that adds the rollup rows matching the condition to
    the live orders of `shared_only` counts every visible order once. Their union is exactly
    `customer_list_visible` (tests/analytics/test_dashboards_figures.py checks it)."""

    everyone: bool
    by_owner_or_team: Q
    shared_only: QuerySet[Customer]


def customer_reach(*, user: User) -> CustomerReach:
    if not user.is_authenticated or not user.is_active:
        return CustomerReach(
            everyone=False, by_owner_or_team=Q(pk__in=[]), shared_only=Customer.objects.none()
        )
    if user_is_admin(user) or user_sees_all(user=user, model=Customer):
        return CustomerReach(
            everyone=True, by_owner_or_team=Q(), shared_only=Customer.objects.none()
        )
    by_owner_or_team = ownership_condition(user=user, model=Customer)
    shared_only = Customer.objects.filter(
        pk__in=shared_record_ids(user=user, model=Customer)
    ).exclude(by_owner_or_team)
    return CustomerReach(everyone=False, by_owner_or_team=by_owner_or_team, shared_only=shared_only)


def _period_bounds(filters: DashboardFilter) -> tuple[datetime, datetime]:
    """The period's first moment and the first moment after it, in the rollup's time zone."""
    zone = rollup_time_zone()
    return (
        timezone.make_aware(datetime.combine(filters.period_start, time.min), zone),
        timezone.make_aware(
            datetime.combine(filters.period_end + timedelta(days=1), time.min), zone
        ),
    )


def _rolled_up_totals(
    *, reach: CustomerReach, filters: DashboardFilter
) -> QuerySet[OrderDailyTotal]:
    totals = OrderDailyTotal.objects.order_by().filter(
        day__gte=filters.period_start, day__lte=filters.period_end
    )
    if not reach.everyone:
        totals = totals.filter(reach.by_owner_or_team)
    if filters.team_id:
        totals = totals.filter(team_id=filters.team_id)
    if filters.owner_id:
        totals = totals.filter(owner_id=filters.owner_id)
    return totals


def _shared_only_orders(*, reach: CustomerReach, filters: DashboardFilter) -> QuerySet[Order]:
    customers = reach.shared_only
    if filters.team_id:
        customers = customers.filter(team_id=filters.team_id)
    if filters.owner_id:
        customers = customers.filter(owner_id=filters.owner_id)
    start, end = _period_bounds(filters)
    return revenue_orders().filter(
        customer__in=customers.values("pk"), ordered_at__gte=start, ordered_at__lt=end
    )


@dataclass(frozen=True)
class RevenueBuckets:
    """(first day of the week or month, revenue, orders) for every bucket of a period, and when
    the rollup they were read from was last refreshed (None without rolled-up rows)."""

    rows: list[tuple[date, Decimal, int]]
    refreshed_at: datetime | None


def revenue_by_period(*, user: User, filters: DashboardFilter) -> RevenueBuckets:
    """The revenue of the period by bucket, buckets without orders at zero: the rollup's rows
    the user sees plus the live orders of the customers they see only through a share.

    The rollup files orders under the owner and team their customer had at its last refresh (the
    last 35 days every ten minutes, all days nightly); the share test uses today's. Until the
    next refresh, the older orders of a shared customer whose owner or team has just changed may
    count under both or neither part."""
    order_daily_totals_ensure()
    reach = customer_reach(user=user)
    month = filters.granularity == GRANULARITY_MONTH
    trunc = TruncMonth if month else TruncWeek
    found: dict[date, tuple[Decimal, int]] = {}
    refreshed_at = None
    rolled_up = (
        _rolled_up_totals(reach=reach, filters=filters)
        .annotate(bucket=trunc("day", output_field=DateField()))
        .values("bucket")
        .annotate(
            revenue_total=Sum("revenue"), order_count=Sum("orders"), latest=Max("refreshed_at")
        )
    )
    for row in rolled_up:
        found[row["bucket"]] = (row["revenue_total"], row["order_count"])
        refreshed_at = max(filter(None, [refreshed_at, row["latest"]]))
    if not reach.everyone:
        live = (
            _shared_only_orders(reach=reach, filters=filters)
            .annotate(
                bucket=trunc("ordered_at", output_field=DateField(), tzinfo=rollup_time_zone())
            )
            .values("bucket")
            .annotate(revenue_total=Sum("total_amount"), order_count=Count("pk"))
        )
        for row in live:
            revenue, orders = found.get(row["bucket"], (Decimal("0.00"), 0))
            found[row["bucket"]] = (revenue + row["revenue_total"], orders + row["order_count"])
    rows = [(start, *found.get(start, (Decimal("0.00"), 0))) for start in _bucket_starts(filters)]
    return RevenueBuckets(rows=rows, refreshed_at=refreshed_at)


def chart_revenue(*, user: User, filters: DashboardFilter, key: str = "revenue") -> Chart:
    revenue = revenue_by_period(user=user, filters=filters)
    rows = revenue.rows
    note = _(
        "Orders placed in the period, cancelled and refunded ones left out; amounts are summed "
        "as they are, whatever their currency."
    )
    note += " " + _period_note(filters)
    if revenue.refreshed_at is not None:
        note += " " + _("As of %(time)s.") % {
            "time": formats.date_format(
                timezone.localtime(revenue.refreshed_at), "SHORT_DATETIME_FORMAT"
            )
        }
    return Chart(
        key=key,
        title=_("Revenue by month")
        if filters.granularity == GRANULARITY_MONTH
        else _("Revenue by week"),
        kind="bar",
        labels=[_bucket_label(filters, start) for start, _revenue, _orders in rows],
        series=[
            Series(label=_("Revenue"), data=[revenue for _start, revenue, _orders in rows]),
            Series(
                label=_("Orders"),
                data=[orders for _start, _revenue, orders in rows],
                kind="line",
                right_axis=True,
            ),
        ],
        x_label=_("Month") if filters.granularity == GRANULARITY_MONTH else _("Week starting"),
        y_label=_("Revenue"),
        note=note,
    )


def _customer_links(ids: list[int]) -> list[str]:
    return [reverse("customers:customer_detail", args=[pk]) for pk in ids]


def chart_top_customers(*, user: User, filters: DashboardFilter) -> Chart:
    """The visible customers with the highest lifetime spend (read down customer_spend_idx), and
    for those alone their revenue and orders in the period, in one grouped query."""
    customers = list(
        customer_analytics_customers(user=user, filters=filters)
        .select_related(None)
        .order_by("-total_spend", "-pk")
        .values("pk", "name", "total_spend")[:TOP_CUSTOMERS]
    )
    start, end = _period_bounds(filters)
    in_period = {
        row["customer_id"]: row
        for row in revenue_orders()
        .filter(
            customer_id__in=[customer["pk"] for customer in customers],
            ordered_at__gte=start,
            ordered_at__lt=end,
        )
        .values("customer_id")
        .annotate(revenue_total=Sum("total_amount"), order_count=Count("pk"))
    }
    period = [in_period.get(customer["pk"], {}) for customer in customers]
    return Chart(
        key="top_customers",
        title=_("Top customers by lifetime spend"),
        kind="bar",
        horizontal=True,
        labels=[customer["name"] for customer in customers],
        series=[
            Series(
                label=_("Lifetime spend"), data=[customer["total_spend"] for customer in customers]
            ),
            Series(
                label=_("Revenue in the period"),
                data=[row.get("revenue_total", Decimal("0.00")) for row in period],
            ),
            Series(
                label=_("Orders in the period"), data=[row.get("order_count", 0) for row in period]
            ),
        ],
        x_label=_("Customer"),
        note=_(
            "The customers with the highest lifetime spend (cancelled and refunded orders left "
            "out), with their revenue and orders in the period."
        )
        + " "
        + _period_note(filters),
        extra={"links": _customer_links([customer["pk"] for customer in customers])},
    )


def _scored_customers(
    *, model_name: str, customers: QuerySet[Customer], limit: int
) -> tuple[bool, list[dict]]:
    """Whether the model has an active version, and the `customers` with its highest scores.

    The scores are filtered by the model's id, not its name, so PostgreSQL reads them down the
    customer_score_rank index (model, -probability, customer) instead of sorting every score."""
    model_id = (
        PredictiveModel.objects.filter(name=model_name, active_version__isnull=False)
        .values_list("pk", flat=True)
        .first()
    )
    if model_id is None:
        return False, []
    rows = list(
        customers.filter(scores__model_id=model_id)
        .select_related(None)
        .order_by(F("scores__probability").desc(), "pk")
        .values("pk", "name", "status", probability=F("scores__probability"))[:limit]
    )
    return True, rows


def _score_chart(*, key: str, title: str, note: str, trained: bool, rows: list[dict]) -> Chart:
    return Chart(
        key=key,
        title=title,
        kind="bar",
        horizontal=True,
        labels=[row["name"] for row in rows],
        series=[
            Series(
                label=_("Probability (%)"),
                data=[round(row["probability"] * 100, 1) for row in rows],
            )
        ],
        x_label=_("Customer"),
        note=note,
        extra={
            "trained": trained,
            "links": _customer_links([row["pk"] for row in rows]),
            "statuses": [str(Customer.Status(row["status"]).label) for row in rows],
        },
    )


def chart_at_risk(*, user: User, filters: DashboardFilter) -> Chart:
    trained, rows = _scored_customers(
        model_name=CHURN_MODEL,
        customers=customer_analytics_customers(user=user, filters=filters),
        limit=AT_RISK_CUSTOMERS,
    )
    return _score_chart(
        key="at_risk",
        title=_("At-risk customers"),
        note=_("The customers most likely to leave, by the churn model's latest scores."),
        trained=trained,
        rows=rows,
    )


def chart_hottest_leads(*, user: User, filters: DashboardFilter) -> Chart:
    leads = customer_list_visible(user=user).filter(
        owner=user, status__in=[Customer.Status.LEAD, Customer.Status.PROSPECT]
    )
    trained, rows = _scored_customers(
        model_name=PURCHASE_MODEL, customers=leads, limit=HOTTEST_LEADS
    )
    return _score_chart(
        key="hottest_leads",
        title=_("My hottest leads"),
        note=_("Your leads and prospects most likely to buy, by the purchase model's scores."),
        trained=trained,
        rows=rows,
    )


# Service -----------------------------------------------------------------------------------------


def chart_csat_trend(*, user: User, filters: DashboardFilter) -> Chart:
    metrics = _service_metrics(user=user, filters=filters)
    return Chart(
        key="csat",
        title=_("Customer satisfaction"),
        kind="line",
        labels=[point.period.isoformat() for point in metrics.trend],
        series=[
            Series(label=_("Average rating"), data=[point.csat_average for point in metrics.trend]),
            Series(
                label=_("Surveys answered"),
                data=[point.surveys_answered for point in metrics.trend],
                kind="bar",
                right_axis=True,
            ),
        ],
        x_label=_("Day") if metrics.granularity == "day" else _("Week starting"),
        y_label=_("Average rating (1–5)"),
        note=_(
            "Answered surveys by the day they were sent, day by day up to 92 days, week by week "
            "beyond. Average over the period: %(average)s."
        )
        % {"average": "–" if metrics.csat_average is None else metrics.csat_average},
    )


def chart_sla(*, user: User, filters: DashboardFilter) -> Chart:
    metrics = _service_metrics(user=user, filters=filters)
    rates = [metrics.first_response_sla, metrics.resolution_sla]
    return Chart(
        key="sla",
        title=_("SLA compliance"),
        kind="bar",
        labels=[_("First response"), _("Resolution")],
        series=[
            Series(label=_("Met (%)"), data=[rate.percent for rate in rates]),
            Series(label=_("Met"), data=[rate.numerator for rate in rates]),
            Series(label=_("Due"), data=[rate.denominator for rate in rates]),
        ],
        y_label=_("Tickets"),
        note=_(
            "Among the tickets whose due time falls in the period and is settled, the share not "
            "breached."
        )
        + " "
        + _period_note(filters),
    )


def chart_response_times(*, user: User, filters: DashboardFilter) -> Chart:
    metrics = _service_metrics(user=user, filters=filters)
    timings = [metrics.first_response, metrics.resolution]
    return Chart(
        key="response_times",
        title=_("Response and resolution times"),
        kind="bar",
        labels=[_("First response"), _("Resolution")],
        series=[
            Series(label=_("Median (hours)"), data=[timing.median_hours for timing in timings]),
            Series(
                label=_("90th percentile (hours)"), data=[timing.p90_hours for timing in timings]
            ),
        ],
        y_label=_("Business hours"),
        note=_(
            "First response: tickets created in the period that have had one. Resolution: "
            "tickets resolved in the period."
        ),
    )


# A rep's own figures -----------------------------------------------------------------------------


def _mine(user: User, filters: DashboardFilter) -> DashboardFilter:
    return replace(filters, owner_id=user.pk, team_id=None)


def chart_my_pipeline(*, user: User, filters: DashboardFilter) -> Chart:
    chart = chart_pipeline_by_stage(user=user, filters=_mine(user, filters), key="my_pipeline")
    return replace(chart, title=_("My pipeline"))


def chart_my_targets(*, user: User, filters: DashboardFilter) -> Chart:
    """The rep's won, commit and best case against their target, this month and this quarter."""
    columns = []
    for kind in (SalesTarget.Period.MONTH, SalesTarget.Period.QUARTER):
        period = period_containing(timezone.localdate(), kind=kind)
        forecast = forecast_for(user=user, period=period, group=GROUP_REP)
        mine = next((row for row in forecast.rows if row.key == user.pk), None)
        columns.append((period.label, mine or ForecastRow(key=user.pk, label=str(user))))
    return _forecast_chart(
        key="my_targets",
        title=_("My targets"),
        note=_(
            "Your won deals, and your open deals expected to close by forecast category, "
            "against your own target."
        ),
        columns=columns,
    )


def chart_my_revenue(*, user: User, filters: DashboardFilter) -> Chart:
    chart = chart_revenue(user=user, filters=_mine(user, filters), key="my_revenue")
    return replace(chart, title=_("Revenue from my customers"))


def my_open_tasks(*, user: User) -> QuerySet[Task]:
    """The rep's open tasks, soonest due first (those without a due date last)."""
    return task_list_tab(user=user, tab="mine")


def chart_my_tasks(*, user: User, filters: DashboardFilter) -> Chart:
    """The rep's open tasks as a table (JSON and CSV): title, due, priority, status."""
    tasks = list(my_open_tasks(user=user)[:TASK_TABLE_LIMIT])
    return Chart(
        key="my_tasks",
        title=_("My tasks"),
        kind="table",
        labels=[task.title for task in tasks],
        series=[
            Series(
                label=_("Due"),
                data=[
                    "" if task.due_at is None else timezone.localtime(task.due_at).isoformat()
                    for task in tasks
                ],
            ),
            Series(label=_("Priority"), data=[task.get_priority_display() for task in tasks]),
            Series(label=_("Status"), data=[task.get_status_display() for task in tasks]),
        ],
        x_label=_("Task"),
        note=_("Your open tasks, soonest due first."),
        extra={"links": [reverse("collaboration:task_detail", args=[task.pk]) for task in tasks]},
    )


# Dashboards --------------------------------------------------------------------------------------

ChartBuilder = Callable[..., Chart]

MANAGER_CHARTS: dict[str, ChartBuilder] = {
    "pipeline": chart_pipeline_by_stage,
    "forecast": chart_forecast,
    "win_rate": chart_win_rate,
    "funnel": chart_funnel,
    "revenue": chart_revenue,
    "csat": chart_csat_trend,
    "sla": chart_sla,
    "response_times": chart_response_times,
    "top_customers": chart_top_customers,
    "at_risk": chart_at_risk,
}
REP_CHARTS: dict[str, ChartBuilder] = {
    "my_pipeline": chart_my_pipeline,
    "my_targets": chart_my_targets,
    "my_revenue": chart_my_revenue,
    "hottest_leads": chart_hottest_leads,
    "my_tasks": chart_my_tasks,
}


# The securable fields each chart's figures are computed from (crm.accounts.field_security),
# and the chart's title for when they are hidden.
CHART_FIELDS: dict[str, tuple[str, tuple[tuple[type[Model], str], ...]]] = {
    "pipeline": (gettext_lazy("Pipeline by stage"), ((Deal, "amount"),)),
    "my_pipeline": (gettext_lazy("My pipeline"), ((Deal, "amount"),)),
    "forecast": (
        gettext_lazy("Forecast against target"),
        ((Deal, "amount"), (Deal, "forecast_category")),
    ),
    "my_targets": (
        gettext_lazy("My targets"),
        ((Deal, "amount"), (Deal, "forecast_category")),
    ),
    "csat": (gettext_lazy("Customer satisfaction"), ((Ticket, "satisfaction_rating"),)),
}


def _chart_without_figures(*, user: User, key: str) -> Chart | None:
    """Chart `key` without figures when it is computed from a field hidden from `user`, saying
    so: zeros would mislead, and the figures would reveal the values. It is decided before the
    cache, so a new field rule applies at once."""
    if key in CHART_FIELDS:
        title, fields = CHART_FIELDS[key]
        hidden = chart_fields_hidden(user=user, fields=fields)
        if hidden:
            return chart_hidden(key=key, title=str(title), fields=hidden)
    return None


def _chart_build(*, user: User, key: str, filters: DashboardFilter) -> Callable[[], Chart]:
    build = MANAGER_CHARTS.get(key) or REP_CHARTS[key]
    return lambda: build(user=user, filters=filters)


def dashboard_chart(*, user: User, key: str, filters: DashboardFilter) -> Chart:
    """Chart `key` of either dashboard for `user`, cached for a minute; KeyError if unknown
    (one from a hidden field comes without figures: _chart_without_figures)."""
    return dashboard_charts(user=user, keys=[key], filters=filters)[0]


def dashboard_charts(*, user: User, keys: Iterable[str], filters: DashboardFilter) -> list[Chart]:
    """Charts `keys` as dashboard_chart gives each, the cached ones read in one round trip."""
    return dashboard_cached_unless(
        user=user,
        filters=filters,
        builds={f"chart:{key}": _chart_build(user=user, key=key, filters=filters) for key in keys},
        instead={f"chart:{key}": _chart_without_figures(user=user, key=key) for key in keys},
    )
