"""The spend chart on the customer 360 page: monthly order totals summed in SQL, one series per
currency, under the visibility rule, with its empty state."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Order
from tests.customers.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def spend_url(customer) -> str:
    return f"/customers/{customer.pk}/spend/"


def months_ago(months: int, day: int = 10) -> datetime:
    this_month = timezone.localdate().replace(day=1)
    index = this_month.year * 12 + this_month.month - 1 - months
    moment = datetime(index // 12, index % 12 + 1, day, 12, 0)
    return timezone.make_aware(moment)


def test_the_chart_sums_each_month_and_currency_leaving_out_cancelled_orders(rep, rep_client):
    # given orders this month, two months ago (one cancelled, one in dollars) and three years ago
    customer = CustomerFactory(owner=rep)
    OrderFactory(customer=customer, ordered_at=months_ago(0, day=1), total_amount=Decimal("100"))
    OrderFactory(customer=customer, ordered_at=months_ago(0, day=1), total_amount=Decimal("50.5"))
    OrderFactory(customer=customer, ordered_at=months_ago(2), total_amount=Decimal("70"))
    OrderFactory(
        customer=customer,
        ordered_at=months_ago(2),
        total_amount=Decimal("999"),
        status=Order.Status.CANCELLED,
    )
    OrderFactory(
        customer=customer, ordered_at=months_ago(2), total_amount=Decimal("30"), currency="USD"
    )
    OrderFactory(customer=customer, ordered_at=months_ago(36), total_amount=Decimal("500"))

    # when the page fetches the chart
    chart = rep_client.get(spend_url(customer)).json()

    # then it covers the last 24 months, oldest first, one series per currency
    assert len(chart["labels"]) == 24
    series = {entry["label"]: entry["data"] for entry in chart["series"]}
    assert set(series) == {"CNY", "USD"}
    assert series["CNY"][-1] == 150.5
    assert series["CNY"][-3] == 70.0
    assert series["USD"][-3] == 30.0
    assert sum(series["CNY"]) == 220.5
    assert sum(series["USD"]) == 30.0


def test_month_labels_follow_the_language(rep, rep_client):
    customer = CustomerFactory(owner=rep)
    OrderFactory(customer=customer)

    chart = rep_client.get(spend_url(customer), HTTP_ACCEPT_LANGUAGE="zh-hans").json()

    assert chart["labels"][-1].endswith("月")


def test_a_customer_without_orders_has_an_empty_chart_and_an_empty_state(rep, rep_client):
    customer = CustomerFactory(owner=rep)

    assert rep_client.get(spend_url(customer)).json()["series"] == []
    page = rep_client.get(f"/customers/{customer.pk}/").content.decode()
    assert "Spend by month" in page
    assert "No orders yet, so no spend to chart." in page
    assert "data-spend-url" not in page


def test_the_360_page_draws_the_chart_for_a_customer_with_orders(rep, rep_client):
    customer = CustomerFactory(owner=rep, order_count=1)
    OrderFactory(customer=customer)

    page = rep_client.get(f"/customers/{customer.pk}/").content.decode()

    assert f'data-spend-url="{spend_url(customer)}"' in page
    assert "js/customer_spend.js" in page


def test_a_customer_the_user_may_not_see_has_no_chart(rep_client, other_team_rep, other_team):
    customer = CustomerFactory(owner=other_team_rep, team=other_team)
    OrderFactory(customer=customer)

    assert rep_client.get(spend_url(customer)).status_code == 404


def test_without_the_right_to_see_orders_there_is_no_chart(rep, client_for):
    customer = CustomerFactory(owner=rep, order_count=1)
    OrderFactory(customer=customer)
    rep.user_permissions.remove(Permission.objects.get(codename="view_order"))
    for group in rep.groups.all():
        group.permissions.remove(Permission.objects.get(codename="view_order"))
    client = client_for(rep)

    assert client.get(spend_url(customer)).status_code == 403
    assert "Spend by month" not in client.get(f"/customers/{customer.pk}/").content.decode()


def test_the_chart_costs_the_same_queries_however_many_orders(rep, rep_client):
    customer = CustomerFactory(owner=rep)
    OrderFactory(customer=customer, ordered_at=months_ago(1))
    rep_client.get(spend_url(customer))
    with CaptureQueriesContext(connection) as few:
        rep_client.get(spend_url(customer))
    for months in range(24):
        OrderFactory.create_batch(3, customer=customer, ordered_at=months_ago(months))
    with CaptureQueriesContext(connection) as many:
        chart = rep_client.get(spend_url(customer)).json()

    assert len(many) == len(few)
    assert all(total > 0 for total in chart["series"][0]["data"])


def test_an_order_at_the_turn_of_the_month_counts_in_local_time(rep, rep_client, settings):
    # an order at 00:30 local time on the 1st belongs to that month, whatever UTC says
    customer = CustomerFactory(owner=rep)
    first = timezone.localtime().replace(day=1, hour=0, minute=30, second=0, microsecond=0)
    OrderFactory(customer=customer, ordered_at=first, total_amount=Decimal("10"))
    OrderFactory(
        customer=customer, ordered_at=first - timedelta(hours=1), total_amount=Decimal("20")
    )

    series = rep_client.get(spend_url(customer)).json()["series"][0]["data"]

    assert series[-1] == 10.0
    assert series[-2] == 20.0
