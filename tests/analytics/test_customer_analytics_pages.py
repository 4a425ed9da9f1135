"""The customer analytics page, its chart endpoints, the top customers table and the API: who may
open them, bad filters, query counts that do not grow with the customers, and per-user caching."""

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.selectors.customer_analytics import CUSTOMER_CHARTS
from analytics.services.customer_values import customer_values_refresh
from tests.customers.factories import CustomerFactory, OrderFactory, SegmentFactory

PERIOD_2025 = "from=2025-01-01&to=2025-12-31"
END_OF_2025 = date(2025, 12, 31)
# Sessions, user, permissions, the filter's team and owner choices, then the figure's own few
# (the segment sizes: one per segment).
MAX_QUERIES = 14


@pytest.fixture(autouse=True)
def empty_cache():
    # Figures are cached per user id, and ids come back between tests.
    cache.clear()
    yield
    cache.clear()


def add_customers(*, owner, team, count: int) -> None:
    for number in range(count):
        customer = CustomerFactory(
            owner=owner, team=team, annual_income=Decimal(1000 * number), city=f"City {number}"
        )
        OrderFactory(
            customer=customer,
            ordered_at=timezone.make_aware(datetime(2025, 3, number % 28 + 1)),
            total_amount=Decimal(10 + number),
        )


def chart_url(key: str, query: str = PERIOD_2025) -> str:
    return reverse("analytics:customer_analytics_chart", args=[key]) + "?" + query


def test_page_shows_a_card_per_chart_and_the_filters(client_for, rep):
    response = client_for(rep).get(reverse("analytics:customer_analytics"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "data-chart-filters" in html
    assert html.count("data-chart-url=") == 8
    assert reverse("analytics:customer_analytics_chart", args=["rfm-tiers"]) in html
    assert reverse("analytics:customer_analytics_top_customers") in html
    assert "analytics_charts.js" in html
    assert "<script>" not in html


def test_page_is_in_the_analytics_menu(client_for, rep):
    response = client_for(rep).get(reverse("analytics:customer_analytics"))

    assert f'href="{reverse("analytics:customer_analytics")}"' in response.content.decode()


def test_page_with_bad_filters_shows_the_error_and_no_charts(client_for, rep):
    response = client_for(rep).get(reverse("analytics:customer_analytics") + "?from=2026-01-01")

    assert response.status_code == 400
    html = response.content.decode()
    assert "Give both the first and the last day." in html
    assert "data-chart-url=" not in html


def test_without_permission_to_read_customers_nothing_opens(client_for, user_without_role):
    given = client_for(user_without_role)

    assert given.get(reverse("analytics:customer_analytics")).status_code == 403
    assert given.get(chart_url("age-histogram")).status_code == 403
    assert given.get(reverse("customer-analytics")).status_code == 403


@pytest.mark.parametrize("query", ["period=yesterday", "from=2026-03-01&to=2026-01-01", "owner=x"])
def test_bad_filters_are_refused(client_for, rep, query):
    given = client_for(rep)

    chart_response = given.get(chart_url("age-histogram", query))
    api_response = given.get(reverse("customer-analytics") + "?" + query)

    assert chart_response.status_code == 400
    assert api_response.status_code == 400


def test_a_team_the_user_does_not_see_is_refused(client_for, rep, other_team):
    response = client_for(rep).get(chart_url("age-histogram", f"team={other_team.pk}"))

    assert response.status_code == 400
    assert "team" in response.content.decode()


def test_unknown_chart_is_not_found(client_for, rep):
    given = client_for(rep)

    assert given.get(chart_url("favourite-colour")).status_code == 404
    assert (
        given.get(reverse("customer-analytics-chart", args=["favourite-colour"])).status_code == 404
    )


@pytest.mark.parametrize("key", list(CUSTOMER_CHARTS))
def test_query_count_does_not_grow_with_customers(
    client_for, rep, team, key, django_assert_max_num_queries
):
    add_customers(owner=rep, team=team, count=3)
    SegmentFactory(owner=rep, team=team, filters={"tier": ["vip"]})
    customer_values_refresh(today=END_OF_2025)
    given = client_for(rep)
    with CaptureQueriesContext(connection) as few:
        assert given.get(chart_url(key)).status_code == 200
    cache.clear()
    add_customers(owner=rep, team=team, count=30)
    customer_values_refresh(today=END_OF_2025)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = given.get(chart_url(key))

    assert response.status_code == 200
    assert len(few.captured_queries) <= MAX_QUERIES


def test_figures_are_cached_per_user(client_for, rep, other_team_rep, team, other_team):
    add_customers(owner=rep, team=team, count=2)
    add_customers(owner=other_team_rep, team=other_team, count=5)
    mine = client_for(rep)
    theirs = client_for(other_team_rep)
    first = mine.get(chart_url("order-count")).json()

    add_customers(owner=rep, team=team, count=4)
    cached = mine.get(chart_url("order-count")).json()
    other = theirs.get(chart_url("order-count")).json()

    assert cached == first
    assert sum(first["series"][0]["data"]) == 2
    assert sum(other["series"][0]["data"]) == 5


def test_top_customers_table(client_for, rep, other_team_rep, team, other_team):
    ada = CustomerFactory(name="Ada", owner=rep, team=team)
    OrderFactory(
        customer=ada,
        ordered_at=timezone.make_aware(datetime(2025, 5, 1)),
        total_amount=Decimal("1000"),
    )
    hidden = CustomerFactory(name="Hidden Gus", owner=other_team_rep, team=other_team)
    OrderFactory(
        customer=hidden,
        ordered_at=timezone.make_aware(datetime(2025, 5, 1)),
        total_amount=Decimal("9000"),
    )
    customer_values_refresh(today=END_OF_2025)

    response = client_for(rep).get(
        reverse("analytics:customer_analytics_top_customers") + "?" + PERIOD_2025
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("customers:customer_detail", args=[ada.pk]) in html
    assert "3,000.00" in html
    assert "Hidden Gus" not in html


def test_api_gives_every_chart(client_for, rep, team, django_assert_max_num_queries):
    add_customers(owner=rep, team=team, count=3)
    customer_values_refresh(today=END_OF_2025)

    client = client_for(rep)
    with django_assert_max_num_queries(40):
        response = client.get(reverse("customer-analytics") + "?" + PERIOD_2025)

    assert response.status_code == 200
    body = response.json()
    assert (body["period_start"], body["period_end"]) == ("2025-01-01", "2025-12-31")
    assert [chart["key"] for chart in body["charts"]] == list(CUSTOMER_CHARTS)
    spend = next(chart for chart in body["charts"] if chart["key"] == "spend-by-tier")
    assert spend["series"][0]["data"] == [33.0, 0.0, 0.0]


def test_api_gives_one_chart(client_for, rep, team):
    add_customers(owner=rep, team=team, count=3)

    response = client_for(rep).get(
        reverse("customer-analytics-chart", args=["order-count"]) + "?" + PERIOD_2025
    )

    assert response.status_code == 200
    assert response.json()["series"][0]["data"] == [0, 3, 0, 0, 0, 0]


def test_api_is_in_the_schema(client_for, admin_user):
    response = client_for(admin_user).get(reverse("api-schema"), {"format": "json"})

    paths = response.json()["paths"]
    assert "/api/v1/customer-analytics/" in paths
    assert "/api/v1/customer-analytics/{key}/" in paths


@pytest.mark.postgres
@pytest.mark.parametrize("key", list(CUSTOMER_CHARTS))
def test_no_figure_runs_a_subquery_per_row(client_for, rep, team, key):
    # A few thousand orders, so the planner plans as for a real table.
    add_customers(owner=rep, team=team, count=300)
    SegmentFactory(owner=rep, team=team, filters={"tier": ["vip"], "q": "Customer"})
    customer_values_refresh(today=END_OF_2025)
    given = client_for(rep)
    with CaptureQueriesContext(connection) as queries:
        assert given.get(chart_url(key)).status_code == 200

    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            if not query["sql"].lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN " + query["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            # A hashed SubPlan (the visibility rule's IN lists) runs once; one used unhashed in a
            # condition runs for every row. Lines that only name a SubPlan introduce its plan.
            uses = [line for line in plan.splitlines() if not re.fullmatch(r"\s*SubPlan \d+", line)]
            per_row = re.findall(r"(?<!hashed )SubPlan \d+", "\n".join(uses))
            assert not per_row, plan


def test_api_bad_filter_names_the_parameter_as_the_dashboards_do(client_for, rep):
    response = client_for(rep).get(reverse("customer-analytics") + "?owner=nobody")

    assert response.status_code == 400
    assert "owner" in response.json()["error"]["fields"]
