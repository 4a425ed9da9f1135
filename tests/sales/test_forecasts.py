"""The forecast: periods, the arithmetic of Won, Commit, Best case, Weighted, Pipeline and
Projected against the target on hand-built deals, visibility, the page, the API and query
counts."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sales.models import Deal, Pipeline, SalesTarget
from sales.selectors.forecasts import (
    GROUP_REP,
    GROUP_TEAM,
    Period,
    forecast_for,
    period_containing,
    period_parse,
    period_start_is_valid,
)
from tests.sales.factories import DealFactory, SalesTargetFactory

pytestmark = pytest.mark.django_db

NOVEMBER = Period(kind=SalesTarget.Period.MONTH, start=date(2026, 11, 1))
Category = Deal.ForecastCategory


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.fixture
def stages():
    pipeline = Pipeline.objects.get(is_default=True)
    return {stage.name: stage for stage in pipeline.stages.all()}


def make_deal(stages, stage: str, amount: str, **values) -> Deal:
    return DealFactory(stage=stages[stage], amount=Decimal(amount), **values)


@pytest.fixture
def book(stages, team, other_team, rep, rep_teammate, other_team_rep):
    """The deals of November 2026 and around it, for two teams."""
    east = {"owner": rep, "team": team}
    make_deal(stages, "Won", "1200.00", closed_at=at(2026, 11, 10), **east)
    # Closed an hour before November (UTC): October's, not November's.
    make_deal(stages, "Won", "300.00", closed_at=at(2026, 10, 31, 23), **east)
    make_deal(
        stages,
        "Negotiation",
        "2000.00",
        forecast_category=Category.COMMIT,
        expected_close_date=date(2026, 11, 20),
        **east,
    )
    make_deal(
        stages,
        "Proposal",
        "1000.00",
        forecast_category=Category.BEST_CASE,
        expected_close_date=date(2026, 11, 30),
        **east,
    )
    make_deal(
        stages,
        "Qualification",
        "400.00",
        forecast_category=Category.PIPELINE,
        expected_close_date=date(2026, 11, 1),
        **east,
    )
    make_deal(
        stages,
        "Needs analysis",
        "5000.00",
        forecast_category=Category.OMITTED,
        expected_close_date=date(2026, 11, 15),
        **east,
    )
    make_deal(
        stages,
        "Negotiation",
        "700.00",
        forecast_category=Category.COMMIT,
        expected_close_date=date(2026, 12, 1),
        **east,
    )
    make_deal(stages, "Lost", "900.00", closed_at=at(2026, 11, 5), **east)
    # An open deal without a close date is in no period.
    make_deal(stages, "Proposal", "650.00", forecast_category=Category.COMMIT, **east)

    teammate = {"owner": rep_teammate, "team": team}
    make_deal(stages, "Won", "500.50", closed_at=at(2026, 11, 2), **teammate)
    make_deal(
        stages,
        "Proposal",
        "250.30",
        forecast_category=Category.BEST_CASE,
        expected_close_date=date(2026, 11, 9),
        **teammate,
    )

    west = {"owner": other_team_rep, "team": other_team}
    make_deal(stages, "Won", "10000.00", closed_at=at(2026, 11, 3), **west)
    make_deal(
        stages,
        "Negotiation",
        "4000.00",
        forecast_category=Category.COMMIT,
        expected_close_date=date(2026, 11, 3),
        **west,
    )

    SalesTargetFactory(owner=rep, period_start=date(2026, 11, 1), amount=Decimal("5000.00"))
    SalesTargetFactory(team=team, period_start=date(2026, 11, 1), amount=Decimal("8000.00"))
    # Another period's target does not count.
    SalesTargetFactory(owner=rep, period_start=date(2026, 12, 1), amount=Decimal("1.00"))


def row_for(forecast, label):
    (row,) = [row for row in forecast.rows if row.label == label]
    return row


# Periods -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("2026-11", "month", date(2026, 11, 1), date(2026, 12, 1)),
        ("2026-12", "month", date(2026, 12, 1), date(2027, 1, 1)),
        ("2026-1", "month", date(2026, 1, 1), date(2026, 2, 1)),
        ("2026-Q4", "quarter", date(2026, 10, 1), date(2027, 1, 1)),
        (" 2026-q1 ", "quarter", date(2026, 1, 1), date(2026, 4, 1)),
    ],
)
def test_a_period_is_parsed_with_its_bounds(text, kind, start, end):
    period = period_parse(text)

    assert (period.kind, period.start, period.end) == (kind, start, end)


@pytest.mark.parametrize("text", ["", "2026", "2026-13", "2026-00", "2026-Q5", "26-11", "nov"])
def test_a_period_that_is_not_one_is_refused_with_the_expected_form(text):
    with pytest.raises(ValueError, match="2026-Q4"):
        period_parse(text)


def test_periods_step_back_and_forth_and_round_trip_through_their_key():
    quarter = period_parse("2026-Q4")

    assert quarter.next().key == "2027-Q1"
    assert quarter.previous().key == "2026-Q3"
    assert NOVEMBER.next().key == "2026-12"
    assert period_parse("2027-01").previous().key == "2026-12"
    assert period_parse(quarter.key) == quarter
    assert period_containing(date(2026, 11, 17), kind="quarter") == quarter
    assert period_start_is_valid(kind="quarter", start=date(2026, 10, 1))
    assert not period_start_is_valid(kind="quarter", start=date(2026, 11, 1))
    assert not period_start_is_valid(kind="month", start=date(2026, 11, 2))


# Arithmetic --------------------------------------------------------------------------------------


def test_the_forecast_by_rep_adds_up_each_category(book, rep):
    forecast = forecast_for(user=rep, period=NOVEMBER, group=GROUP_REP)

    riley = row_for(forecast, "Riley Chen")
    assert riley.won == Decimal("1200.00")
    assert riley.commit == Decimal("2000.00")
    assert riley.best_case == Decimal("3000.00")
    # 2000 × 75% + 1000 × 50% + 400 × 10%; the omitted deal is left out.
    assert riley.weighted == Decimal("2040.00")
    assert riley.pipeline == Decimal("3400.00")
    assert riley.target == Decimal("5000.00")
    assert riley.projected == Decimal("3200.00")
    assert riley.projected_percent == Decimal("64.0")
    assert riley.gap == Decimal("1800.00")

    teammate = row_for(forecast, "Rep_Teammate")
    assert teammate.won == Decimal("500.50")
    assert teammate.commit == Decimal("0.00")
    assert teammate.best_case == Decimal("250.30")
    assert teammate.weighted == Decimal("125.15")
    assert teammate.pipeline == Decimal("250.30")
    assert teammate.target is None
    assert teammate.gap is None


def test_the_totals_row_sums_the_rows(book, rep):
    totals = forecast_for(user=rep, period=NOVEMBER, group=GROUP_REP).totals

    assert totals.won == Decimal("1700.50")
    assert totals.commit == Decimal("2000.00")
    assert totals.best_case == Decimal("3250.30")
    assert totals.weighted == Decimal("2165.15")
    assert totals.pipeline == Decimal("3650.30")
    assert totals.target == Decimal("5000.00")
    assert totals.projected == Decimal("3700.50")


def test_the_forecast_by_team_uses_the_team_target(book, rep):
    forecast = forecast_for(user=rep, period=NOVEMBER, group=GROUP_TEAM)

    assert [row.label for row in forecast.rows] == ["Sales East"]
    east = forecast.rows[0]
    assert east.won == Decimal("1700.50")
    assert east.commit == Decimal("2000.00")
    assert east.best_case == Decimal("3250.30")
    assert east.weighted == Decimal("2165.15")
    assert east.pipeline == Decimal("3650.30")
    assert east.target == Decimal("8000.00")
    assert east.projected_percent == Decimal("46.3")
    assert east.gap == Decimal("4299.50")


def test_a_quarter_covers_its_three_months(book, rep):
    quarter = period_parse("2026-Q4")

    riley = row_for(forecast_for(user=rep, period=quarter, group=GROUP_REP), "Riley Chen")

    assert riley.won == Decimal("1500.00")
    # December's commit is in the quarter too.
    assert riley.commit == Decimal("2700.00")
    assert riley.target is None


def test_a_rep_with_a_target_and_no_deals_shows_at_zero(rep, team):
    SalesTargetFactory(owner=rep, period_start=date(2026, 11, 1), amount=Decimal("100.00"))

    forecast = forecast_for(user=rep, period=NOVEMBER, group=GROUP_REP)

    (row,) = forecast.rows
    assert (row.label, row.won, row.target, row.projected_percent) == (
        "Riley Chen",
        Decimal("0.00"),
        Decimal("100.00"),
        Decimal("0.0"),
    )


def test_deals_without_owner_or_team_get_their_own_row(stages, admin_user):
    make_deal(stages, "Won", "10.00", closed_at=at(2026, 11, 10))

    by_rep = forecast_for(user=admin_user, period=NOVEMBER, group=GROUP_REP)
    by_team = forecast_for(user=admin_user, period=NOVEMBER, group=GROUP_TEAM)

    assert [(row.label, row.won) for row in by_rep.rows] == [("No owner", Decimal("10.00"))]
    assert [(row.label, row.won) for row in by_team.rows] == [("No team", Decimal("10.00"))]


def test_months_follow_the_server_time_zone(stages, admin_user, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    # 20:00 UTC on 31 October is 04:00 on 1 November in Shanghai.
    make_deal(stages, "Won", "80.00", closed_at=at(2026, 10, 31, 20))

    forecast = forecast_for(user=admin_user, period=NOVEMBER, group=GROUP_REP)

    assert forecast.totals.won == Decimal("80.00")


# Visibility --------------------------------------------------------------------------------------


def test_a_rep_forecast_leaves_out_another_teams_deals(book, rep, other_team_rep):
    by_rep = forecast_for(user=rep, period=NOVEMBER, group=GROUP_REP)
    by_team = forecast_for(user=rep, period=NOVEMBER, group=GROUP_TEAM)

    assert {row.label for row in by_rep.rows} == {"Riley Chen", "Rep_Teammate"}
    assert "Sales West" not in {row.label for row in by_team.rows}
    assert by_rep.totals.won == Decimal("1700.50")


def test_the_other_team_sees_only_its_own(book, other_team_rep):
    forecast = forecast_for(user=other_team_rep, period=NOVEMBER, group=GROUP_TEAM)

    assert [(row.label, row.won, row.commit) for row in forecast.rows] == [
        ("Sales West", Decimal("10000.00"), Decimal("4000.00"))
    ]


def test_a_manager_sees_the_teams_they_manage_and_an_admin_all(book, manager, admin_user):
    managed = forecast_for(user=manager, period=NOVEMBER, group=GROUP_TEAM)
    everything = forecast_for(user=admin_user, period=NOVEMBER, group=GROUP_TEAM)

    assert [row.label for row in managed.rows] == ["Sales East"]
    assert [row.label for row in everything.rows] == ["Sales East", "Sales West"]
    assert everything.totals.won == Decimal("11700.50")


# Page and API ------------------------------------------------------------------------------------


def test_the_forecast_page_shows_both_tables(book, rep_client):
    response = rep_client.get(reverse("sales:forecast"), {"period": "2026-11"})

    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-forecast="rep"' in content
    assert 'data-forecast="team"' in content
    assert "Riley Chen" in content
    assert "3,200.00" in content
    assert "64.0%" in content
    assert "Sales West" not in content
    assert "no conversion between currencies" in content


def test_a_bad_period_on_the_page_is_named_and_the_current_month_shown(rep_client):
    response = rep_client.get(reverse("sales:forecast"), {"period": "2026-13"})

    assert response.status_code == 200
    assert "is not a period" in response.content.decode()


def test_the_forecast_page_needs_the_deal_permission(client_for, user_without_role):
    response = client_for(user_without_role).get(reverse("sales:forecast"))

    assert response.status_code == 403


def test_the_page_costs_the_same_with_more_deals(stages, rep, team, rep_client):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = rep_client.get(reverse("sales:forecast"), {"period": "2026-11"})
        assert response.status_code == 200
        return len(queries)

    for index in range(3):
        make_deal(stages, "Won", "10.00", closed_at=at(2026, 11, 1 + index), owner=rep, team=team)
    few = page_queries()
    for index in range(30):
        make_deal(
            stages,
            "Proposal",
            "10.00",
            expected_close_date=date(2026, 11, 1 + index % 28),
            forecast_category=Category.COMMIT,
            owner=rep,
            team=team,
        )
    assert page_queries() == few


def test_the_api_lists_forecast_rows_by_team(book, client_for, rep):
    response = client_for(rep).get("/api/v1/forecasts/", {"period": "2026-11", "group": "team"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["period"], body["group"]) == ("2026-11", "team")
    (row,) = body["results"]
    assert row["label"] == "Sales East"
    assert (row["won"], row["commit"], row["best_case"]) == ("1700.50", "2000.00", "3250.30")
    assert (row["weighted"], row["pipeline"], row["target"]) == ("2165.15", "3650.30", "8000.00")
    assert (row["projected"], row["projected_percent"], row["gap"]) == (
        "3700.50",
        "46.3",
        "4299.50",
    )
    assert body["totals"]["won"] == "1700.50"


def test_the_api_names_a_bad_period_or_group(client_for, rep):
    client = client_for(rep)

    bad_period = client.get("/api/v1/forecasts/", {"period": "November"})
    bad_group = client.get("/api/v1/forecasts/", {"period": "2026-11", "group": "city"})

    assert bad_period.status_code == 400
    assert "period" in bad_period.json()["error"]["fields"]
    assert bad_group.status_code == 400
    assert "group" in bad_group.json()["error"]["fields"]


def test_the_api_costs_a_bounded_number_of_queries(
    book, client_for, admin_user, django_assert_max_num_queries
):
    client = client_for(admin_user)

    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/forecasts/", {"period": "2026-11"})

    assert response.status_code == 200
