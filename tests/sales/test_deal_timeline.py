"""Deals on the customer 360 page: their creation and stage changes on the timeline, and the
"Open deals" panel."""

from decimal import Decimal

import pytest
from django.urls import reverse

from customers.registry import profile_panels
from customers.selectors.timeline import customer_timeline
from sales.services.deals import deal_create, deal_move_stage
from sales.views.deals import customer_deals_panel
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory, pipeline_with_stages, stage_named

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(rep, team):
    return CustomerFactory(name="Ada Lovelace", owner=rep, team=team)


@pytest.fixture
def pipeline(db):
    return pipeline_with_stages(name="Hardware")


def deal_titles(page) -> list[str]:
    return [entry.title for entry in page.entries if entry.kind == "deal"]


def test_the_timeline_shows_a_deals_creation_and_moves(rep, customer, pipeline):
    # given
    deal = deal_create(actor=rep, name="Desks", customer=customer, pipeline=pipeline)
    deal = deal_move_stage(
        actor=rep, deal=deal, stage=stage_named(pipeline, "Proposal"), version=deal.version
    )

    # when
    page = customer_timeline(customer=customer, user=rep)

    # then newest first, linking to the deal, naming who moved it
    assert deal_titles(page) == [
        "Deal Desks moved from Lead to Proposal",
        "Deal Desks created in Lead",
    ]
    moved = next(entry for entry in page.entries if entry.kind == "deal")
    assert moved.url == reverse("sales:deal_detail", args=[deal.pk])
    assert moved.actor == "Riley Chen"


def test_the_timeline_pages_through_deal_entries(rep, customer, pipeline):
    # given one deal moved back and forth: 1 creation + 6 moves
    deal = deal_create(actor=rep, name="Desks", customer=customer, pipeline=pipeline)
    for _ in range(3):
        for name in ("Proposal", "Lead"):
            deal = deal_move_stage(
                actor=rep, deal=deal, stage=stage_named(pipeline, name), version=deal.version
            )

    # when
    titles, before = [], None
    while True:
        page = customer_timeline(customer=customer, user=rep, before=before, limit=3)
        titles += deal_titles(page)
        if page.next_cursor is None:
            break
        before = page.next_cursor

    # then every entry shows once
    assert len(titles) == 7
    assert titles[-1] == "Deal Desks created in Lead"


def test_the_timeline_leaves_out_deals_the_user_cannot_see(rep, other_team_rep, customer, pipeline):
    # given a deal of the customer owned by someone out of the rep's reach
    deal_create(
        actor=None,
        name="Hidden",
        customer=customer,
        owner=other_team_rep,
        team=None,
        pipeline=pipeline,
    )

    # when
    page = customer_timeline(customer=customer, user=rep)

    # then
    assert deal_titles(page) == []


def test_the_customer_page_shows_deal_entries(rep, rep_client, customer, pipeline):
    deal_create(actor=rep, name="Desks", customer=customer, pipeline=pipeline)
    body = rep_client.get(reverse("customers:customer_detail", args=[customer.pk])).content
    assert "Deal Desks created in Lead" in body.decode()


def test_the_open_deals_panel_counts_and_sums_with_links(rep, rep_client, customer, pipeline):
    # given two open deals, a won one, and another customer's deal
    DealFactory(customer=customer, owner=rep, amount=Decimal("1200.00"))
    DealFactory(customer=customer, owner=rep, amount=Decimal("300.00"))
    DealFactory(customer=customer, owner=rep, stage=stage_named(pipeline, "Won"))
    DealFactory(customer=CustomerFactory(owner=rep), owner=rep, amount=Decimal("5"))

    # when
    response = rep_client.get(reverse("customers:customer_detail", args=[customer.pk]))

    # then
    panel = next(panel for panel in response.context["panels"] if panel.title == "Open deals")
    assert panel.rows[:2] == [("Open deals", "2"), ("Open amount", "CN¥1,500.00")]
    assert panel.url == f"{reverse('sales:deal_list')}?customer={customer.pk}&status=open"
    body = response.content.decode()
    assert f'<a href="{reverse("sales:deal_create")}?customer={customer.pk}">New deal</a>' in body


def test_the_panel_is_registered_and_needs_the_deal_permission(user_without_role, customer):
    assert customer_deals_panel in profile_panels()
    assert customer_deals_panel(customer, user_without_role) is None
