"""The feedback-topics report (page, charts, CSV and API) against figures counted by hand, over
the tickets the reader may see."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import TicketPrediction
from crm.accounts import roles
from service.models import Ticket
from tests.accounts.factories import TeamFactory, UserFactory
from tests.service.factories import TicketCategoryFactory, TicketFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/feedback-topics/"


@pytest.fixture
def desk(db):
    return TeamFactory(name="Service desk")


@pytest.fixture
def agent(desk):
    user = UserFactory(username="agent", roles=[roles.SERVICE_AGENT])
    user.team_memberships.create(team=desk)
    return user


@pytest.fixture
def other_desk(db):
    return TeamFactory(name="Other desk")


@pytest.fixture
def other_agent(other_desk):
    user = UserFactory(username="other_agent", roles=[roles.SERVICE_AGENT])
    user.team_memberships.create(team=other_desk)
    return user


def _ticket(*, days_ago, team, category=None, text, rating=None, positive=None, predicted=None):
    ticket = TicketFactory(
        subject=text,
        description=text,
        team=team,
        category=category,
        satisfaction_rating=rating,
    )
    Ticket.objects.filter(pk=ticket.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    if positive is not None or predicted is not None:
        TicketPrediction.objects.create(
            ticket=ticket,
            category=predicted,
            positive_probability=positive,
            predicted_at=timezone.now(),
        )
    ticket.refresh_from_db()
    return ticket


@pytest.fixture
def tickets(desk, other_desk):
    billing = TicketCategoryFactory(name="Billing")
    delivery = TicketCategoryFactory(name="Delivery")
    return {
        "billing": billing,
        "delivery": delivery,
        "b1": _ticket(
            days_ago=2,
            team=desk,
            category=billing,
            text="Refund the invoice please 退款 发票",
            rating=2,
            positive=0.2,
        ),
        "b2": _ticket(
            days_ago=40,
            team=desk,
            category=billing,
            text="发票 invoice wrong",
            rating=5,
            positive=0.9,
        ),
        "b3": _ticket(
            days_ago=2, team=desk, category=billing, text="invoice refund 退款", positive=0.3
        ),
        "d1": _ticket(
            days_ago=40,
            team=desk,
            category=delivery,
            text="parcel courier 快递 late",
            rating=4,
            positive=0.8,
        ),
        # No category chosen: its topic is the one the model suggests.
        "u1": _ticket(
            days_ago=2,
            team=desk,
            text="courier parcel lost 快递 物流",
            positive=0.1,
            predicted=delivery,
        ),
        "n1": _ticket(days_ago=2, team=desk, text="hello there"),
        # Not the agent's: another desk's, and one from before the period.
        "hidden": _ticket(
            days_ago=2, team=other_desk, category=billing, text="invoice", rating=1, positive=0.1
        ),
        "old": _ticket(days_ago=200, team=desk, category=billing, text="invoice", rating=1),
    }


def _month(ticket) -> str:
    return timezone.localtime(ticket.created_at).strftime("%Y-%m")


def test_the_api_gives_the_figures_counted_by_hand(client_for, agent, tickets):
    # When the agent asks for the last 90 days
    response = client_for(agent).get(API, {"period": "90d"})

    # Then each topic has its hand-counted figures, the largest first
    assert response.status_code == 200
    data = response.json()
    assert data["period"] == "90d"
    assert data["tickets"] == 6
    by_name = {topic["name"]: topic for topic in data["topics"]}
    assert [topic["name"] for topic in data["topics"]] == ["Billing", "Delivery", "Uncategorised"]
    billing, delivery, none = by_name["Billing"], by_name["Delivery"], by_name["Uncategorised"]
    assert (billing["tickets"], billing["scored"], billing["negative"]) == (3, 3, 2)
    assert billing["negative_share"] == pytest.approx(0.6667)
    assert (billing["rated"], billing["csat_average"]) == (2, 3.5)
    assert (delivery["tickets"], delivery["scored"], delivery["negative"]) == (2, 2, 1)
    assert delivery["negative_share"] == 0.5
    assert (delivery["rated"], delivery["csat_average"]) == (1, 4.0)
    assert delivery["key"] == str(tickets["delivery"].pk)
    assert (none["key"], none["tickets"], none["negative_share"], none["csat_average"]) == (
        "none",
        1,
        None,
        None,
    )
    # and the words that set each topic apart, in both languages
    assert {"invoice", "退款", "发票"} <= set(billing["terms"])
    assert {"courier", "parcel", "快递"} <= set(delivery["terms"])
    assert not {"invoice", "courier"} & set(none["terms"])
    # and tickets per month
    months = [month[:7] for month in data["months"]]
    expected = dict.fromkeys(months, 0)
    for key in ("b1", "b2", "b3"):
        expected[_month(tickets[key])] += 1
    assert dict(zip(months, billing["monthly"], strict=True)) == expected


def test_another_desk_sees_only_its_own_tickets(client_for, other_agent, tickets):
    data = client_for(other_agent).get(API).json()

    assert [(topic["name"], topic["tickets"], topic["negative"]) for topic in data["topics"]] == [
        ("Billing", 1, 1)
    ]


def test_an_unknown_period_is_refused_by_the_api(client_for, agent):
    response = client_for(agent).get(API, {"period": "7y"})

    assert response.status_code == 400
    assert "period" in response.json()["error"]["fields"]


def test_the_page_shows_the_table_within_its_query_budget(
    client_for, agent, tickets, django_assert_max_num_queries
):
    client = client_for(agent)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("analytics:feedback_topics"), {"period": "365d"})

    body = page.content.decode()
    assert page.status_code == 200
    # The 365-day period also holds the 200-day-old ticket.
    assert f'data-topic="{tickets["billing"].pk}"' in body
    assert '<td class="text-end" data-tickets>4</td>' in body
    # The old ticket was never read by the sentiment model: 2 negative of the 3 read.
    assert "66.7%" in body
    assert "of 3 read" in body
    assert 'data-chart-url="/analytics/feedback-topics/chart/topics/"' in body
    assert 'href="/analytics/feedback-topics/"' in body  # the navigation entry


def test_the_report_downloads_as_csv(client_for, agent, tickets):
    response = client_for(agent).get(
        reverse("analytics:feedback_topics"), {"period": "90d", "format": "csv"}
    )

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Topic", "Tickets", "Read by the sentiment model"]
    assert rows[1][:6] == ["Billing", "3", "3", "66.7", "2", "3.5"]
    assert "发票" in rows[1][6]


def test_the_charts_draw_the_same_figures(client_for, agent, tickets):
    client = client_for(agent)
    url = reverse("analytics:feedback_topics_chart", args=["topics"])

    topics = client.get(url, {"period": "90d"}).json()
    trend = client.get(
        reverse("analytics:feedback_topics_chart", args=["trend"]), {"period": "90d"}
    ).json()
    csv_text = client.get(url, {"period": "90d", "format": "csv"}).content.decode("utf-8-sig")

    assert topics["labels"] == ["Billing", "Delivery", "Uncategorised"]
    assert topics["series"][0]["data"] == [3, 2, 1]
    assert topics["series"][1]["data"] == [66.7, 50.0, None]
    assert [series["label"] for series in trend["series"]] == [
        "Billing",
        "Delivery",
        "Uncategorised",
    ]
    assert sum(trend["series"][0]["data"]) == 3
    assert "Billing,3,66.7" in csv_text
    assert client.get(reverse("analytics:feedback_topics_chart", args=["nope"])).status_code == 404


def test_a_sales_rep_without_tickets_may_not_open_the_report(client_for, rep):
    assert client_for(rep).get(reverse("analytics:feedback_topics")).status_code == 403
    assert client_for(rep).get(API).status_code == 403
