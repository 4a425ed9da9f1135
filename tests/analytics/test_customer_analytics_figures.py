"""Customer analytics figures against values computed by hand, through the chart endpoints.

The book (a 365-day period, 2025, so lifetime value is spend × 3):

  customer  owner      age  income  tier     city       orders in 2025 (counted)
  Ada       rep        25   50000   vip      Shanghai   6 × 500, last 20 Dec
  Bo        rep        45   80000   premium  Beijing    400 on 1 Nov, 400 on 1 Dec
  Cy        rep        19   —       normal   Shanghai   100 on 1 Feb (and a cancelled 999)
  Di        rep        —    30000   normal   Guangzhou  200 on 1 Mar (and 5000 in 2024)
  Ed        teammate   72   20000   normal   (none)     50 on 25 Dec
  Fay       rep        20   —       normal   Shanghai   none
  Gus       other team 30   90000   vip      Shanghai   10000 (never seen by rep)

The value figures (RFM, lifetime value, top customers) read the customer values refreshed as of
31 Dec 2025 (the same 365 days). RFM percent ranks among everyone with an order, Gus too (5 steps
of 0.2, so a score is the rank, at most 5):
  recency Cy < Di < Gus < Bo < Ada < Ed      -> R: Cy 1, Di 2, Gus 3, Bo 4, Ada 5, Ed 5
  frequency Cy = Di = Ed = Gus < Bo < Ada    -> F: Cy, Di, Ed, Gus 1, Bo 5, Ada 5
  monetary Ed < Cy < Di < Bo < Ada < Gus     -> M: Ed 1, Cy 2, Di 3, Bo 4, Ada 5, Gus 5
  Ada R5 F+M 10 and Bo R4 F+M 9 Champions; Ed R5 F1 New; Cy R1 and Di R2 Hibernating;
  (Gus R3 F+M 6 Loyal, unseen by the rep).
"""

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from analytics.services.customer_values import customer_values_refresh
from customers.models import Customer, Order
from tests.customers.factories import CustomerFactory, OrderFactory, SegmentFactory

PERIOD_2025 = "from=2025-01-01&to=2025-12-31"
END_OF_2025 = date(2025, 12, 31)


@pytest.fixture(autouse=True)
def empty_cache():
    # Figures are cached per user id, and ids come back between tests.
    cache.clear()
    yield
    cache.clear()


def born_years_ago(years: int, *, days_later: int = 0) -> date:
    today = timezone.localdate()
    try:
        birthday = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - years, day=28)
    return birthday + timedelta(days=days_later)


def at(day: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(f"{day}T12:00"))


@pytest.fixture
def book(rep, rep_teammate, other_team_rep, team, other_team):
    def customer(name, owner, **fields):
        fields.setdefault("team", team)
        return CustomerFactory(name=name, owner=owner, **fields)

    ada = customer(
        "Ada",
        rep,
        birthday=born_years_ago(25),
        annual_income=Decimal("50000"),
        tier=Customer.Tier.VIP,
        city="Shanghai",
    )
    for day in ("2025-12-01", "2025-12-05", "2025-12-10", "2025-12-12", "2025-12-15"):
        OrderFactory(customer=ada, ordered_at=at(day), total_amount=Decimal("500"))
    OrderFactory(customer=ada, ordered_at=at("2025-12-20"), total_amount=Decimal("500"))
    bo = customer(
        "Bo",
        rep,
        birthday=born_years_ago(45),
        annual_income=Decimal("80000"),
        tier=Customer.Tier.PREMIUM,
        city="Beijing",
    )
    OrderFactory(customer=bo, ordered_at=at("2025-11-01"), total_amount=Decimal("400"))
    OrderFactory(customer=bo, ordered_at=at("2025-12-01"), total_amount=Decimal("400"))
    cy = customer("Cy", rep, birthday=born_years_ago(20, days_later=1), city="Shanghai")
    OrderFactory(customer=cy, ordered_at=at("2025-02-01"), total_amount=Decimal("100"))
    OrderFactory(
        customer=cy,
        ordered_at=at("2025-06-01"),
        total_amount=Decimal("999"),
        status=Order.Status.CANCELLED,
    )
    di = customer("Di", rep, annual_income=Decimal("30000"), city="Guangzhou")
    OrderFactory(customer=di, ordered_at=at("2025-03-01"), total_amount=Decimal("200"))
    OrderFactory(customer=di, ordered_at=at("2024-06-01"), total_amount=Decimal("5000"))
    ed = customer(
        "Ed", rep_teammate, birthday=born_years_ago(72), annual_income=Decimal("20000"), city=""
    )
    OrderFactory(customer=ed, ordered_at=at("2025-12-25"), total_amount=Decimal("50"))
    customer("Fay", rep, birthday=born_years_ago(20), city="Shanghai")
    gus = customer(
        "Gus",
        other_team_rep,
        team=other_team,
        birthday=born_years_ago(30),
        annual_income=Decimal("90000"),
        tier=Customer.Tier.VIP,
        city="Shanghai",
    )
    OrderFactory(customer=gus, ordered_at=at("2025-06-01"), total_amount=Decimal("10000"))
    return {"ada": ada, "bo": bo, "cy": cy, "di": di, "ed": ed, "gus": gus}


def chart(client, key: str, query: str = PERIOD_2025) -> dict:
    response = client.get(reverse("analytics:customer_analytics_chart", args=[key]) + "?" + query)
    assert response.status_code == 200, response.content
    return response.json()


def values(data: dict, series: int = 0) -> dict:
    return dict(zip(data["labels"], data["series"][series]["data"], strict=True))


def test_age_histogram_counts_each_bucket(client_for, rep, book):
    given = client_for(rep)

    data = chart(given, "age-histogram")

    # Fay turned 20 today (20–29), Cy turns 20 tomorrow (under 20); Gus is not the rep's.
    assert values(data) == {
        "Under 20": 1,
        "20–29": 2,
        "30–39": 0,
        "40–49": 1,
        "50–59": 0,
        "60–69": 0,
        "70 and over": 1,
        "Unknown": 1,
    }


def test_order_count_distribution_over_the_period(client_for, rep, book):
    data = chart(client_for(rep), "order-count")

    # Cy's cancelled order and Di's 2024 order do not count; Fay has none.
    assert values(data) == {"0": 1, "1": 3, "2": 1, "3–5": 0, "6–10": 1, "11 or more": 0}


def test_age_income_scatter_is_every_customer_with_both_when_few(client_for, rep, book):
    data = chart(client_for(rep), "age-income")

    assert sorted(data["series"][0]["data"]) == [[25, 50000.0], [45, 80000.0], [72, 20000.0]]
    assert data["extra"] == {"sample_size": 3, "population": 3}
    assert "sample" in data["note"]


def test_spend_and_orders_by_tier(client_for, rep, book):
    data = chart(client_for(rep), "spend-by-tier")

    assert values(data, 0) == {"Normal": 350.0, "VIP": 3000.0, "Premium": 800.0}
    assert values(data, 1) == {"Normal": 3, "VIP": 6, "Premium": 2}


def test_spend_by_city_top_first(client_for, rep, book):
    data = chart(client_for(rep), "spend-by-city")

    assert values(data) == {
        "Shanghai": 3100.0,
        "Beijing": 800.0,
        "Guangzhou": 200.0,
        "No city": 50.0,
    }
    assert data["labels"][0] == "Shanghai"


def test_spend_by_city_folds_the_tail_into_other_cities(client_for, rep, team):
    for number in range(17):
        customer = CustomerFactory(owner=rep, team=team, city=f"City {number:02d}")
        OrderFactory(
            customer=customer, ordered_at=at("2025-05-01"), total_amount=Decimal(100 + number)
        )

    data = chart(client_for(rep), "spend-by-city")

    # The 15 biggest (City 16 down to City 02), then City 01 and City 00: 101 + 100.
    assert len(data["labels"]) == 16
    assert data["labels"][0] == "City 16"
    assert values(data)["Other cities"] == 201.0


def test_segment_sizes_count_visible_members(client_for, rep, other_team_rep, team, book):
    SegmentFactory(name="Big spenders", owner=rep, team=team, filters={"tier": ["vip", "premium"]})
    SegmentFactory(name="Shanghai", owner=rep, team=team, filters={"city": "Shanghai"})
    SegmentFactory(name="Broken", owner=rep, team=team, filters={"tier": "vip"})
    SegmentFactory(name="Theirs", owner=other_team_rep, filters={})

    data = chart(client_for(rep), "segment-sizes")

    # Gus (VIP in Shanghai) is in both segments' filters, but the rep cannot see him.
    assert values(data) == {"Big spenders": 2, "Shanghai": 3}
    assert "1 segment(s) left out" in data["note"]


def test_rfm_value_tiers(client_for, rep, book):
    customer_values_refresh(today=END_OF_2025)

    data = chart(client_for(rep), "rfm-tiers")

    assert dict(zip(data["extra"]["keys"], data["series"][0]["data"], strict=True)) == {
        "champions": 2,
        "loyal": 0,
        "new": 1,
        "needs_attention": 0,
        "at_risk": 0,
        "hibernating": 2,
        "no_orders": 1,
    }
    assert dict(zip(data["extra"]["keys"], data["series"][1]["data"], strict=True)) == {
        "champions": 3800.0,
        "loyal": 0.0,
        "new": 50.0,
        "needs_attention": 0.0,
        "at_risk": 0.0,
        "hibernating": 300.0,
        "no_orders": 0.0,
    }
    assert "last 365 days as of" in data["note"]


def test_value_tiers_for_someone_who_sees_everyone(client_for, admin_user, book):
    customer_values_refresh(today=END_OF_2025)

    data = chart(client_for(admin_user), "rfm-tiers")

    # Gus (R3, F1 + M5) is Loyal; Fay, who never ordered, has no orders.
    assert dict(zip(data["extra"]["keys"], data["series"][0]["data"], strict=True)) == {
        "champions": 2,
        "loyal": 1,
        "new": 1,
        "needs_attention": 0,
        "at_risk": 0,
        "hibernating": 2,
        "no_orders": 1,
    }


def test_an_old_big_spender_is_at_risk(client_for, rep, team, book):
    # Ada's six big orders, but all in January: she ranks last on recency.
    Order.objects.filter(customer=book["ada"]).update(ordered_at=at("2025-01-10"))
    customer_values_refresh(today=END_OF_2025)

    data = chart(client_for(rep), "rfm-tiers")

    # R: Ada 1, Cy 2, Di 3, Gus 4, Bo 5, Ed 5; F and M as before.
    assert dict(zip(data["extra"]["keys"], data["series"][0]["data"], strict=True)) == {
        "champions": 1,  # Bo: R5, F5 + M4
        "loyal": 0,
        "new": 1,  # Ed
        "needs_attention": 1,  # Di: R3, F1 + M3
        "at_risk": 1,  # Ada: R1, F5 + M5
        "hibernating": 1,  # Cy
        "no_orders": 1,
    }


def test_a_customer_added_since_the_refresh_counts_as_without_orders(client_for, rep, team, book):
    customer_values_refresh(today=END_OF_2025)
    CustomerFactory(owner=rep, team=team)

    data = chart(client_for(rep), "rfm-tiers")

    assert data["series"][0]["data"][data["extra"]["keys"].index("no_orders")] == 2


def test_lifetime_value_by_tier(client_for, rep, book):
    customer_values_refresh(today=END_OF_2025)

    data = chart(client_for(rep), "clv-by-tier")

    keys = data["extra"]["keys"]
    assert keys == ["champions", "loyal", "new", "needs_attention", "at_risk", "hibernating"]
    # Spend over 365 days × 3 years / customers: Champions (3000 + 800) × 3 / 2, New 50 × 3,
    # Hibernating (100 + 200) × 3 / 2.
    assert data["series"][0]["data"] == [5700.0, 0.0, 150.0, 0.0, 0.0, 450.0]
    assert data["series"][1]["data"] == [475.0, 0.0, 50.0, 0.0, 0.0, 150.0]
    assert data["series"][2]["data"] == [4.0, 0, 1.0, 0, 0, 1.0]
    assert "× 3 years" in data["note"]


def test_value_figures_do_not_follow_the_period(client_for, rep, book):
    customer_values_refresh(today=END_OF_2025)
    given = client_for(rep)

    december = chart(given, "top-customers", "from=2025-12-01&to=2025-12-30")

    assert december["extra"] == chart(given, "top-customers")["extra"]
    assert december["extra"]["customers"][0]["lifetime_value"] == 9000.0
    assert "not filtered by the period" in december["note"]


def test_top_customers_by_lifetime_value(client_for, rep, book):
    customer_values_refresh(today=END_OF_2025)

    data = chart(client_for(rep), "top-customers")

    assert [
        (row["name"], row["orders"], row["spend"], row["lifetime_value"])
        for row in data["extra"]["customers"]
    ] == [
        ("Ada", 6, 3000.0, 9000.0),
        ("Bo", 2, 800.0, 2400.0),
        ("Di", 1, 200.0, 600.0),
        ("Cy", 1, 100.0, 300.0),
        ("Ed", 1, 50.0, 150.0),
    ]


def test_other_team_sees_only_their_own_customers(client_for, other_team_rep, book):
    customer_values_refresh(today=END_OF_2025)
    given = client_for(other_team_rep)

    assert values(chart(given, "age-histogram"))["30–39"] == 1
    assert sum(chart(given, "age-histogram")["series"][0]["data"]) == 1
    assert values(chart(given, "spend-by-tier"), 0) == {
        "Normal": 0.0,
        "VIP": 10000.0,
        "Premium": 0.0,
    }
    assert [row["name"] for row in chart(given, "top-customers")["extra"]["customers"]] == ["Gus"]


def test_owner_filter(client_for, rep, rep_teammate, book):
    data = chart(client_for(rep), "age-histogram", f"{PERIOD_2025}&owner={rep_teammate.pk}")

    assert values(data)["70 and over"] == 1
    assert sum(data["series"][0]["data"]) == 1


def test_team_filter(client_for, manager, team, book):
    data = chart(client_for(manager), "spend-by-tier", f"{PERIOD_2025}&team={team.pk}")

    assert values(data, 0) == {"Normal": 350.0, "VIP": 3000.0, "Premium": 800.0}


def test_period_filter_applies_to_orders(client_for, rep, book):
    data = chart(client_for(rep), "spend-by-tier", "from=2024-01-01&to=2024-12-31")

    assert values(data, 0) == {"Normal": 5000.0, "VIP": 0.0, "Premium": 0.0}


def test_chart_as_csv(client_for, rep, book):
    response = client_for(rep).get(
        reverse("analytics:customer_analytics_chart", args=["spend-by-tier"])
        + f"?{PERIOD_2025}&format=csv"
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [
        ["Service tier", "Spend", "Orders"],
        ["Normal", "350.0", "3"],
        ["VIP", "3000.0", "6"],
        ["Premium", "800.0", "2"],
    ]
