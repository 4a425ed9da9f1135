"""The dashboard filter: periods, team and owner read from a query string, refused with a message
when they make no sense, and cached per user."""

from datetime import date

import pytest
from django.http import QueryDict

from analytics.dashboard_filters import (
    DashboardFilterInvalid,
    dashboard_filter_parse,
    period_range,
)


def test_named_periods_are_whole_days_around_today():
    today = date(2026, 5, 17)

    assert period_range("last_30_days", today=today) == (date(2026, 4, 18), today)
    assert period_range("last_90_days", today=today) == (date(2026, 2, 17), today)
    assert period_range("this_quarter", today=today) == (date(2026, 4, 1), date(2026, 6, 30))
    assert period_range("this_year", today=today) == (date(2026, 1, 1), date(2026, 12, 31))
    assert period_range("last_12_months", today=today) == (date(2025, 6, 1), date(2026, 5, 31))


def test_custom_period_with_team_and_owner(rep, team):
    given = QueryDict(f"from=2026-01-01&to=2026-03-31&team={team.pk}&owner={rep.pk}")

    filters = dashboard_filter_parse(user=rep, params=given)

    assert (filters.period_start, filters.period_end) == (date(2026, 1, 1), date(2026, 3, 31))
    assert (filters.team_id, filters.owner_id) == (team.pk, rep.pk)
    assert filters.period == "custom"
    assert filters.granularity == "week"
    assert (
        dashboard_filter_parse(
            user=rep, params=QueryDict("&".join(f"{k}={v}" for k, v in filters.to_params().items()))
        )
        == filters
    )


def test_default_is_last_12_months_by_month(rep):
    filters = dashboard_filter_parse(user=rep, params=QueryDict(""))

    assert filters.period == "last_12_months"
    assert filters.granularity == "month"
    assert filters.days > 360


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=yesterday", "period:"),
        ("from=2026-01-01", "Give both the first and the last day."),
        ("from=2026-03-01&to=2026-01-01", "The period ends before it starts."),
        ("from=2020-01-01&to=2026-01-01", "at most 731 days"),
        ("from=tomorrow&to=2026-01-01", "from:"),
        ("owner=abc", "owner:"),
        ("granularity=year", "granularity:"),
    ],
)
def test_bad_filters_are_refused_with_a_message(rep, query, message):
    with pytest.raises(DashboardFilterInvalid, match=message):
        dashboard_filter_parse(user=rep, params=QueryDict(query))


def test_a_team_the_user_does_not_see_is_refused(rep, other_team):
    with pytest.raises(DashboardFilterInvalid, match="team:"):
        dashboard_filter_parse(user=rep, params=QueryDict(f"team={other_team.pk}"))


def test_cache_keys_differ_between_users_and_filters(rep, rep_teammate, team):
    filters = dashboard_filter_parse(user=rep, params=QueryDict(""))
    narrowed = dashboard_filter_parse(user=rep, params=QueryDict(f"team={team.pk}"))

    assert filters.cache_key(user=rep, name="x") != filters.cache_key(user=rep_teammate, name="x")
    assert filters.cache_key(user=rep, name="x") != narrowed.cache_key(user=rep, name="x")
    assert filters.cache_key(user=rep, name="x") != filters.cache_key(user=rep, name="y")
