"""What a campaign brought in: deals and orders attributed to it (explicitly or through the
customer's first campaign touch), and the figures built on them (revenue, cost per lead,
conversion rate, ROI), on hand-built data; and the report's bounded number of queries."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Order
from sales.models import Campaign, CampaignMember, Deal, Pipeline, Stage
from sales.selectors.campaigns import campaign_figures, campaign_report, campaigns_with_figures
from tests.customers.factories import CustomerFactory, OrderFactory
from tests.sales.factories import CampaignFactory, CampaignMemberFactory, DealFactory

pytestmark = pytest.mark.django_db

T0 = timezone.make_aware(datetime(2026, 3, 1, 9, 0))


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def member(campaign: Campaign, customer, at: datetime, **values) -> CampaignMember:
    created = CampaignMemberFactory(campaign=campaign, customer=customer, **values)
    # created_at is stamped on insert; attribution depends on it, so tests set it afterwards.
    CampaignMember.objects.filter(pk=created.pk).update(created_at=at)
    return created


def stage(kind: str) -> Stage:
    pipeline = Pipeline.objects.get(is_default=True)
    return pipeline.stages.filter(kind=kind).order_by("position").first()


def deal(customer, at: datetime, *, won: bool = False, **values) -> Deal:
    created = DealFactory(
        customer=customer, stage=stage(Stage.Kind.WON if won else Stage.Kind.OPEN), **values
    )
    Deal.objects.filter(pk=created.pk).update(created_at=at)
    return created


def order(customer, at: datetime, **values) -> Order:
    return OrderFactory(customer=customer, ordered_at=at, **values)


def figures_of(campaign: Campaign):
    return campaign_figures(campaigns_with_figures(Campaign.objects.filter(pk=campaign.pk)).get())


def test_a_deal_naming_the_campaign_counts_whoever_touched_the_customer_first():
    # given a customer first touched by spring, and a deal that names summer
    spring, summer = CampaignFactory(name="Spring"), CampaignFactory(name="Summer")
    customer = CustomerFactory()
    member(spring, customer, day(0))
    deal(customer, day(5), campaign=summer, won=True, amount=Decimal("1500.00"))

    # then the deal is summer's, not spring's
    assert (figures_of(summer).deals, figures_of(summer).won_revenue) == (1, Decimal("1500.00"))
    assert figures_of(spring).deals == 0


def test_a_deal_without_campaign_goes_to_the_first_touch_made_before_it():
    campaign = CampaignFactory()
    customer = CustomerFactory()
    member(campaign, customer, day(0))
    deal(customer, day(3), won=True, amount=Decimal("900.00"))
    deal(customer, day(4), amount=Decimal("400.00"))

    figures = figures_of(campaign)

    assert (figures.deals, figures.won_deals) == (2, 1)
    assert figures.won_revenue == Decimal("900.00")


def test_a_touch_after_the_deal_was_created_earns_nothing():
    campaign = CampaignFactory()
    customer = CustomerFactory()
    deal(customer, day(0), won=True)
    member(campaign, customer, day(1))

    figures = figures_of(campaign)

    assert (figures.members, figures.deals, figures.won_deals) == (1, 0, 0)
    assert figures.revenue == Decimal("0")


def test_a_customer_in_two_campaigns_is_attributed_to_the_first_one_only():
    first, second = CampaignFactory(name="First"), CampaignFactory(name="Second")
    customer = CustomerFactory()
    # Added to the second campaign later, though that row was inserted first.
    member(second, customer, day(2))
    member(first, customer, day(1))
    deal(customer, day(3), won=True, amount=Decimal("700.00"))
    order(customer, day(4), total_amount=Decimal("50.00"))

    assert (figures_of(first).deals, figures_of(first).revenue) == (1, Decimal("750.00"))
    assert (figures_of(second).deals, figures_of(second).revenue) == (0, Decimal("0"))


def test_touches_at_the_same_instant_go_to_the_membership_made_first():
    earlier_row, later_row = CampaignFactory(), CampaignFactory()
    customer = CustomerFactory()
    member(earlier_row, customer, day(0))
    member(later_row, customer, day(0))
    deal(customer, day(1))

    assert (figures_of(earlier_row).deals, figures_of(later_row).deals) == (1, 0)


def test_orders_after_the_first_touch_count_except_cancelled_refunded_and_other_currencies():
    campaign = CampaignFactory(currency="CNY")
    customer = CustomerFactory()
    member(campaign, customer, day(0))
    order(customer, day(-1), total_amount=Decimal("1000.00"))  # before the touch
    order(customer, day(1), total_amount=Decimal("120.50"))
    order(customer, day(400), total_amount=Decimal("79.50"), status=Order.Status.PAID)
    order(customer, day(2), total_amount=Decimal("300.00"), status=Order.Status.CANCELLED)
    order(customer, day(2), total_amount=Decimal("300.00"), status=Order.Status.REFUNDED)
    order(customer, day(2), total_amount=Decimal("300.00"), currency="USD")
    # An order of a customer who is not a member.
    order(CustomerFactory(), day(2), total_amount=Decimal("999.00"))

    assert figures_of(campaign).order_revenue == Decimal("200.00")


def test_deals_in_another_currency_count_as_deals_but_not_as_revenue():
    campaign = CampaignFactory(currency="CNY")
    customer = CustomerFactory()
    deal(customer, day(1), campaign=campaign, won=True, amount=Decimal("10.00"), currency="USD")

    figures = figures_of(campaign)

    assert (figures.deals, figures.won_deals, figures.won_revenue) == (1, 1, Decimal("0"))


def test_roi_cost_per_lead_and_conversion_rate_are_exact():
    # given a campaign that cost 800 and reached three customers, one of whom converted
    campaign = CampaignFactory(actual_cost=Decimal("800.00"))
    ada, bo, cy = CustomerFactory(), CustomerFactory(), CustomerFactory()
    member(campaign, ada, day(0), response=CampaignMember.Response.CONVERTED)
    member(campaign, bo, day(0), response=CampaignMember.Response.OPENED)
    member(campaign, cy, day(0), response=CampaignMember.Response.RESPONDED)
    # a won deal naming the campaign, an open one attributed by touch, an order after the touch
    deal(ada, day(1), campaign=campaign, won=True, amount=Decimal("1500.00"))
    deal(bo, day(2), amount=Decimal("700.00"))
    order(cy, day(3), total_amount=Decimal("300.00"))

    figures = figures_of(campaign)

    assert (figures.members, figures.leads) == (3, 3)
    assert (figures.sent, figures.opened, figures.responded, figures.converted) == (0, 1, 1, 1)
    assert (figures.deals, figures.won_deals) == (2, 1)
    assert figures.revenue == Decimal("1800.00")
    assert figures.cost_per_lead == Decimal("266.67")
    assert figures.conversion_rate == Decimal("0.3333")
    # (1800 - 800) / 800
    assert figures.roi == Decimal("1.2500")


def test_a_campaign_that_cost_nothing_has_no_roi_and_one_without_members_no_rates():
    free = CampaignFactory(actual_cost=Decimal("0"))
    member(free, CustomerFactory(), day(0))
    empty = CampaignFactory(actual_cost=Decimal("500.00"))

    assert figures_of(free).roi is None
    assert figures_of(free).cost_per_lead == Decimal("0.00")
    assert (figures_of(empty).cost_per_lead, figures_of(empty).conversion_rate) == (None, None)
    assert figures_of(empty).roi == Decimal("-1.0000")


def test_the_report_counts_every_attributed_deal_but_lists_only_visible_campaigns(
    rep, other_team_rep, other_team
):
    # given the rep's campaign, with a deal of a customer the rep may not see
    mine = CampaignFactory(name="Mine", owner=rep)
    CampaignFactory(name="Theirs", owner=other_team_rep, team=other_team)
    hidden = CustomerFactory(owner=other_team_rep, team=other_team)
    deal(hidden, day(1), campaign=mine, won=True, amount=Decimal("100.00"))

    rows = {campaign.name: campaign_figures(campaign) for campaign in campaign_report(user=rep)}

    assert list(rows) == ["Mine"]
    assert rows["Mine"].won_revenue == Decimal("100.00")


def _campaigns_with_data(count: int, owner) -> None:
    for _ in range(count):
        campaign = CampaignFactory(owner=owner)
        customer = CustomerFactory()
        member(campaign, customer, day(0))
        deal(customer, day(1), won=True)
        order(customer, day(2))


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "url", ["/sales/campaigns/report/", "/sales/campaigns/report.csv", "/api/v1/campaigns/"]
)
def test_the_report_reads_the_same_number_of_queries_for_3_or_10_campaigns(
    manager, client_for, url
):
    client = client_for(manager)
    _campaigns_with_data(3, manager)
    with_three = queries_for(client, url)

    _campaigns_with_data(7, manager)
    with_ten = queries_for(client, url)

    assert with_ten == with_three
    assert with_three <= 12
