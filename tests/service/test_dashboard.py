"""The service dashboard page, its CSV download and /api/v1/service-metrics/, on the hand-built
tickets of test_metrics (ten days ending today)."""

import csv
import io
import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from service.models import Ticket
from tests.service.factories import TicketFactory
from tests.service.test_metrics import build_dataset

pytestmark = pytest.mark.django_db

API = "/api/v1/service-metrics/"
# At most, a request whose figures are cached: the session's user, their permissions and the
# filter form's look-ups (FIGURE_FREE_QUERIES), and on the page its menus (PAGE_FORM_QUERIES
# more). Computing the figures takes four queries more (service.selectors.metrics).
FIGURE_FREE_QUERIES = 8
PAGE_FORM_QUERIES = 4


@pytest.fixture(autouse=True)
def _empty_cache():
    # The figures are cached (metrics_cached) under the user's id, which the next test reuses.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def dataset(team, agent, agent_teammate):
    return build_dataset(team=team, agent=agent, agent_teammate=agent_teammate)


def _period(dataset) -> dict:
    return {"from": dataset.start.isoformat(), "to": dataset.end.isoformat()}


def test_page_shows_the_figures_charts_and_table(
    dataset, manager, client_for, django_assert_max_num_queries
):
    client = client_for(manager)

    with django_assert_max_num_queries(22):
        response = client.get(reverse("service:dashboard"), _period(dataset))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="kpi-first-response"' in html
    assert "3.0 h" in html and "7.6 h" in html
    assert "80.0 %" in html and "50.0 %" in html
    assert "3.50 / 5" in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert "js/service_dashboard.js" in html
    # Chart data travels as JSON (not executed), one value per day.
    chart = json.loads(
        html.split('id="service-dashboard-data" type="application/json">')[1].split("</script>")[0]
    )
    assert chart["granularity"] == "day"
    assert len(chart["labels"]) == 10
    assert chart["created"][0] == 2
    assert chart["first_response_median_hours"][0] == 1.5
    assert chart["backlog_ages"]["counts"] == [1, 1, 1, 1]
    # The accessible table carries the same trend.
    assert html.count('<th scope="row">') == 10
    assert "<script>" not in html


def test_page_defaults_to_the_last_30_days(dataset, manager, client_for):
    response = client_for(manager).get(reverse("service:dashboard"))

    assert response.status_code == 200
    metrics = response.context["metrics"]
    assert (metrics.scope.end - metrics.scope.start).days == 29
    assert metrics.scope.end == dataset.end
    assert len(metrics.trend) == 30
    # t7 and t8, 19 and 21 days old, count too.
    assert metrics.created == 8


def test_page_names_the_field_of_a_bad_period(manager, client_for):
    response = client_for(manager).get(
        reverse("service:dashboard"), {"from": "2026-11-10", "to": "2026-11-01"}
    )

    assert response.status_code == 200
    assert response.context["metrics"] is None
    assert "to" in response.context["form"].errors


def test_page_needs_ticket_permission(rep, client_for):
    response = client_for(rep).get(reverse("service:dashboard"))

    assert response.status_code == 403


def test_agent_of_another_team_sees_zeros(dataset, other_team_agent, client_for):
    response = client_for(other_team_agent).get(reverse("service:dashboard"), _period(dataset))

    metrics = response.context["metrics"]
    assert metrics.created == metrics.backlog == 0
    # Their team filter offers only their own team.
    teams = response.context["form"].fields["team"].queryset
    assert [team.name for team in teams] == ["Sales West"]


def test_csv_has_the_trend_table(dataset, manager, client_for):
    response = client_for(manager).get(
        reverse("service:dashboard_csv"), {**_period(dataset), "channel": Ticket.Channel.PHONE}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0].lstrip("\ufeff") == "Period starting"
    assert len(rows) == 11
    # Only t1 is by phone: created on day 0, resolved on day 1 with a rating of 5.
    assert rows[1][:4] == [dataset.start.isoformat(), "1", "0", "1.0"]
    assert rows[2][2] == "1" and rows[2][5] == "5.0"


def test_csv_rejects_bad_filters_naming_the_field(manager, client_for):
    response = client_for(manager).get(reverse("service:dashboard_csv"), {"channel": "fax"})

    assert response.status_code == 400
    assert "channel" in response.content.decode()


def test_api_returns_the_figures(dataset, manager, client_for, django_assert_max_num_queries):
    client = client_for(manager)

    with django_assert_max_num_queries(20):
        response = client.get(API, _period(dataset))

    assert response.status_code == 200
    body = response.json()
    assert body["start"] == dataset.start.isoformat()
    assert body["granularity"] == "day"
    assert body["created"] == 6
    assert body["first_response"] == {"count": 5, "median_hours": 3.0, "p90_hours": 7.6}
    assert body["resolution"] == {"count": 3, "median_hours": 4.0, "p90_hours": 7.2}
    assert body["first_response_sla"] == {"numerator": 4, "denominator": 5, "percent": 80.0}
    assert body["resolution_sla"]["percent"] == 50.0
    assert body["backlog"] == 4
    assert [bucket["count"] for bucket in body["backlog_ages"]] == [1, 1, 1, 1]
    assert body["reopen"]["percent"] == 33.3
    assert body["surveys"] == {"numerator": 2, "denominator": 3, "percent": 66.7}
    assert body["csat_average"] == 3.5
    assert len(body["trend"]) == 10
    assert body["trend"][0] == {
        "period": dataset.start.isoformat(),
        "created": 2,
        "resolved": 0,
        "first_response_median_hours": 1.5,
        "surveys_answered": 0,
        "csat_average": None,
    }


def test_api_filters(dataset, manager, client_for, agent_teammate):
    client = client_for(manager)

    by_category = client.get(API, {**_period(dataset), "category": dataset.category.pk}).json()
    by_agent = client.get(API, {**_period(dataset), "agent": agent_teammate.pk}).json()
    by_tier = client.get(API, {**_period(dataset), "tier": "vip"}).json()

    assert by_category["created"] == 1
    assert by_agent["created"] == 1 and by_agent["backlog"] == 1
    assert by_tier["resolution"]["median_hours"] == 8.0


def test_api_rejects_bad_input_naming_the_field(manager, client_for, other_team):
    client = client_for(manager)

    backwards = client.get(API, {"from": "2026-11-10", "to": "2026-11-01"})
    not_a_date = client.get(API, {"from": "yesterday"})
    # A team the manager does not reach is not a choice.
    foreign_team = client.get(API, {"team": other_team.pk})

    assert backwards.status_code == 400
    assert backwards.json()["error"]["fields"] == {"to": ["The period ends before it starts."]}
    assert not_a_date.status_code == 400 and "from" in not_a_date.json()["error"]["fields"]
    assert foreign_team.status_code == 400 and "team" in foreign_team.json()["error"]["fields"]


def test_api_needs_ticket_permission(rep, client_for):
    assert client_for(rep).get(API).status_code == 403


def test_api_is_in_the_schema(admin_user, client_for):
    schema = client_for(admin_user).get(reverse("api-schema")).content.decode()

    assert "/api/v1/service-metrics/:" in schema
    assert "operationId: service_metrics" in schema
    assert "csat_average" in schema


def test_api_serves_repeated_figures_from_the_cache(
    dataset, manager, client_for, django_assert_max_num_queries
):
    client = client_for(manager)
    first = client.get(API, _period(dataset))
    # Given the figures computed once, when a ticket is created and the same figures asked for
    # again within the minute, then no figure is computed again: the answer is the cached one.
    TicketFactory(customer=dataset.tickets["t1"].customer, team=dataset.tickets["t1"].team)

    with django_assert_max_num_queries(FIGURE_FREE_QUERIES):
        again = client.get(API, _period(dataset))

    assert again.json() == first.json()


def test_page_and_api_share_the_cached_figures(
    dataset, manager, client_for, django_assert_max_num_queries
):
    client = client_for(manager)
    client.get(API, _period(dataset))

    with django_assert_max_num_queries(FIGURE_FREE_QUERIES + PAGE_FORM_QUERIES):
        response = client.get(reverse("service:dashboard"), _period(dataset))

    assert response.status_code == 200
    assert "80.0 %" in response.content.decode()


def test_cached_figures_are_per_user_and_filter(
    dataset, manager, agent, other_team_agent, client_for
):
    figures = client_for(manager).get(API, _period(dataset)).json()

    stranger = client_for(other_team_agent).get(API, _period(dataset)).json()
    narrowed = client_for(manager).get(API, {**_period(dataset), "tier": "vip"}).json()

    assert figures["created"] == 6
    assert stranger["created"] == 0
    assert narrowed["created"] != figures["created"]
