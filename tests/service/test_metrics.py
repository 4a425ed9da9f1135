"""The service figures (service.selectors.metrics) on hand-built tickets whose every number is
known: percentiles with interpolation, SLA compliance, backlog ages, reopen rate, satisfaction,
the trend, the filters and the visibility rule.

The same expectations hold on SQLite (OFFSET fallback) and on PostgreSQL (percentile_cont): run
this module with DATABASE_URL=postgres://... to check the second.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Customer
from service.models import Ticket
from service.selectors.metrics import (
    GRANULARITY_DAY,
    GRANULARITY_WEEK,
    MetricsScope,
    metrics_for,
)
from tests.customers.factories import CustomerFactory
from tests.service.factories import (
    SatisfactionSurveyFactory,
    TicketCategoryFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

HOUR = 3600
OPEN = Ticket.Status.OPEN
RESOLVED = Ticket.Status.RESOLVED


@dataclass
class Dataset:
    start: date
    end: date
    now: datetime
    tickets: dict
    category: object

    def day(self, offset: int, hour: int = 12) -> datetime:
        return timezone.make_aware(
            datetime.combine(self.start + timedelta(days=offset), time(hour))
        )


def _ticket(*, created_at, resolved_at=None, **fields) -> Ticket:
    ticket = TicketFactory(**fields)
    # created_at is auto_now_add: only an update can put it in the past.
    Ticket.objects.filter(pk=ticket.pk).update(created_at=created_at, resolved_at=resolved_at)
    ticket.refresh_from_db()
    return ticket


def build_dataset(*, team, agent, agent_teammate) -> Dataset:
    """Ten days (the last one today) and eight tickets of `team`; see the expectations in
    test_summary_figures. The tickets whose figures depend on the clock (due times, backlog
    ages) are placed relative to the real now, so the page and the API agree with the
    selector."""
    end = timezone.localdate()
    start = end - timedelta(days=9)
    data = Dataset(start=start, end=end, now=None, tickets={}, category=TicketCategoryFactory())
    now = data.now = timezone.now()
    common = {"team": team, "assignee": agent}
    vip = CustomerFactory(tier=Customer.Tier.VIP)
    data.tickets = {
        "t1": _ticket(
            **common,
            channel=Ticket.Channel.PHONE,
            status=RESOLVED,
            created_at=data.day(0),
            resolved_at=data.day(1),
            first_response_seconds=1 * HOUR,
            resolution_seconds=2 * HOUR,
            first_response_due_at=data.day(0, 14),
            resolution_due_at=data.day(1, 14),
        ),
        "t2": _ticket(
            **common,
            status=RESOLVED,
            created_at=data.day(0, 13),
            resolved_at=data.day(2),
            first_response_seconds=2 * HOUR,
            resolution_seconds=4 * HOUR,
            first_response_due_at=data.day(1),
            resolution_due_at=data.day(2),
            first_response_breached=True,
            resolution_breached=True,
            reopened_count=1,
        ),
        "t3": _ticket(
            **common,
            customer=vip,
            status=Ticket.Status.CLOSED,
            created_at=data.day(2),
            resolved_at=data.day(3),
            first_response_seconds=3 * HOUR,
            resolution_seconds=8 * HOUR,
            first_response_due_at=data.day(2, 14),
            resolution_due_at=data.day(3, 14),
        ),
        "t4": _ticket(
            **common,
            category=data.category,
            status=OPEN,
            created_at=data.day(3),
            first_response_seconds=4 * HOUR,
            first_response_due_at=data.day(3, 14),
            # Not due yet and not resolved: not settled, so it does not count.
            resolution_due_at=now + timedelta(hours=1),
        ),
        "t5": _ticket(
            team=team,
            assignee=agent_teammate,
            status=Ticket.Status.PENDING,
            created_at=now - timedelta(hours=30),
            first_response_seconds=10 * HOUR,
            first_response_due_at=now - timedelta(hours=28),
            resolution_due_at=now - timedelta(hours=1),
            resolution_breached=True,
        ),
        "t6": _ticket(
            **common,
            status=Ticket.Status.NEW,
            created_at=now - timedelta(minutes=1),
            # Not answered and not due yet: not settled.
            first_response_due_at=now + timedelta(hours=1),
            resolution_due_at=now + timedelta(hours=8),
        ),
        # Before the period: only the backlog sees the first; nothing sees the second.
        "t7": _ticket(
            **common,
            status=OPEN,
            created_at=data.day(-10),
            first_response_seconds=999 * HOUR,
            first_response_due_at=data.day(-10, 14),
            first_response_breached=True,
        ),
        "t8": _ticket(
            **common,
            status=RESOLVED,
            created_at=data.day(-12),
            resolved_at=data.day(-11),
            first_response_seconds=999 * HOUR,
            resolution_seconds=999 * HOUR,
            reopened_count=2,
        ),
    }
    tickets = data.tickets
    SatisfactionSurveyFactory(
        ticket=tickets["t1"], sent_at=data.day(1), answered_at=data.day(1, 15), rating=5
    )
    SatisfactionSurveyFactory(
        ticket=tickets["t2"], sent_at=data.day(2), answered_at=data.day(3), rating=2
    )
    SatisfactionSurveyFactory(ticket=tickets["t3"], sent_at=data.day(3))
    SatisfactionSurveyFactory(
        ticket=tickets["t8"], sent_at=data.day(-11), answered_at=data.day(-11, 15), rating=1
    )
    return data


@pytest.fixture
def dataset(team, agent, agent_teammate):
    return build_dataset(team=team, agent=agent, agent_teammate=agent_teammate)


def _metrics(data: Dataset, user, **filters):
    scope = MetricsScope(user=user, start=data.start, end=data.end, **filters)
    return metrics_for(scope=scope, now=data.now)


def test_summary_figures(dataset, manager):
    # Given the team's eight tickets, when its manager asks for the ten days
    metrics = _metrics(dataset, manager)

    # then six were created in the period, t1–t5 answered: 1, 2, 3, 4, 10 hours, so the median
    # is 3 h and the 90th percentile 4 + 0.6 × (10 − 4) = 7.6 h (rank 0.9 × 4 = 3.6);
    assert metrics.created == 6
    assert metrics.first_response.count == 5
    assert metrics.first_response.median_hours == 3.0
    assert metrics.first_response.p90_hours == 7.6
    # t1–t3 were resolved in it in 2, 4 and 8 hours: median 4 h, p90 4 + 0.8 × 4 = 7.2 h;
    assert metrics.resolution.count == 3
    assert metrics.resolution.median_hours == 4.0
    assert metrics.resolution.p90_hours == 7.2
    # first responses due and settled in the period: t1–t5, t2 breached (t6 is not yet due);
    assert (metrics.first_response_sla.numerator, metrics.first_response_sla.denominator) == (4, 5)
    assert metrics.first_response_sla.percent == 80.0
    # resolutions: t1 and t3 met, t2 and t5 breached (t4 is neither due nor done);
    assert (metrics.resolution_sla.numerator, metrics.resolution_sla.denominator) == (2, 4)
    assert metrics.resolution_sla.percent == 50.0
    # t4, t5, t6 and t7 are open now, one in each age bucket;
    assert metrics.backlog == 4
    assert {bucket.key: bucket.count for bucket in metrics.backlog_ages} == {
        "under_1d": 1,
        "1d_3d": 1,
        "3d_7d": 1,
        "over_7d": 1,
    }
    assert metrics.oldest_open_at == dataset.tickets["t7"].created_at
    # one of the three resolved in the period had been reopened;
    assert (metrics.reopen.numerator, metrics.reopen.denominator) == (1, 3)
    assert metrics.reopen.percent == 33.3
    # and of three surveys sent in the period two were answered, rated 5 and 2.
    assert (metrics.surveys.numerator, metrics.surveys.denominator) == (2, 3)
    assert metrics.surveys.percent == 66.7
    assert metrics.csat_average == 3.5


def test_trend_by_day(dataset, manager):
    metrics = _metrics(dataset, manager)

    assert metrics.granularity == GRANULARITY_DAY
    trend = {(point.period - dataset.start).days: point for point in metrics.trend}
    assert sorted(trend) == list(range(10))
    # Day 0: t1 and t2 created, answered in 1 and 2 hours: the median of two is their mean.
    assert (trend[0].created, trend[0].first_response_median_hours) == (2, 1.5)
    assert (trend[1].resolved, trend[1].surveys_answered, trend[1].csat_average) == (1, 1, 5.0)
    assert (trend[2].created, trend[2].resolved, trend[2].csat_average) == (1, 1, 2.0)
    # The survey of day 3 was not answered: no rating.
    assert (trend[3].created, trend[3].surveys_answered, trend[3].csat_average) == (1, 0, None)
    t5_day, t6_day = (
        (timezone.localtime(dataset.tickets[name].created_at).date() - dataset.start).days
        for name in ("t5", "t6")
    )
    assert (trend[t5_day].created, trend[t5_day].first_response_median_hours) == (1, 10.0)
    # t6 is not answered yet: counted as created, no median.
    assert (trend[t6_day].created, trend[t6_day].first_response_median_hours) == (1, None)
    assert sum(trend[day].created for day in range(4, 10)) == 2
    assert sum(point.resolved for point in metrics.trend) == 3


def test_trend_by_week_over_a_long_period(dataset, manager):
    start = dataset.end - timedelta(days=199)
    metrics = metrics_for(
        scope=MetricsScope(user=manager, start=start, end=dataset.end), now=dataset.now
    )

    assert metrics.granularity == GRANULARITY_WEEK
    assert all(point.period.weekday() == 0 for point in metrics.trend)
    assert metrics.trend[0].period <= start < metrics.trend[0].period + timedelta(days=7)
    # All eight tickets were created in the 200 days.
    assert sum(point.created for point in metrics.trend) == 8
    assert metrics.created == 8


@pytest.mark.parametrize(
    ("filters", "created", "first_responses"),
    [
        ({"channel": Ticket.Channel.PHONE}, 1, 1),
        ({"tier": Customer.Tier.VIP}, 1, 1),
        ({"channel": Ticket.Channel.EMAIL, "tier": Customer.Tier.NORMAL}, 4, 3),
    ],
)
def test_filters_by_field(dataset, manager, filters, created, first_responses):
    metrics = _metrics(dataset, manager, **filters)

    assert metrics.created == created
    assert metrics.first_response.count == first_responses


def test_filter_by_category_agent_and_team(dataset, manager, agent_teammate, team, other_team):
    by_category = _metrics(dataset, manager, category=dataset.category)
    by_agent = _metrics(dataset, manager, agent=agent_teammate)
    by_other_team = _metrics(dataset, manager, team=other_team)
    by_team = _metrics(dataset, manager, team=team)

    assert (by_category.created, by_category.first_response.median_hours) == (1, 4.0)
    assert (by_agent.created, by_agent.backlog, by_agent.resolution_sla.denominator) == (1, 1, 1)
    assert by_other_team.created == by_other_team.backlog == 0
    assert by_team.created == 6


def test_an_agent_of_another_team_sees_none_of_them(dataset, other_team_agent):
    metrics = _metrics(dataset, other_team_agent)

    assert metrics.created == metrics.backlog == 0
    assert metrics.first_response.median_hours is None
    assert metrics.resolution.p90_hours is None
    assert metrics.first_response_sla.percent is None
    assert metrics.surveys.denominator == 0
    assert metrics.csat_average is None
    assert sum(point.created for point in metrics.trend) == 0


def test_an_admin_sees_every_team(dataset, admin_user, other_team, other_team_agent):
    _ticket(
        team=other_team,
        assignee=other_team_agent,
        created_at=dataset.day(5),
        first_response_seconds=20 * HOUR,
    )

    metrics = _metrics(dataset, admin_user)

    # 1, 2, 3, 4, 10, 20 hours: median (3 + 4) / 2, p90 at rank 4.5: 10 + 0.5 × 10.
    assert metrics.created == 7
    assert metrics.first_response.median_hours == 3.5
    assert metrics.first_response.p90_hours == 15.0


def test_a_single_value_is_its_own_percentiles(dataset, manager):
    metrics = _metrics(dataset, manager, category=dataset.category)

    assert metrics.first_response.median_hours == metrics.first_response.p90_hours == 4.0


def test_query_count_does_not_grow_with_the_tickets(dataset, manager, team, agent):
    # The first call also looks up the manager's teams (cached on the user).
    _metrics(dataset, manager)
    with CaptureQueriesContext(connection) as before:
        _metrics(dataset, manager)
    for offset in range(10):
        _ticket(
            team=team,
            assignee=agent,
            created_at=dataset.day(offset),
            first_response_seconds=offset * HOUR,
        )
    with CaptureQueriesContext(connection) as after:
        _metrics(dataset, manager)

    assert len(after) == len(before) <= 9


@pytest.mark.postgres
def test_postgresql_takes_percentiles_in_the_summary_query(dataset, manager):
    _metrics(dataset, manager)
    with CaptureQueriesContext(connection) as queries:
        metrics = _metrics(dataset, manager)

    assert metrics.first_response.p90_hours == 7.6
    assert any("PERCENTILE_CONT(0.9) WITHIN GROUP" in query["sql"] for query in queries)
    # The summary and three trend queries (created, resolved, surveys): no per-percentile ones.
    assert len(queries) == 4


def test_a_period_cannot_end_before_it_starts(manager):
    today = timezone.localdate()
    with pytest.raises(ValueError, match="ends before"):
        MetricsScope(user=manager, start=today, end=today - timedelta(days=1))
    with pytest.raises(ValueError, match="731"):
        MetricsScope(user=manager, start=today - timedelta(days=731), end=today)
