"""The dashboards' figures against values computed by hand, through the chart endpoints (JSON and
CSV), the pages and the API.

The world: Sales East (managed by `manager`; `rep` and `rep_teammate` in it) and Sales West
(`other_team_rep`), with orders, deals, stage history, tickets and surveys in the third quarter
of 2026 (1 July to 30 September; today in these tests is later than that). The order rollup is
refreshed once the orders are in, as the beat would."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.utils import timezone

from analytics.models import CustomerScore, OrderDailyTotal, PredictiveModel
from analytics.selectors.dashboards import customer_reach
from analytics.services.rollups import order_daily_totals_refresh
from collaboration.models import Task
from crm.accounts import roles
from crm.accounts.models import RecordShare
from customers.models import Customer, Order
from customers.selectors.customers import customer_list_visible
from sales.models import Deal, Pipeline, SalesTarget
from service.models import Ticket
from tests.accounts.factories import UserFactory
from tests.analytics.factories import ModelVersionFactory
from tests.customers.factories import CustomerFactory, OrderFactory
from tests.sales.factories import DealFactory, DealStageChangeFactory, SalesTargetFactory
from tests.service.factories import SatisfactionSurveyFactory, TicketFactory

Q3 = "from=2026-07-01&to=2026-09-30&granularity=month"


def at(day: str, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(f"{day}T{hour:02d}:00"))


@dataclass
class World:
    mine: Customer
    teammates: Customer
    other_teams: Customer


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _stage(name: str):
    return Pipeline.objects.get(is_default=True).stages.get(name=name)


def _orders(mine, teammates, other_teams):
    OrderFactory(customer=mine, ordered_at=at("2026-07-10"), total_amount=Decimal("100.00"))
    OrderFactory(
        customer=mine,
        ordered_at=at("2026-08-05"),
        total_amount=Decimal("250.00"),
        status=Order.Status.PAID,
    )
    OrderFactory(
        customer=mine,
        ordered_at=at("2026-08-20"),
        total_amount=Decimal("999.00"),
        status=Order.Status.CANCELLED,
    )
    OrderFactory(customer=mine, ordered_at=at("2026-06-30"), total_amount=Decimal("500.00"))
    OrderFactory(customer=teammates, ordered_at=at("2026-07-15"), total_amount=Decimal("300.00"))
    OrderFactory(
        customer=teammates,
        ordered_at=at("2026-09-01"),
        total_amount=Decimal("50.00"),
        status=Order.Status.REFUNDED,
    )
    OrderFactory(customer=other_teams, ordered_at=at("2026-07-20"), total_amount=Decimal("7000"))
    # Lifetime spend, as the order services keep it: cancelled and refunded orders left out.
    for customer, spend in [(mine, "850.00"), (teammates, "300.00"), (other_teams, "7000.00")]:
        Customer.objects.filter(pk=customer.pk).update(total_spend=Decimal(spend))
    order_daily_totals_refresh()


def _deals(*, team, other_team, rep, rep_teammate, other_team_rep, mine):
    qualification, needs_analysis, won, lost = (
        _stage("Qualification"),
        _stage("Needs analysis"),
        _stage("Won"),
        _stage("Lost"),
    )
    east = {"team": team, "customer": mine}
    commit = DealFactory(
        **east,
        owner=rep,
        stage=qualification,
        amount=Decimal("1000.00"),
        expected_close_date="2026-08-15",
        forecast_category=Deal.ForecastCategory.COMMIT,
    )
    best_case = DealFactory(
        **east,
        owner=rep_teammate,
        stage=needs_analysis,
        amount=Decimal("2000.00"),
        expected_close_date="2026-09-10",
        forecast_category=Deal.ForecastCategory.BEST_CASE,
    )
    DealFactory(
        **east,
        owner=rep,
        stage=qualification,
        amount=Decimal("5000.00"),
        expected_close_date="2026-12-01",
    )
    won_july = DealFactory(
        **east, owner=rep, stage=won, amount=Decimal("3000.00"), closed_at=at("2026-07-20")
    )
    DealFactory(
        **east,
        owner=rep_teammate,
        stage=lost,
        amount=Decimal("400.00"),
        closed_at=at("2026-08-02"),
    )
    DealFactory(**east, owner=rep, stage=won, amount=Decimal("1500.00"), closed_at=at("2026-08-25"))
    DealFactory(
        team=other_team,
        owner=other_team_rep,
        stage=won,
        amount=Decimal("9000.00"),
        closed_at=at("2026-07-05"),
    )
    DealFactory(
        team=other_team,
        owner=other_team_rep,
        stage=qualification,
        amount=Decimal("8000.00"),
        expected_close_date="2026-08-01",
    )
    for deal, stage, day in [
        (commit, qualification, "2026-07-02"),
        (best_case, qualification, "2026-07-03"),
        (best_case, needs_analysis, "2026-07-20"),
        (won_july, qualification, "2026-07-04"),
        (won_july, won, "2026-07-20"),
    ]:
        DealStageChangeFactory(deal=deal, to_stage=stage, changed_at=at(day))
    SalesTargetFactory(
        team=team,
        period=SalesTarget.Period.QUARTER,
        period_start="2026-07-01",
        amount=Decimal("10000.00"),
    )


def _tickets(*, team, other_team, mine, other_teams):
    met = TicketFactory(
        customer=mine,
        team=team,
        first_response_due_at=at("2026-07-06"),
        first_responded_at=at("2026-07-05", 14),
        first_response_seconds=3600,
        resolution_due_at=at("2026-07-08"),
        resolved_at=at("2026-07-07"),
        status=Ticket.Status.RESOLVED,
    )
    breached = TicketFactory(
        customer=mine,
        team=team,
        first_response_due_at=at("2026-07-07"),
        first_response_breached=True,
    )
    late = TicketFactory(
        customer=mine,
        team=team,
        first_response_due_at=at("2026-08-01"),
        first_responded_at=at("2026-07-31", 16),
        first_response_seconds=7200,
    )
    Ticket.objects.filter(pk=met.pk).update(created_at=at("2026-07-05", 9))
    Ticket.objects.filter(pk=late.pk).update(created_at=at("2026-07-31", 9))
    for ticket, day, rating in [(met, "2026-07-06", 4), (breached, "2026-07-08", 2)]:
        SatisfactionSurveyFactory(
            ticket=ticket, sent_at=at(day), answered_at=at(day, 15), rating=rating
        )
    SatisfactionSurveyFactory(
        ticket=late, sent_at=at("2026-08-10"), answered_at=at("2026-08-10", 15), rating=5
    )
    west = TicketFactory(
        customer=other_teams,
        team=other_team,
        first_response_due_at=at("2026-07-06"),
        first_response_breached=True,
    )
    SatisfactionSurveyFactory(
        ticket=west, sent_at=at("2026-07-06"), answered_at=at("2026-07-06", 15), rating=1
    )


def _scores(*, mine, teammates, other_teams):
    for name, probabilities in [
        ("churn", {mine: 0.9, teammates: 0.4, other_teams: 0.95}),
        ("purchase", {mine: 0.7, teammates: 0.8, other_teams: 0.99}),
    ]:
        model = PredictiveModel.objects.get(name=name)
        version = ModelVersionFactory(model=model)
        model.active_version = version
        model.save(update_fields=["active_version"])
        for customer, probability in probabilities.items():
            CustomerScore.objects.create(
                model=model,
                customer=customer,
                version=version,
                probability=probability,
                scored_at=timezone.now(),
            )


@pytest.fixture
def world(team, other_team, rep, rep_teammate, other_team_rep, manager) -> World:
    mine = CustomerFactory(name="Mine Ltd", owner=rep, team=team)
    teammates = CustomerFactory(
        name="Teammate Co", owner=rep_teammate, team=team, status=Customer.Status.CUSTOMER
    )
    other_teams = CustomerFactory(name="West Corp", owner=other_team_rep, team=other_team)
    _orders(mine, teammates, other_teams)
    _deals(
        team=team,
        other_team=other_team,
        rep=rep,
        rep_teammate=rep_teammate,
        other_team_rep=other_team_rep,
        mine=mine,
    )
    _tickets(team=team, other_team=other_team, mine=mine, other_teams=other_teams)
    _scores(mine=mine, teammates=teammates, other_teams=other_teams)
    return World(mine=mine, teammates=teammates, other_teams=other_teams)


def chart(client, key: str, query: str = Q3) -> dict:
    response = client.get(f"/analytics/charts/{key}/?{query}")
    assert response.status_code == 200, response.content
    return response.json()


def series(data: dict) -> dict[str, list]:
    return {item["label"]: item["data"] for item in data["series"]}


def by_label(data: dict, label: str) -> dict[str, object]:
    index = data["labels"].index(label)
    return {name: values[index] for name, values in series(data).items()}


# Manager dashboard -------------------------------------------------------------------------------


def test_revenue_by_month_counts_the_teams_paid_orders(world, client_for, manager):
    data = chart(client_for(manager), "revenue")

    assert data["labels"] == ["2026-07", "2026-08", "2026-09"]
    assert series(data)["Revenue"] == [400.0, 250.0, 0.0]
    assert series(data)["Orders"] == [2, 1, 0]


def test_revenue_by_week_buckets_from_monday(world, client_for, manager):
    data = chart(client_for(manager), "revenue", "from=2026-07-06&to=2026-07-19&granularity=week")

    assert data["labels"] == ["2026-07-06", "2026-07-13"]
    assert series(data)["Revenue"] == [100.0, 300.0]


def test_top_customers_by_lifetime_spend_with_their_period_revenue(world, client_for, manager):
    data = chart(client_for(manager), "top_customers")

    assert data["labels"] == ["Mine Ltd", "Teammate Co"]
    assert series(data) == {
        "Lifetime spend": [850.0, 300.0],
        "Revenue in the period": [350.0, 300.0],
        "Orders in the period": [2, 1],
    }
    assert data["extra"]["links"] == [
        f"/customers/{world.mine.pk}/",
        f"/customers/{world.teammates.pk}/",
    ]


def test_pipeline_by_stage_counts_open_deals_closing_in_the_period(world, client_for, manager):
    data = chart(client_for(manager), "pipeline")

    assert data["labels"] == ["Qualification", "Needs analysis", "Proposal", "Negotiation"]
    assert series(data) == {
        "Amount": [1000.0, 2000.0, 0.0, 0.0],
        "Weighted amount": [100.0, 500.0, 0.0, 0.0],
        "Deals": [1, 1, 0, 0],
    }


def test_forecast_against_the_quarters_target(world, client_for, manager):
    data = chart(client_for(manager), "forecast")

    assert data["title"] == "Forecast against target, Q3 2026"
    assert data["labels"] == ["Sales East"]
    assert series(data) == {
        "Won": [4500.0],
        "Commit": [1000.0],
        "Best case": [3000.0],
        "Target": [10000.0],
    }
    assert data["extra"]["projected_percent"] == [55.0]


def test_win_rate_by_month(world, client_for, manager):
    data = chart(client_for(manager), "win_rate")

    assert data["labels"] == ["2026-07", "2026-08", "2026-09"]
    assert series(data) == {
        "Won": [1, 1, 0],
        "Lost": [0, 1, 0],
        "Win rate (%)": [100.0, 50.0, None],
    }


def test_conversion_funnel_from_stage_history(world, client_for, manager):
    data = chart(client_for(manager), "funnel")

    assert data["labels"][:2] == ["Qualification", "Needs analysis"]
    assert by_label(data, "Qualification") == {
        "Reached": 3,
        "Went on": 2,
        "Conversion (%)": 66.7,
    }
    assert by_label(data, "Needs analysis") == {"Reached": 1, "Went on": 0, "Conversion (%)": 0.0}


def test_csat_trend_and_average(world, client_for, manager):
    data = chart(client_for(manager), "csat")

    assert len(data["labels"]) == 92
    assert by_label(data, "2026-07-06") == {"Average rating": 4.0, "Surveys answered": 1}
    assert by_label(data, "2026-08-10") == {"Average rating": 5.0, "Surveys answered": 1}
    assert "3.67" in data["note"]


def test_sla_compliance(world, client_for, manager):
    data = chart(client_for(manager), "sla")

    assert by_label(data, "First response") == {"Met (%)": 66.7, "Met": 2, "Due": 3}
    assert by_label(data, "Resolution") == {"Met (%)": 100.0, "Met": 1, "Due": 1}


def test_response_times_are_the_service_medians(world, client_for, manager):
    data = chart(client_for(manager), "response_times")

    assert by_label(data, "First response")["Median (hours)"] == 1.5


def test_at_risk_customers_by_churn_score(world, client_for, manager):
    data = chart(client_for(manager), "at_risk")

    assert data["labels"] == ["Mine Ltd", "Teammate Co"]
    assert series(data) == {"Probability (%)": [90.0, 40.0]}
    assert data["extra"]["trained"] is True


def test_untrained_churn_model_says_so_on_the_page(client_for, manager):
    response = client_for(manager).get("/analytics/")

    assert response.status_code == 200
    assert "The model has not been trained yet." in response.content.decode()


# Filters -----------------------------------------------------------------------------------------


def test_owner_filter_narrows_every_figure(world, client_for, manager, rep):
    client = client_for(manager)
    query = f"{Q3}&owner={rep.pk}"

    assert series(chart(client, "revenue", query))["Revenue"] == [100.0, 250.0, 0.0]
    assert series(chart(client, "win_rate", query))["Lost"] == [0, 0, 0]
    assert series(chart(client, "pipeline", query))["Deals"] == [1, 0, 0, 0]
    assert chart(client, "top_customers", query)["labels"] == ["Mine Ltd"]
    assert chart(client, "at_risk", query)["labels"] == ["Mine Ltd"]


def test_team_filter_and_period_change_the_figures(world, client_for, superuser, other_team):
    client = client_for(superuser)

    everyone = series(chart(client, "revenue"))["Revenue"]
    west = series(chart(client, "revenue", f"{Q3}&team={other_team.pk}"))["Revenue"]
    june = series(chart(client, "revenue", "from=2026-06-01&to=2026-06-30"))

    assert everyone == [7400.0, 250.0, 0.0]
    assert west == [7000.0, 0.0, 0.0]
    assert june["Revenue"] == [0.0, 0.0, 0.0, 0.0, 500.0]


def test_bad_filter_gives_400_with_a_message(world, client_for, manager):
    response = client_for(manager).get("/analytics/charts/revenue/?from=2026-09-01&to=2026-01-01")

    assert response.status_code == 400
    assert response.json()["error"] == "The period ends before it starts."


def test_bad_filter_on_the_page_shows_the_form_with_400(client_for, manager):
    response = client_for(manager).get("/analytics/?period=forever")

    assert response.status_code == 400
    assert "forever" in response.content.decode()


# Visibility --------------------------------------------------------------------------------------


def test_a_rep_sees_neither_the_manager_dashboard_nor_its_charts(world, client_for, rep):
    client = client_for(rep)

    assert client.get("/analytics/").status_code == 403
    assert client.get("/analytics/charts/revenue/").status_code == 403
    assert client.get("/api/v1/dashboards/manager/").status_code == 403


def test_another_teams_manager_never_sees_this_teams_figures(
    world, client_for, other_team, other_team_rep
):

    west_manager = UserFactory(username="west_manager", roles=[roles.MANAGER])
    other_team.manager = west_manager
    other_team.save(update_fields=["manager"])
    client = client_for(west_manager)

    assert series(chart(client, "revenue"))["Revenue"] == [7000.0, 0.0, 0.0]
    assert chart(client, "top_customers")["labels"] == ["West Corp"]
    assert chart(client, "at_risk")["labels"] == ["West Corp"]
    assert chart(client, "forecast")["labels"] == ["Sales West"]
    assert by_label(chart(client, "sla"), "First response") == {
        "Met (%)": 0.0,
        "Met": 0,
        "Due": 1,
    }


def test_cached_figures_are_never_shared_between_users(world, client_for, manager, superuser):
    manager_revenue = series(chart(client_for(manager), "revenue"))["Revenue"]
    admin_revenue = series(chart(client_for(superuser), "revenue"))["Revenue"]

    assert manager_revenue == [400.0, 250.0, 0.0]
    assert admin_revenue == [7400.0, 250.0, 0.0]


def test_revenue_counts_new_orders_from_the_rollups_next_refresh(world, client_for, manager):
    client = client_for(manager)
    chart(client, "revenue")
    OrderFactory(customer=world.mine, ordered_at=at("2026-07-11"), total_amount=Decimal("1.00"))

    cached = series(chart(client, "revenue"))["Revenue"]
    cache.clear()
    before_refresh = series(chart(client, "revenue"))["Revenue"]
    order_daily_totals_refresh(since=date(2026, 7, 1))
    cache.clear()
    refreshed = chart(client, "revenue")

    assert cached == before_refresh == [400.0, 250.0, 0.0]
    assert series(refreshed)["Revenue"] == [401.0, 250.0, 0.0]
    assert "As of " in refreshed["note"]


def test_revenue_rolls_up_on_first_use(world, client_for, superuser):
    OrderDailyTotal.objects.all().delete()

    data = chart(client_for(superuser), "revenue")

    assert series(data)["Revenue"] == [7400.0, 250.0, 0.0]
    assert OrderDailyTotal.objects.exists()


def _share(customer: Customer, **with_whom) -> None:
    RecordShare.objects.create(
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=customer.pk,
        **with_whom,
    )


def test_shared_customers_orders_count_once_and_owned_ones_not_twice(
    world, client_for, manager, other_team_rep, team
):
    shared_only = CustomerFactory(name="Shared Inc", owner=other_team_rep, team=None)
    OrderFactory(customer=shared_only, ordered_at=at("2026-07-25"), total_amount=Decimal("80.00"))
    OrderFactory(
        customer=shared_only,
        ordered_at=at("2026-07-26"),
        total_amount=Decimal("5.00"),
        status=Order.Status.CANCELLED,
    )
    order_daily_totals_refresh()
    _share(shared_only, user=manager)
    _share(shared_only, team=team)
    _share(world.mine, team=team)

    data = chart(client_for(manager), "revenue")

    assert series(data)["Revenue"] == [480.0, 250.0, 0.0]
    assert series(data)["Orders"] == [3, 1, 0]


def test_customer_reach_is_exactly_the_visibility_rule(
    world, rep, rep_teammate, other_team_rep, manager, superuser, team, other_team
):
    nobodys = CustomerFactory(name="Nobody's", owner=None, team=None)
    west_shared = CustomerFactory(name="West shared", owner=other_team_rep, team=other_team)
    _share(nobodys, team=team)
    _share(west_shared, user=rep)
    _share(world.mine, user=rep)
    _share(world.other_teams, user=rep_teammate)

    for user in (rep, rep_teammate, other_team_rep, manager, superuser):
        reach = customer_reach(user=user)
        customers = (
            Customer.objects.all()
            if reach.everyone
            else Customer.objects.filter(reach.by_owner_or_team)
        )
        by_owner_or_team = set(customers.values_list("pk", flat=True))
        shared_only = set(reach.shared_only.values_list("pk", flat=True))
        visible = set(customer_list_visible(user=user).values_list("pk", flat=True))

        assert by_owner_or_team | shared_only == visible, user
        assert not by_owner_or_team & shared_only, user
    assert set(customer_reach(user=rep).shared_only) == {nobodys, west_shared}


# Rep dashboard -----------------------------------------------------------------------------------


def test_rep_dashboard_shows_only_the_reps_own_figures(world, client_for, rep):
    client = client_for(rep)

    assert series(chart(client, "my_revenue"))["Revenue"] == [100.0, 250.0, 0.0]
    assert series(chart(client, "my_pipeline"))["Amount"] == [1000.0, 0.0, 0.0, 0.0]
    leads = chart(client, "hottest_leads")
    assert leads["labels"] == ["Mine Ltd"]
    assert series(leads) == {"Probability (%)": [70.0]}


def test_rep_targets_this_month_and_quarter(world, client_for, rep):
    today = timezone.localdate()
    SalesTargetFactory(
        owner=rep, period=SalesTarget.Period.MONTH, period_start=today.replace(day=1)
    )
    DealFactory(
        owner=rep,
        stage=_stage("Won"),
        amount=Decimal("600.00"),
        closed_at=timezone.now(),
        customer=world.mine,
    )

    data = chart(client_for(rep), "my_targets")

    assert series(data)["Won"] == [600.0, 600.0]
    assert series(data)["Target"] == [10000.0, None]


def test_my_tasks_table_pages_and_downloads(world, client_for, rep, rep_teammate):
    for index in range(12):
        Task.objects.create(title=f"Call {index:02d}", assignee=rep, due_at=at("2026-11-30"))
    Task.objects.create(title="Not mine", assignee=rep_teammate)
    Task.objects.create(
        title="Done already", assignee=rep, status=Task.Status.DONE, completed_at=timezone.now()
    )
    client = client_for(rep)

    first = client.get("/analytics/me/").content.decode()
    second = client.get("/analytics/me/?page=2").content.decode()
    csv = client.get(f"/analytics/charts/my_tasks/?{Q3}&format=csv").content.decode("utf-8-sig")

    assert "Call 00" in first and "Call 10" not in first and "Not mine" not in first
    assert "Call 10" in second and "Call 11" in second
    assert csv.splitlines()[0] == "Task,Due,Priority,Status"
    assert len(csv.splitlines()) == 13
    assert "Done already" not in csv


# CSV, pages and the API --------------------------------------------------------------------------


def test_chart_as_csv(world, client_for, manager):
    response = client_for(manager).get(f"/analytics/charts/revenue/?{Q3}&format=csv")

    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode("utf-8-sig").splitlines() == [
        "Month,Revenue,Orders",
        "2026-07,400.0,2",
        "2026-08,250.0,1",
        "2026-09,0.0,0",
    ]


def test_manager_page_lists_the_charts_and_tables(
    world, client_for, manager, django_assert_max_num_queries
):
    client = client_for(manager)

    with django_assert_max_num_queries(20):
        response = client.get(f"/analytics/?{Q3}")

    page = response.content.decode()
    assert response.status_code == 200
    assert "/analytics/charts/forecast/?period=custom&amp;from=2026-07-01" in page
    assert "Mine Ltd" in page and "West Corp" not in page
    assert "vendor/chartjs/chart.umd.min.js" in page


@pytest.mark.parametrize(
    "key",
    [
        "pipeline",
        "forecast",
        "win_rate",
        "funnel",
        "revenue",
        "csat",
        "sla",
        "response_times",
        "top_customers",
        "at_risk",
    ],
)
def test_each_chart_costs_a_bounded_number_of_queries(
    world, client_for, manager, key, django_assert_max_num_queries
):
    client = client_for(manager)

    with django_assert_max_num_queries(15):
        chart(client, key)


# At most, a dashboard whose charts are all cached: the session's user, their permissions and the
# teams and owners the filter offers; no figure.
WARM_DASHBOARD_QUERIES = 8


def test_api_dashboards_and_chart(world, client_for, manager, rep):
    managers = client_for(manager).get(f"/api/v1/dashboards/manager/?{Q3}").json()
    reps = client_for(rep).get(f"/api/v1/dashboards/rep/?{Q3}").json()
    single = client_for(manager).get(f"/api/v1/charts/revenue/?{Q3}").json()

    assert [item["key"] for item in managers["charts"]][:2] == ["pipeline", "forecast"]
    assert managers["filters"]["start"] == "2026-07-01"
    assert [item["key"] for item in reps["charts"]] == [
        "my_pipeline",
        "my_targets",
        "my_revenue",
        "hottest_leads",
        "my_tasks",
    ]
    assert single["series"][0]["data"] == [400.0, 250.0, 0.0]


def test_api_dashboard_served_again_from_the_cache_in_one_round_trip(
    world, client_for, manager, django_assert_max_num_queries, monkeypatch
):
    client = client_for(manager)
    first = client.get(f"/api/v1/dashboards/manager/?{Q3}").json()
    # Given every chart cached, when the dashboard is asked for again, then no figure is
    # computed and the cache is asked once for all the charts, not once per chart.
    reads = []
    get_many = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys: reads.append(keys) or get_many(keys))

    with django_assert_max_num_queries(WARM_DASHBOARD_QUERIES):
        again = client.get(f"/api/v1/dashboards/manager/?{Q3}").json()

    assert again == first
    assert len(reads) == 1 and len(reads[0]) == len(first["charts"])


def test_api_dashboard_shares_each_charts_cache_with_its_endpoint(world, client_for, manager):
    client = client_for(manager)
    revenue = chart(client, "revenue")
    OrderFactory(customer=world.mine, ordered_at=at("2026-07-11"), total_amount=Decimal("1.00"))
    order_daily_totals_refresh()

    charts = client.get(f"/api/v1/dashboards/manager/?{Q3}").json()["charts"]

    # Within the minute the dashboard serves the revenue its chart endpoint cached, as the
    # chart endpoint itself does.
    served = next(item for item in charts if item["key"] == "revenue")
    assert served["series"] == revenue["series"] == chart(client, "revenue")["series"]


def test_api_bad_filter_names_the_parameter(client_for, manager):
    response = client_for(manager).get("/api/v1/charts/revenue/?owner=nobody")

    assert response.status_code == 400
    assert "owner" in response.json()["error"]["fields"]


def test_unknown_chart_is_404(client_for, manager):
    assert client_for(manager).get("/analytics/charts/nothing/").status_code == 404
    assert client_for(manager).get("/api/v1/charts/nothing/").status_code == 404
