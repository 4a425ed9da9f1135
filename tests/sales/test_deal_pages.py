"""The deal pages: the list (filters, sorting, pages), a deal's page, adding, editing (with line
items and optimistic locking) and deleting, each through the visibility rule."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from collaboration.models import Task
from sales.models import Deal, Pipeline
from sales.services.deals import deal_create, deal_move_stage, deal_update
from tests.collaboration.factories import TaskFactory
from tests.customers.factories import CustomerFactory, ProductFactory
from tests.sales.factories import DealFactory, pipeline_with_stages, stage_named

pytestmark = pytest.mark.django_db


def detail_url(deal: Deal) -> str:
    return reverse("sales:deal_detail", args=[deal.pk])


def edit_url(deal: Deal) -> str:
    return reverse("sales:deal_edit", args=[deal.pk])


@pytest.fixture
def customer(rep, team):
    return CustomerFactory(name="Ada Lovelace", owner=rep, team=team)


@pytest.fixture
def pipeline(db):
    return pipeline_with_stages(name="Hardware")


def edit_form(deal: Deal, **changes) -> dict:
    """What the edit page posts for `deal` unchanged, with `changes` applied."""
    form = {
        "name": deal.name,
        "customer": deal.customer_id,
        "stage": deal.stage_id,
        "amount": str(deal.amount),
        "currency": deal.currency,
        "expected_close_date": deal.expected_close_date or "",
        "owner": deal.owner_id or "",
        "team": deal.team_id or "",
        "forecast_category": deal.forecast_category,
        "source": deal.source,
        "campaign": "",
        "next_step": deal.next_step,
        "lost_reason": deal.lost_reason,
        "lost_note": deal.lost_note,
        "description": deal.description,
        "version": deal.version,
        "lines-TOTAL_FORMS": "0",
        "lines-INITIAL_FORMS": "0",
    }
    form.update(changes)
    return form


# List --------------------------------------------------------------------------------------------


def test_the_list_filters_sorts_and_shows_only_visible_deals(
    rep, rep_client, customer, other_team_rep
):
    # given
    DealFactory(name="Small", customer=customer, owner=rep, amount=Decimal("10"))
    DealFactory(name="Large", customer=customer, owner=rep, amount=Decimal("900"))
    DealFactory(
        name="Closing",
        customer=customer,
        owner=rep,
        amount=Decimal("500"),
        expected_close_date=date(2026, 5, 1),
    )
    DealFactory(name="Theirs", customer=CustomerFactory(owner=other_team_rep), owner=other_team_rep)
    list_url = reverse("sales:deal_list")

    def names(**params):
        return [deal.name for deal in rep_client.get(list_url, params).context["page"]]

    # when / then
    assert sorted(names()) == ["Closing", "Large", "Small"]
    assert names(ordering="-amount")[0] == "Large"
    assert names(ordering="amount")[0] == "Small"
    assert names(ordering="expected_close_date")[0] == "Closing"
    assert names(q="lar") == ["Large"]
    assert names(close_from="2026-04-01") == ["Closing"]
    assert names(ordering="bogus") == names()


def test_the_list_of_one_customers_deals_names_them(rep, rep_client, customer):
    DealFactory(name="Hers", customer=customer, owner=rep)
    DealFactory(name="Someone else's", customer=CustomerFactory(owner=rep), owner=rep)

    response = rep_client.get(reverse("sales:deal_list"), {"customer": customer.pk})

    assert [deal.name for deal in response.context["page"]] == ["Hers"]
    assert response.context["customer"] == customer
    assert f"?customer={customer.pk}" in response.content.decode()


def test_the_list_is_paged(rep, rep_client, customer, django_assert_max_num_queries):
    DealFactory.create_batch(55, customer=customer, owner=rep)
    with django_assert_max_num_queries(20):
        first = rep_client.get(reverse("sales:deal_list"))
    second = rep_client.get(reverse("sales:deal_list"), {"page": 2})
    assert len(first.context["page"]) == 50
    assert len(second.context["page"]) == 5


# Detail ------------------------------------------------------------------------------------------


def test_the_deal_page_shows_fields_lines_and_stage_history(rep, rep_client, customer, pipeline):
    # given a deal with two lines, moved once
    desk = ProductFactory(name="Desk", unit_price=Decimal("200.00"))
    deal = deal_create(
        actor=rep,
        name="Office fit-out",
        customer=customer,
        pipeline=pipeline,
        next_step="Send the quote",
        lines=[
            {"product": desk, "quantity": 3},
            {"product": desk, "quantity": 1, "unit_price": "100", "discount_percent": "10"},
        ],
    )
    deal = deal_move_stage(
        actor=rep, deal=deal, stage=stage_named(pipeline, "Proposal"), version=deal.version
    )

    # when
    response = rep_client.get(detail_url(deal))

    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert "Office fit-out" in body
    assert "Send the quote" in body
    assert "690.00" in body  # 3 × 200 + 100 less 10 %
    assert "Created in Lead" in body
    assert "Lead → Proposal" in body
    assert "Riley Chen" in body
    history = response.context["history"]
    assert history[1].time_in_previous == "0 min"
    assert reverse("sales:deal_edit", args=[deal.pk]) in body
    assert f'action="{reverse("sales:deal_move", args=[deal.pk])}"' in body


def test_another_teams_deal_is_not_found(rep_client, other_team_rep):
    deal = DealFactory(customer=CustomerFactory(owner=other_team_rep), owner=other_team_rep)
    for url in (detail_url(deal), edit_url(deal), reverse("sales:deal_delete", args=[deal.pk])):
        assert rep_client.get(url).status_code in (404, 403)
    assert rep_client.get(detail_url(deal)).status_code == 404
    assert rep_client.get(edit_url(deal)).status_code == 404


def test_a_teammates_deal_is_visible(rep_client, rep_teammate):
    deal = DealFactory(customer=CustomerFactory(owner=rep_teammate), owner=rep_teammate)
    assert rep_client.get(detail_url(deal)).status_code == 200


# Create ------------------------------------------------------------------------------------------


def test_the_new_deal_form_is_prefilled_from_the_customer_page(rep_client, customer):
    response = rep_client.get(reverse("sales:deal_create"), {"customer": customer.pk})
    body = response.content.decode()
    assert response.status_code == 200
    assert f'value="{customer.pk}" data-picker-value' in body
    assert 'value="Ada Lovelace"' in body
    default_first = Pipeline.objects.get(is_default=True).stages.order_by("position").first()
    assert response.context["form"]["stage"].initial == default_first.pk


def test_creating_a_deal_with_lines_sums_them(rep, rep_client, customer, pipeline):
    # given
    chair = ProductFactory(name="Chair", unit_price=Decimal("50.00"))
    form = edit_form(
        Deal(customer=customer, stage=stage_named(pipeline, "Proposal"), version=1),
        name="Chairs for HQ",
        amount="",
        currency="",
        owner="",
        team="",
        forecast_category="commit",
        **{
            "lines-TOTAL_FORMS": "2",
            "lines-0-product": chair.pk,
            "lines-0-quantity": "4",
            "lines-1-product": "",
            "lines-1-quantity": "1",
        },
    )

    # when
    response = rep_client.post(reverse("sales:deal_create"), form)

    # then
    deal = Deal.objects.get(name="Chairs for HQ")
    assert response.status_code == 302
    assert response["Location"] == detail_url(deal)
    assert (deal.stage.name, deal.pipeline, deal.amount) == ("Proposal", pipeline, Decimal("200"))
    assert (deal.owner, deal.currency, deal.forecast_category) == (rep, "CNY", "commit")
    assert deal.lines.count() == 1


def test_creating_a_lost_deal_without_a_reason_names_the_field(rep_client, customer, pipeline):
    form = edit_form(
        Deal(customer=customer, stage=stage_named(pipeline, "Lost"), version=1), name="Lost one"
    )
    response = rep_client.post(reverse("sales:deal_create"), form)
    assert response.status_code == 400
    assert response.context["form"].errors["lost_reason"] == ["Say why the deal was lost."]
    assert not Deal.objects.filter(name="Lost one").exists()


# Edit --------------------------------------------------------------------------------------------


def test_editing_saves_fields_and_replaces_lines(rep, rep_client, customer, pipeline):
    # given
    desk = ProductFactory(name="Desk", unit_price=Decimal("200.00"))
    deal = deal_create(
        actor=rep, name="Desks", customer=customer, pipeline=pipeline, lines=[{"product": desk}]
    )
    page = rep_client.get(edit_url(deal))
    assert page.status_code == 200
    assert page.context["lines"].forms[0].initial["product"] == desk.pk

    # when the name changes and the line goes from 1 to 5 desks at a discount
    response = rep_client.post(
        edit_url(deal),
        edit_form(
            deal,
            name="More desks",
            **{
                "lines-TOTAL_FORMS": "1",
                "lines-INITIAL_FORMS": "1",
                "lines-0-product": desk.pk,
                "lines-0-quantity": "5",
                "lines-0-unit_price": "200",
                "lines-0-discount_percent": "10",
            },
        ),
    )

    # then
    assert response.status_code == 302
    deal.refresh_from_db()
    assert (deal.name, deal.amount, deal.version) == ("More desks", Decimal("900.00"), 2)
    assert [line.quantity for line in deal.lines.all()] == [5]


def test_removing_every_line_keeps_no_line(rep, rep_client, customer, pipeline):
    desk = ProductFactory(name="Desk", unit_price=Decimal("200.00"))
    deal = deal_create(
        actor=rep, name="Desks", customer=customer, pipeline=pipeline, lines=[{"product": desk}]
    )
    response = rep_client.post(
        edit_url(deal),
        edit_form(
            deal,
            **{
                "lines-TOTAL_FORMS": "1",
                "lines-INITIAL_FORMS": "1",
                "lines-0-product": desk.pk,
                "lines-0-quantity": "1",
                "lines-0-DELETE": "on",
            },
        ),
    )
    assert response.status_code == 302
    assert deal.lines.count() == 0


def test_a_stale_edit_is_refused_with_409_and_changes_nothing(rep, rep_client, customer):
    # given the page was opened at version 1, then someone renamed the deal
    deal = deal_create(actor=rep, name="Original", customer=customer)
    opened = edit_form(deal, name="My rename", amount="5")
    deal_update(actor=None, deal=deal, version=1, name="Their rename")

    # when
    response = rep_client.post(edit_url(deal), opened)

    # then
    assert response.status_code == 409
    body = response.content.decode()
    assert "changed by someone else" in body
    assert "Reload" in body
    assert 'value="My rename"' in body
    deal.refresh_from_db()
    assert (deal.name, deal.version, deal.amount) == ("Their rename", 2, Decimal("0"))


def test_edit_errors_name_the_field(rep, rep_client, customer):
    deal = deal_create(actor=rep, name="Original", customer=customer)
    response = rep_client.post(edit_url(deal), edit_form(deal, name="", amount="-1"))
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "amount"}


# Delete ------------------------------------------------------------------------------------------


def test_deleting_asks_then_deletes(manager, client_for, team):
    deal = DealFactory(customer=CustomerFactory(team=team), team=team)
    client = client_for(manager)
    delete_url = reverse("sales:deal_delete", args=[deal.pk])

    confirm = client.get(delete_url)
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.content.decode()
    assert Deal.objects.filter(pk=deal.pk).exists()

    response = client.post(delete_url)
    assert response.status_code == 302
    assert not Deal.objects.filter(pk=deal.pk).exists()


def test_a_rep_cannot_delete(rep, rep_client, customer):
    deal = DealFactory(customer=customer, owner=rep)
    response = rep_client.post(reverse("sales:deal_delete", args=[deal.pk]))
    assert response.status_code == 403
    assert Deal.objects.filter(pk=deal.pk).exists()


def test_the_deal_page_lists_its_tasks_and_offers_a_new_one(rep, rep_client):
    deal = DealFactory(customer=CustomerFactory(owner=rep), owner=rep)
    deal_type = ContentType.objects.get_for_model(deal)
    TaskFactory(
        title="Send the revised quote", assignee=rep, related_type=deal_type, related_id=deal.pk
    )
    TaskFactory(
        title="Someone else's call",
        assignee=None,
        related_type=deal_type,
        related_id=deal.pk,
        status=Task.Status.OPEN,
    )

    page = rep_client.get(reverse("sales:deal_detail", args=[deal.pk])).content.decode()

    assert "Send the revised quote" in page
    assert "Someone else&#x27;s call" not in page and "Someone else's call" not in page
    assert f"related_type=sales.deal&amp;related_id={deal.pk}" in page
