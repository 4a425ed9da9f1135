"""The deal board: columns with their counts and amounts, filters, "load more", quick add, and
moving a card (dragged: JSON; from the keyboard menu without JavaScript: a redirect)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sales.models import Deal, DealStageChange, Pipeline
from sales.services.deals import deal_create, deal_move_stage
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory, pipeline_with_stages, stage_named

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
HTMX = {"HTTP_HX_REQUEST": "true"}


def board_url(pipeline: Pipeline) -> str:
    return reverse("sales:board_pipeline", args=[pipeline.pk])


def move_url(deal: Deal) -> str:
    return reverse("sales:deal_move", args=[deal.pk])


def columns_by_name(response) -> dict:
    return {column.stage.name: column for column in response.context["columns"]}


@pytest.fixture
def pipeline(db):
    return pipeline_with_stages(name="Hardware")


@pytest.fixture
def customer(rep, team):
    return CustomerFactory(name="Ada Lovelace", owner=rep, team=team)


def make_deal(*, customer, owner, pipeline, name="Deal", amount="1000.00", **values) -> Deal:
    return deal_create(
        actor=None,
        name=name,
        customer=customer,
        owner=owner,
        team=None,
        pipeline=pipeline,
        amount=Decimal(amount),
        **values,
    )


# Columns -----------------------------------------------------------------------------------------


def test_columns_count_and_sum_the_deals_of_each_stage(rep, rep_client, customer, pipeline):
    # given two deals in Lead and one in Proposal
    lead, proposal = stage_named(pipeline, "Lead"), stage_named(pipeline, "Proposal")
    DealFactory(customer=customer, owner=rep, stage=lead, amount=Decimal("100.00"))
    DealFactory(customer=customer, owner=rep, stage=lead, amount=Decimal("250.50"))
    DealFactory(customer=customer, owner=rep, stage=proposal, amount=Decimal("1000.00"))

    # when
    response = rep_client.get(board_url(pipeline))

    # then
    assert response.status_code == 200
    columns = columns_by_name(response)
    assert list(columns) == ["Lead", "Proposal", "Won", "Lost"]
    assert (columns["Lead"].count, columns["Lead"].total) == (2, Decimal("350.50"))
    assert columns["Lead"].weighted == Decimal("35.05")
    assert (columns["Proposal"].count, columns["Proposal"].weighted) == (1, Decimal("500.00"))
    assert columns["Won"].count == 0
    body = response.content.decode()
    assert "350.50" in body
    assert 'data-stage-kind="lost"' in body


def test_the_default_board_shows_the_default_pipeline_with_a_switcher(rep_client, pipeline):
    # when
    response = rep_client.get(reverse("sales:board"))

    # then
    assert response.context["pipeline"] == Pipeline.objects.get(is_default=True)
    assert response.context["columns"][0].stage.name == "Qualification"
    assert f'href="{board_url(pipeline)}"' in response.content.decode()


def test_cards_show_the_deal_and_link_to_it(rep, rep_client, customer, pipeline):
    # given
    deal = make_deal(
        customer=customer,
        owner=rep,
        pipeline=pipeline,
        name="Forty desks",
        amount="4200.00",
        currency="EUR",
        expected_close_date=date(2026, 12, 24),
    )

    # when
    body = rep_client.get(board_url(pipeline)).content.decode()

    # then
    assert "Forty desks" in body
    assert "Ada Lovelace" in body
    assert "€4,200.00" in body
    assert "Riley Chen" in body
    assert reverse("sales:deal_detail", args=[deal.pk]) in body
    assert f'id="deal-card-{deal.pk}" tabindex="0" draggable="true"' in body


def test_stale_deals_are_flagged_with_their_days_in_stage(rep, rep_client, customer, pipeline):
    # given Lead goes stale after 7 days
    lead = stage_named(pipeline, "Lead")
    DealFactory(
        name="Sleepy",
        customer=customer,
        owner=rep,
        stage=lead,
        stage_entered_at=timezone.now() - timedelta(days=9, hours=1),
    )
    DealFactory(name="Fresh", customer=customer, owner=rep, stage=lead)

    # when
    response = rep_client.get(board_url(pipeline))

    # then
    cards = {card.name: card for card in columns_by_name(response)["Lead"].cards}
    assert cards["Sleepy"].is_stale and not cards["Fresh"].is_stale
    body = response.content.decode()
    assert body.count(">Stale<") == 1
    assert "9 days in stage" in body


# Filters and visibility --------------------------------------------------------------------------


def test_filters_narrow_cards_and_totals(rep, rep_teammate, rep_client, customer, pipeline):
    # given
    lead = stage_named(pipeline, "Lead")
    DealFactory(name="Desks", customer=customer, owner=rep, stage=lead, amount=Decimal("100"))
    DealFactory(
        name="Chairs",
        customer=customer,
        owner=rep_teammate,
        stage=lead,
        amount=Decimal("200"),
        expected_close_date=date(2026, 3, 1),
    )
    DealFactory(
        name="Lamps",
        customer=customer,
        owner=rep,
        stage=lead,
        amount=Decimal("400"),
        expected_close_date=date(2026, 6, 1),
    )

    def lead_column(**params):
        response = rep_client.get(board_url(pipeline), params)
        column = columns_by_name(response)["Lead"]
        return column.count, column.total, sorted(card.name for card in column.cards)

    # when / then
    assert lead_column(owner=rep.pk) == (2, Decimal("500"), ["Desks", "Lamps"])
    assert lead_column(q="chai") == (1, Decimal("200"), ["Chairs"])
    assert lead_column(close_from="2026-02-01", close_to="2026-04-01") == (
        1,
        Decimal("200"),
        ["Chairs"],
    )
    assert lead_column(team=rep.teams.get().pk)[0] == 0


def test_another_teams_deals_are_neither_shown_nor_counted(
    rep, rep_client, other_team_rep, customer, pipeline
):
    # given
    lead = stage_named(pipeline, "Lead")
    DealFactory(name="Mine", customer=customer, owner=rep, stage=lead, amount=Decimal("100"))
    DealFactory(
        name="Theirs",
        customer=CustomerFactory(owner=other_team_rep),
        owner=other_team_rep,
        stage=lead,
        amount=Decimal("9999"),
    )

    # when
    response = rep_client.get(board_url(pipeline))

    # then
    column = columns_by_name(response)["Lead"]
    assert (column.count, column.total) == (1, Decimal("100"))
    assert "Theirs" not in response.content.decode()


def test_load_more_brings_the_next_cards_and_keeps_the_filters(rep, rep_client, customer, pipeline):
    # given 25 matching deals in Lead and some that the search leaves out
    lead = stage_named(pipeline, "Lead")
    DealFactory.create_batch(25, customer=customer, owner=rep, stage=lead, name="Desk deal")
    DealFactory.create_batch(3, customer=customer, owner=rep, stage=lead, name="Chair deal")

    # when
    first = columns_by_name(rep_client.get(board_url(pipeline), {"q": "desk"}))["Lead"]
    column_url = reverse("sales:board_column", args=[pipeline.pk, lead.pk])
    more = rep_client.get(column_url, {"q": "desk", "offset": 20}, **HTMX)

    # then
    assert (len(first.cards), first.has_more, first.count) == (20, True, 25)
    assert more.status_code == 200
    assert len(more.context["cards"]) == 5
    assert more.context["has_more"] is False
    body = more.content.decode()
    assert "<html" not in body
    assert body.count("data-deal-card") == 5
    assert "Chair deal" not in body
    shown = {card.pk for card in first.cards} | {card.pk for card in more.context["cards"]}
    assert len(shown) == 25


def test_the_load_more_link_carries_the_filters_and_the_next_offset(
    rep, rep_client, customer, pipeline
):
    # given
    lead = stage_named(pipeline, "Lead")
    DealFactory.create_batch(21, customer=customer, owner=rep, stage=lead, name="Desk deal")

    # when
    body = rep_client.get(board_url(pipeline), {"q": "desk"}).content.decode()

    # then
    column_url = reverse("sales:board_column", args=[pipeline.pk, lead.pk])
    assert f'hx-get="{column_url}?q=desk&amp;offset=20"' in body


def test_load_more_refuses_a_bad_offset_and_a_stage_of_another_pipeline(rep_client, pipeline):
    lead = stage_named(pipeline, "Lead")
    column_url = reverse("sales:board_column", args=[pipeline.pk, lead.pk])
    assert rep_client.get(column_url, {"offset": "-3"}).status_code == 400
    assert rep_client.get(column_url, {"offset": "x"}).status_code == 400
    default_stage = Pipeline.objects.get(is_default=True).stages.first()
    other = reverse("sales:board_column", args=[pipeline.pk, default_stage.pk])
    assert rep_client.get(other).status_code == 404


def test_the_board_costs_the_same_queries_with_5_or_50_deals(
    rep, client_for, customer, pipeline, django_assert_max_num_queries
):
    # given
    lead, proposal = stage_named(pipeline, "Lead"), stage_named(pipeline, "Proposal")

    def queries_for_board():
        client = client_for(rep)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(board_url(pipeline))
        assert response.status_code == 200
        return len(captured)

    DealFactory.create_batch(3, customer=customer, owner=rep, stage=lead)
    DealFactory.create_batch(2, customer=customer, owner=rep, stage=proposal)
    with_5 = queries_for_board()

    DealFactory.create_batch(25, customer=customer, owner=rep, stage=lead)
    DealFactory.create_batch(20, customer=customer, owner=rep, stage=proposal)
    with_50 = queries_for_board()

    # then
    assert with_50 == with_5
    client = client_for(rep)
    with django_assert_max_num_queries(with_5):
        client.get(board_url(pipeline))


# Quick add ---------------------------------------------------------------------------------------


def test_quick_add_creates_a_deal_in_the_first_stage_of_the_board(
    rep, rep_client, customer, pipeline
):
    # when
    response = rep_client.post(
        f"{board_url(pipeline)}?q=desk",
        {"name": "Standing desks", "customer": customer.pk, "amount": "1500"},
    )

    # then
    deal = Deal.objects.get(name="Standing desks")
    assert response.status_code == 302
    assert response["Location"] == f"{board_url(pipeline)}?q=desk"
    assert (deal.pipeline, deal.stage.name, deal.amount) == (pipeline, "Lead", Decimal("1500"))
    assert deal.stage_changes.count() == 1


def test_quick_add_without_a_customer_says_so(rep_client, pipeline):
    # when
    response = rep_client.post(board_url(pipeline), {"name": "Orphan", "customer": ""})

    # then
    assert response.status_code == 400
    assert response.context["quick_form"].errors["customer"]
    assert not Deal.objects.filter(name="Orphan").exists()


def test_quick_add_refuses_a_customer_the_user_cannot_see(rep_client, other_team_rep, pipeline):
    hidden = CustomerFactory(owner=other_team_rep)
    response = rep_client.post(board_url(pipeline), {"name": "Sneaky", "customer": hidden.pk})
    assert response.status_code == 400
    assert not Deal.objects.filter(name="Sneaky").exists()


# Moving a card -----------------------------------------------------------------------------------


def test_a_dragged_card_is_moved_with_history_and_comes_back_updated(
    rep, rep_client, customer, pipeline
):
    # given
    deal = make_deal(customer=customer, owner=rep, pipeline=pipeline, amount="800.00")
    proposal = stage_named(pipeline, "Proposal")

    # when
    response = rep_client.post(
        f"{move_url(deal)}?q=deal", {"stage": proposal.pk, "version": deal.version}, **JSON
    )

    # then the deal moved, its history says who moved it, and the board gets the new card
    assert response.status_code == 200
    deal.refresh_from_db()
    assert (deal.stage, deal.version) == (proposal, 2)
    change = DealStageChange.objects.filter(deal=deal).latest("changed_at", "pk")
    assert (change.from_stage.name, change.to_stage, change.changed_by) == ("Lead", proposal, rep)
    payload = response.json()
    assert payload["version"] == 2
    assert 'data-version="2"' in payload["card"]
    assert f'data-stage-id="{proposal.pk}"' in payload["card"]
    assert "?q=deal" in payload["card"]
    headers = payload["headers"]
    assert set(headers) == {str(stage.pk) for stage in pipeline.stages.all()}
    assert "800.00" in headers[str(proposal.pk)]
    assert ">0</span>" in headers[str(stage_named(pipeline, "Lead").pk)]


def test_a_stale_version_is_refused_with_409_and_changes_nothing(
    rep, rep_client, customer, pipeline
):
    # given someone moved the deal after the board was loaded
    deal = make_deal(customer=customer, owner=rep, pipeline=pipeline)
    seen_version = deal.version
    deal_move_stage(
        actor=None, deal=deal, stage=stage_named(pipeline, "Proposal"), version=seen_version
    )

    # when
    response = rep_client.post(
        move_url(deal), {"stage": stage_named(pipeline, "Won").pk, "version": seen_version}, **JSON
    )

    # then
    assert response.status_code == 409
    assert "changed by someone else" in response.json()["error"]
    deal.refresh_from_db()
    assert (deal.stage.name, deal.version) == ("Proposal", 2)
    assert deal.stage_changes.count() == 2


def test_a_move_to_lost_needs_a_reason(rep, rep_client, customer, pipeline):
    # given
    deal = make_deal(customer=customer, owner=rep, pipeline=pipeline)
    lost = stage_named(pipeline, "Lost")

    # when
    refused = rep_client.post(move_url(deal), {"stage": lost.pk, "version": 1}, **JSON)
    accepted = rep_client.post(
        move_url(deal),
        {"stage": lost.pk, "version": 1, "lost_reason": "price", "lost_note": "Too dear"},
        **JSON,
    )

    # then
    assert refused.status_code == 400
    assert "lost" in refused.json()["error"]
    assert accepted.status_code == 200
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason, deal.lost_note) == (lost, "price", "Too dear")


def test_a_move_to_a_stage_of_another_pipeline_is_refused(rep, rep_client, customer, pipeline):
    deal = make_deal(customer=customer, owner=rep, pipeline=pipeline)
    elsewhere = Pipeline.objects.get(is_default=True).stages.first()
    response = rep_client.post(move_url(deal), {"stage": elsewhere.pk, "version": 1}, **JSON)
    assert response.status_code == 400
    assert "Move to" in response.json()["error"]
    deal.refresh_from_db()
    assert deal.stage.name == "Lead"


def test_the_keyboard_menu_without_javascript_moves_and_returns_to_the_board(
    rep, rep_client, customer, pipeline
):
    # given the card's "Move" form, as the board renders it
    deal = make_deal(customer=customer, owner=rep, pipeline=pipeline)
    proposal = stage_named(pipeline, "Proposal")
    back = f"{board_url(pipeline)}?q=deal"
    body = rep_client.get(back).content.decode()
    assert f'action="{move_url(deal)}"' in body
    assert f'<option value="{proposal.pk}" data-kind="open">Proposal</option>' in body

    # when
    response = rep_client.post(move_url(deal), {"stage": proposal.pk, "version": 1, "next": back})

    # then
    assert response.status_code == 302
    assert response["Location"] == back
    deal.refresh_from_db()
    assert deal.stage == proposal


def test_without_javascript_a_lost_move_asks_for_the_reason_on_a_page(
    rep, rep_client, customer, pipeline
):
    deal = make_deal(customer=customer, owner=rep, pipeline=pipeline)
    lost = stage_named(pipeline, "Lost")

    response = rep_client.post(
        move_url(deal), {"stage": lost.pk, "version": 1, "next": board_url(pipeline)}
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "Say why the deal was lost." in body
    assert 'name="lost_reason"' in body
    assert f'<option value="{lost.pk}" data-kind="lost" selected>' in body


def test_the_move_redirect_stays_on_this_site(rep, rep_client, customer, pipeline):
    deal = make_deal(customer=customer, owner=rep, pipeline=pipeline)
    response = rep_client.post(
        move_url(deal),
        {"stage": stage_named(pipeline, "Proposal").pk, "version": 1, "next": "https://evil.test/"},
    )
    assert response["Location"] == reverse("sales:deal_detail", args=[deal.pk])


def test_another_teams_deal_cannot_be_moved(rep_client, other_team_rep, pipeline):
    deal = make_deal(
        customer=CustomerFactory(owner=other_team_rep), owner=other_team_rep, pipeline=pipeline
    )
    response = rep_client.post(
        move_url(deal), {"stage": stage_named(pipeline, "Won").pk, "version": 1}, **JSON
    )
    assert response.status_code == 404
    deal.refresh_from_db()
    assert deal.stage.name == "Lead"


def test_moving_needs_the_change_permission(client_for, user_without_role, pipeline):
    deal = DealFactory(stage=stage_named(pipeline, "Lead"))
    response = client_for(user_without_role).post(
        move_url(deal), {"stage": stage_named(pipeline, "Won").pk, "version": 1}
    )
    assert response.status_code == 403


def test_the_board_needs_the_view_permission(client_for, user_without_role):
    assert client_for(user_without_role).get(reverse("sales:board")).status_code == 403
