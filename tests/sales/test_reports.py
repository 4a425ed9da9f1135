"""Sales reports on hand-built deals and stage histories: win rate, deal size, sales cycle, the
stage funnel, time in stage and lost reasons; grouping, visibility, the page, CSV downloads, the
API and query counts."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sales.models import Deal, DealStageChange, Pipeline
from sales.selectors.forecasts import period_parse
from sales.selectors.reports import ReportScope, report_build
from tests.sales.factories import DealFactory, DealStageChangeFactory

pytestmark = pytest.mark.django_db

DAY = 86400
NOVEMBER = {"start": "2026-11", "end": "2026-11"}


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def stages():
    pipeline = Pipeline.objects.get(is_default=True)
    return {stage.name: stage for stage in pipeline.stages.all()}


def closed_deal(stages, stage: str, amount: str, *, created, closed, **values) -> Deal:
    deal = DealFactory(stage=stages[stage], amount=Decimal(amount), closed_at=closed, **values)
    # created_at is set on insert; the sales cycle needs a known one.
    Deal.objects.filter(pk=deal.pk).update(created_at=created)
    return deal


@pytest.fixture
def outcomes(stages, rep, rep_teammate, team, other_team_rep, other_team):
    east = {"owner": rep, "team": team}
    closed_deal(stages, "Won", "1000.00", created=at(11, 1), closed=at(11, 11), **east)
    closed_deal(stages, "Won", "3000.00", created=at(10, 2), closed=at(11, 21), **east)
    closed_deal(
        stages, "Lost", "500.00", created=at(10, 1), closed=at(11, 5), lost_reason="price", **east
    )
    closed_deal(
        stages,
        "Lost",
        "700.00",
        created=at(10, 1),
        closed=at(11, 6),
        lost_reason="competitor",
        **east,
    )
    closed_deal(
        stages, "Lost", "200.00", created=at(10, 1), closed=at(11, 7), lost_reason="price", **east
    )
    closed_deal(
        stages,
        "Won",
        "600.00",
        created=at(11, 1),
        closed=at(11, 3),
        owner=rep_teammate,
        team=team,
    )
    # October: outside a November range, inside an October-November one.
    closed_deal(stages, "Won", "400.00", created=at(9, 1), closed=at(10, 1), **east)
    # Still open: not closed, in no outcome.
    DealFactory(stage=stages["Proposal"], amount=Decimal("9999.00"), **east)
    # Another team's: never in what the rep sees.
    closed_deal(
        stages,
        "Won",
        "50000.00",
        created=at(11, 1),
        closed=at(11, 2),
        owner=other_team_rep,
        team=other_team,
    )
    closed_deal(
        stages,
        "Lost",
        "8000.00",
        created=at(11, 1),
        closed=at(11, 2),
        lost_reason="price",
        owner=other_team_rep,
        team=other_team,
    )


def scope(user, start="2026-11", end="2026-11", **values) -> ReportScope:
    return ReportScope(user=user, start=period_parse(start), end=period_parse(end), **values)


# Outcomes ----------------------------------------------------------------------------------------


def test_outcomes_give_win_rate_deal_size_and_cycle(outcomes, rep):
    report = report_build(name="outcomes", scope=scope(rep, owner=rep))

    (row,) = report.rows
    assert (row["won"], row["lost"]) == (2, 3)
    assert row["win_rate"] == Decimal("40.0")
    assert row["won_amount"] == Decimal("4000.00")
    assert row["average_size"] == Decimal("2000.00")
    # 10 days and 50 days.
    assert row["average_cycle_days"] == Decimal("30.0")


def test_outcomes_by_rep_leave_out_another_teams_deals(outcomes, rep):
    report = report_build(name="outcomes", scope=scope(rep, group="rep"))

    assert [column.key for column in report.columns][:2] == ["group", "won"]
    assert [(row["group"], row["won"], row["lost"]) for row in report.rows] == [
        ("Rep_Teammate", 1, 0),
        ("Riley Chen", 2, 3),
    ]
    teammate = report.rows[0]
    assert (teammate["win_rate"], teammate["average_size"], teammate["average_cycle_days"]) == (
        Decimal("100.0"),
        Decimal("600.00"),
        Decimal("2.0"),
    )


def test_outcomes_by_period_follow_the_range(outcomes, rep):
    report = report_build(name="outcomes", scope=scope(rep, start="2026-10", group="period"))

    assert [(row["group"], row["won"], row["won_amount"]) for row in report.rows] == [
        ("2026-10", 1, Decimal("400.00")),
        ("2026-11", 3, Decimal("4600.00")),
    ]


def test_outcomes_by_team_for_an_admin(outcomes, admin_user):
    report = report_build(name="outcomes", scope=scope(admin_user, group="team"))

    assert [(row["group"], row["won"], row["lost"]) for row in report.rows] == [
        ("Sales East", 3, 3),
        ("Sales West", 1, 1),
    ]


def test_no_closed_deals_give_an_empty_rate(rep):
    (row,) = report_build(name="outcomes", scope=scope(rep)).rows

    assert (row["won"], row["lost"], row["win_rate"], row["average_size"]) == (0, 0, None, None)
    assert row["average_cycle_days"] is None


# Lost reasons ------------------------------------------------------------------------------------


def test_lost_reasons_count_and_sum_by_reason(outcomes, rep):
    report = report_build(name="lost_reasons", scope=scope(rep))

    assert [(row["reason"], row["deals"], row["amount"]) for row in report.rows] == [
        ("Price", 2, Decimal("700.00")),
        ("Went with a competitor", 1, Decimal("700.00")),
    ]


def test_lost_reasons_for_an_admin_include_every_team(outcomes, admin_user):
    report = report_build(name="lost_reasons", scope=scope(admin_user, group="team"))

    assert [(row["group"], row["reason"], row["deals"]) for row in report.rows] == [
        ("Sales East", "Price", 2),
        ("Sales East", "Went with a competitor", 1),
        ("Sales West", "Price", 1),
    ]


# Funnel and time in stage ------------------------------------------------------------------------


@pytest.fixture
def histories(stages, rep, team, other_team_rep, other_team):
    """Four deals of the rep moving through the default pipeline in November, and one of
    another team's."""

    def deal(stage: str, **values) -> Deal:
        return DealFactory(stage=stages[stage], owner=rep, team=team, **values)

    def move(deal, from_stage, to_stage, day, seconds=None):
        DealStageChangeFactory(
            deal=deal,
            from_stage=stages[from_stage] if from_stage else None,
            to_stage=stages[to_stage],
            changed_at=at(11, day),
            seconds_in_from_stage=seconds,
        )

    won = deal("Won", closed_at=at(11, 10))
    move(won, None, "Qualification", 1)
    move(won, "Qualification", "Needs analysis", 3, 2 * DAY)
    move(won, "Needs analysis", "Proposal", 5, 2 * DAY)
    move(won, "Proposal", "Won", 10, 5 * DAY)

    lost = deal("Lost", closed_at=at(11, 8), lost_reason="timing")
    move(lost, None, "Qualification", 2)
    move(lost, "Qualification", "Needs analysis", 6, 4 * DAY)
    move(lost, "Needs analysis", "Lost", 8, 2 * DAY)

    waiting = deal("Qualification")
    move(waiting, None, "Qualification", 2)

    # Created straight into Proposal: it never reached the earlier stages.
    skipped = deal("Negotiation")
    move(skipped, None, "Proposal", 3)
    move(skipped, "Proposal", "Negotiation", 8, 5 * DAY)

    # Before the range: its entry into Qualification is October's.
    early = deal("Needs analysis")
    DealStageChangeFactory(
        deal=early, to_stage=stages["Qualification"], changed_at=at(10, 20), from_stage=None
    )

    hidden = DealFactory(stage=stages["Proposal"], owner=other_team_rep, team=other_team)
    DealStageChangeFactory(
        deal=hidden, from_stage=None, to_stage=stages["Qualification"], changed_at=at(11, 1)
    )
    DealStageChangeFactory(
        deal=hidden,
        from_stage=stages["Qualification"],
        to_stage=stages["Proposal"],
        changed_at=at(11, 2),
        seconds_in_from_stage=100 * DAY,
    )


def test_the_funnel_counts_deals_that_reached_and_went_on(histories, rep):
    report = report_build(name="funnel", scope=scope(rep))

    assert [
        (row["stage"], row["reached"], row["went_on"], row["conversion"]) for row in report.rows
    ] == [
        ("Qualification", 3, 2, Decimal("66.7")),
        ("Needs analysis", 2, 1, Decimal("50.0")),
        ("Proposal", 2, 2, Decimal("100.0")),
        ("Negotiation", 1, 0, Decimal("0.0")),
    ]


def test_the_funnel_by_rep_for_an_admin(histories, admin_user):
    report = report_build(name="funnel", scope=scope(admin_user, group="rep"))

    other = [row for row in report.rows if row["group"] == "Other_Rep"]
    assert [(row["stage"], row["reached"], row["went_on"]) for row in other] == [
        ("Qualification", 1, 1),
        ("Proposal", 1, 0),
    ]


def test_time_in_stage_averages_the_time_before_each_move(histories, rep):
    report = report_build(name="time_in_stage", scope=scope(rep))

    assert [(row["stage"], row["moves"], row["average_days"]) for row in report.rows] == [
        ("Sales / Qualification", 2, Decimal("3.0")),
        ("Sales / Needs analysis", 2, Decimal("2.0")),
        ("Sales / Proposal", 2, Decimal("5.0")),
    ]


# Scope -------------------------------------------------------------------------------------------


def test_a_range_that_ends_before_it_starts_is_refused(rep):
    with pytest.raises(ValueError, match="ends before it starts"):
        scope(rep, start="2026-11", end="2026-10")


def test_a_range_is_at_most_three_years(rep):
    with pytest.raises(ValueError, match="at most 36 months"):
        scope(rep, start="2020-01", end="2026-11")


# Page, CSV and API -------------------------------------------------------------------------------


def test_the_reports_page_shows_every_report(outcomes, histories, rep_client):
    response = rep_client.get(reverse("sales:reports"), NOVEMBER)

    assert response.status_code == 200
    content = response.content.decode()
    for name in ("outcomes", "funnel", "time_in_stage", "lost_reasons"):
        assert f'id="report-{name}"' in content
        assert f"report={name}&amp;start=2026-11" in content
    assert "66.7" in content
    assert "Sales West" not in content
    assert "no conversion between currencies" in content


def test_the_reports_page_names_a_bad_filter(rep_client):
    response = rep_client.get(reverse("sales:reports"), {"start": "2026-11", "end": "2026-10"})

    assert response.status_code == 200
    assert "ends before it starts" in response.content.decode()
    assert response.context["reports"] == []


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_the_outcomes_csv_has_a_header_and_the_figures(outcomes, rep_client):
    response = rep_client.get(
        reverse("sales:report_csv"), {"report": "outcomes", "group": "rep", **NOVEMBER}
    )

    assert 'filename="outcomes-2026-11-2026-11.csv"' in response["Content-Disposition"]
    assert read_csv(response) == [
        [
            "Rep",
            "Won",
            "Lost",
            "Win rate (%)",
            "Won amount",
            "Average deal size",
            "Average sales cycle (days)",
        ],
        ["Rep_Teammate", "1", "0", "100.0", "600.00", "600.00", "2.0"],
        ["Riley Chen", "2", "3", "40.0", "4000.00", "2000.00", "30.0"],
    ]


def test_the_funnel_and_lost_reasons_csv(outcomes, histories, rep_client):
    funnel = read_csv(rep_client.get(reverse("sales:report_csv"), {"report": "funnel"} | NOVEMBER))
    lost = read_csv(
        rep_client.get(reverse("sales:report_csv"), {"report": "lost_reasons"} | NOVEMBER)
    )

    assert funnel[0] == ["Stage", "Reached", "Went on", "Conversion (%)"]
    assert funnel[1] == ["Qualification", "3", "2", "66.7"]
    assert lost == [
        ["Reason", "Deals", "Amount"],
        ["Price", "2", "700.00"],
        ["Went with a competitor", "1", "700.00"],
        ["Bad timing", "1", "1000.00"],
    ]


def test_a_csv_of_an_unknown_report_or_bad_range_is_a_clear_error(rep_client):
    unknown = rep_client.get(reverse("sales:report_csv"), {"report": "salaries"})
    bad = rep_client.get(reverse("sales:report_csv"), {"report": "funnel", "start": "2026-13"})

    assert unknown.status_code == 400
    assert "report" in unknown.content.decode()
    assert bad.status_code == 400
    assert "start" in bad.content.decode()


def test_reports_need_the_deal_permission(client_for, user_without_role):
    client = client_for(user_without_role)

    assert client.get(reverse("sales:reports")).status_code == 403
    assert client.get(reverse("sales:report_csv"), {"report": "funnel"}).status_code == 403
    assert client.get("/api/v1/reports/funnel/").status_code == 403


def test_the_api_returns_a_report_as_json(outcomes, client_for, rep):
    response = client_for(rep).get("/api/v1/reports/lost_reasons/", {"group": "team", **NOVEMBER})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "lost_reasons"
    assert [column["key"] for column in body["columns"]] == ["group", "reason", "deals", "amount"]
    assert body["rows"] == [
        {"group": "Sales East", "reason": "Price", "deals": 2, "amount": "700.00"},
        {"group": "Sales East", "reason": "Went with a competitor", "deals": 1, "amount": "700.00"},
    ]


def test_the_api_names_unknown_reports_and_bad_filters(client_for, rep):
    client = client_for(rep)

    assert client.get("/api/v1/reports/salaries/").status_code == 404
    bad = client.get("/api/v1/reports/funnel/", {"group": "city"})
    assert bad.status_code == 400
    assert "group" in bad.json()["error"]["fields"]


def test_the_page_costs_the_same_with_more_deals(stages, rep, team, rep_client):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = rep_client.get(reverse("sales:reports"), {"group": "rep", **NOVEMBER})
        assert response.status_code == 200
        return len(queries)

    def add_deals(count: int) -> None:
        for index in range(count):
            deal = closed_deal(
                stages,
                "Won" if index % 2 else "Lost",
                "10.00",
                created=at(11, 1),
                closed=at(11, 2 + index % 20),
                owner=rep,
                team=team,
                lost_reason="" if index % 2 else "price",
            )
            DealStageChangeFactory(
                deal=deal, to_stage=stages["Qualification"], changed_at=at(11, 1)
            )
            DealStageChangeFactory(
                deal=deal,
                from_stage=stages["Qualification"],
                to_stage=deal.stage,
                changed_at=at(11, 2),
                seconds_in_from_stage=DAY,
            )

    add_deals(2)
    few = page_queries()
    add_deals(30)
    assert page_queries() == few
    assert DealStageChange.objects.count() == 64


def test_the_reports_page_defaults_to_the_last_three_months(rep_client):
    response = rep_client.get(reverse("sales:reports"))

    assert response.status_code == 200
    scope = response.context["scope"]
    assert (scope.end.start - scope.start.start).days in range(59, 63)
    assert scope.end.kind == "month"
    assert len(response.context["reports"]) == 4
