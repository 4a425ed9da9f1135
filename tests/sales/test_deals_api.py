"""/api/v1/ pipelines, stages, deals (with line items, the move action and history) and stage
changes: visibility, writes through the services, optimistic locking and permissions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sales.models import Deal, DealStageChange, Pipeline, Stage
from sales.services.deals import deal_create, deal_move_stage
from tests.customers.factories import CustomerFactory, ProductFactory
from tests.sales.factories import CampaignFactory, pipeline_with_stages, stage_named

pytestmark = pytest.mark.django_db


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def error(response, status_code: int) -> dict:
    assert response.status_code == status_code, response.content
    body = response.json()["error"]
    # A 409 also names the version to reload from.
    expected = {"code", "message", "fields"} | (
        {"current_version"} if status_code == 409 else set()
    )
    assert body.keys() == expected
    return body


def error_fields(response) -> dict:
    body = error(response, 400)
    assert body["code"] == "validation_error"
    return body["fields"]


def default_stage(name: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, name=name)


def make_deal(owner, **values) -> Deal:
    """A deal created through the service (so with its first history row), owned by `owner`."""
    team = owner.teams.first() if owner is not None else None
    values.setdefault("customer", CustomerFactory(owner=owner, team=team))
    values.setdefault("name", "Tea for the office")
    return deal_create(actor=None, owner=owner, team=team, **values)


@pytest.fixture
def hidden_deal(other_team_rep):
    return make_deal(other_team_rep, name="Hidden deal")


# Pipelines and stages ----------------------------------------------------------------------------


def test_pipelines_list_their_stages_in_board_order(rep_client):
    # given the default pipeline from the migrations  # when
    rows = results(rep_client.get("/api/v1/pipelines/"))

    # then
    assert [row["name"] for row in rows] == ["Sales"]
    stages = rows[0]["stages"]
    assert [stage["name"] for stage in stages] == [
        "Qualification",
        "Needs analysis",
        "Proposal",
        "Negotiation",
        "Won",
        "Lost",
    ]
    assert (stages[4]["kind"], stages[4]["probability"]) == ("won", 100)


def test_manager_creates_updates_and_deletes_a_pipeline_and_its_stages(manager, client_for):
    # given
    client = client_for(manager)

    # when
    created = post(client, "/api/v1/pipelines/", {"name": "Renewals", "position": 2})
    pipeline_id = created.json()["id"]
    stage = post(
        client,
        "/api/v1/stages/",
        {"pipeline": pipeline_id, "name": "Due", "position": 0, "probability": 60},
    )
    renamed = patch(client, f"/api/v1/pipelines/{pipeline_id}/", {"name": "Renewals 2026"})
    listed = results(client.get("/api/v1/stages/", {"pipeline": pipeline_id}))
    deleted = client.delete(f"/api/v1/pipelines/{pipeline_id}/")

    # then
    assert created.status_code == 201, created.content
    assert stage.status_code == 201, stage.content
    assert renamed.status_code == 200
    assert renamed.json()["stages"][0]["name"] == "Due"
    assert [row["name"] for row in listed] == ["Due"]
    assert deleted.status_code == 204
    assert not Pipeline.objects.filter(pk=pipeline_id).exists()
    assert not Stage.objects.filter(pipeline_id=pipeline_id).exists()


def test_a_pipeline_or_stage_with_deals_is_not_deleted(manager, client_for):
    # given a deal in the default pipeline's first stage
    client = client_for(manager)
    deal = make_deal(manager)

    # when
    pipeline_response = client.delete(f"/api/v1/pipelines/{deal.pipeline_id}/")
    stage_response = client.delete(f"/api/v1/stages/{deal.stage_id}/")

    # then both are refused with a clear message, and both are still there
    assert error(pipeline_response, 400)["code"] == "in_use"
    assert "Sales" in pipeline_response.json()["error"]["message"]
    assert error(stage_response, 400)["code"] == "in_use"
    assert Pipeline.objects.filter(pk=deal.pipeline_id).exists()
    assert Stage.objects.filter(pk=deal.stage_id).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "Closed", "kind": "won", "probability": 90}, "probability"),
        ({"name": "Dropped", "kind": "lost"}, "probability"),
        ({"name": "Too sure", "probability": 101}, "probability"),
        ({"name": "Typo", "probabilty": 10}, "probabilty"),
    ],
)
def test_stage_create_refuses_bad_values(manager, client_for, data, field):
    # given
    pipeline = Pipeline.objects.get(is_default=True)
    count = Stage.objects.count()

    # when
    response = post(client_for(manager), "/api/v1/stages/", {"pipeline": pipeline.pk, **data})

    # then
    assert field in error_fields(response)
    assert Stage.objects.count() == count


def test_stage_names_are_unique_within_a_pipeline(manager, client_for):
    # given the default pipeline's Qualification stage and another pipeline
    pipeline = Pipeline.objects.get(is_default=True)
    other = pipeline_with_stages(name="Other")
    client = client_for(manager)

    # when
    same = post(client, "/api/v1/stages/", {"pipeline": pipeline.pk, "name": "Qualification"})
    elsewhere = post(client, "/api/v1/stages/", {"pipeline": other.pk, "name": "Qualification"})

    # then the refusal names the field, as the pipeline page's does
    assert error_fields(same) == {
        "name": ["This pipeline already has a stage named “Qualification”."]
    }
    assert elsewhere.status_code == 201


def test_a_stage_stays_in_its_pipeline(manager, client_for):
    # given
    other = pipeline_with_stages(name="Other")
    stage = default_stage("Proposal")

    # when
    response = patch(client_for(manager), f"/api/v1/stages/{stage.pk}/", {"pipeline": other.pk})

    # then
    assert "pipeline" in error_fields(response)


def test_making_a_pipeline_the_default_moves_the_flag(manager, client_for):
    # given the default pipeline "Sales" from the migrations  # when
    response = post(client_for(manager), "/api/v1/pipelines/", {"name": "B", "is_default": True})

    # then
    assert response.status_code == 201, response.content
    assert list(Pipeline.objects.filter(is_default=True).values_list("name", flat=True)) == ["B"]


def test_the_default_pipeline_keeps_its_flag_until_another_takes_it(manager, client_for):
    # given the default pipeline "Sales" from the migrations
    pipeline = Pipeline.objects.get(is_default=True)

    # when
    response = patch(
        client_for(manager), f"/api/v1/pipelines/{pipeline.pk}/", {"is_default": False}
    )

    # then
    assert error_fields(response) == {
        "is_default": ["There is always a default pipeline; make another one the default instead."]
    }
    assert Pipeline.objects.get(pk=pipeline.pk).is_default


# Deals: create, read, update, delete -------------------------------------------------------------


def test_create_a_deal_with_defaults_and_lines(rep, team, rep_client):
    # given a customer of the rep's and two products
    customer = CustomerFactory(owner=rep, team=team, name="Acme Tea")
    kettle = ProductFactory(unit_price=Decimal("50.00"))
    cups = ProductFactory(unit_price=Decimal("10.00"))

    # when
    response = post(
        rep_client,
        "/api/v1/deals/",
        {
            "name": "Office kettles",
            "customer": customer.pk,
            "lines": [
                {"product": kettle.pk, "quantity": 2, "discount_percent": "10"},
                {"product": cups.pk, "quantity": 3, "unit_price": "12.50"},
            ],
        },
    )

    # then the deal is in the default pipeline's first stage, owned by the rep, and its amount
    # is the lines' total (90.00 + 37.50)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["customer"] == customer.pk
    assert body["customer_name"] == "Acme Tea"
    assert (body["stage_name"], body["stage_kind"], body["stage_probability"]) == (
        "Qualification",
        "open",
        10,
    )
    assert (body["owner"], body["team"]) == (rep.pk, team.pk)
    assert (body["currency"], body["version"], body["is_stale"]) == ("CNY", 1, False)
    assert body["amount"] == "127.50"
    assert [line["line_total"] for line in body["lines"]] == ["90.00", "37.50"]
    assert body["lines"][0]["unit_price"] == "50.00"
    deal = Deal.objects.get(pk=body["id"])
    assert deal.amount == Decimal("127.50")
    assert deal.stage_changes.count() == 1


def test_retrieve_update_and_delete_a_deal(rep, manager, client_for):
    # given a deal of the rep's team
    deal = make_deal(rep, amount=Decimal("500.00"))
    rep_client = client_for(rep)
    url = f"/api/v1/deals/{deal.pk}/"

    # when
    retrieved = rep_client.get(url)
    updated = patch(rep_client, url, {"name": "Bigger deal", "amount": "800.00", "version": 1})
    again = patch(rep_client, url, {"next_step": "Call", "version": 2})
    rep_delete = rep_client.delete(url)
    manager_delete = client_for(manager).delete(url)

    # then
    assert retrieved.status_code == 200
    assert retrieved.json()["version"] == 1
    assert updated.status_code == 200, updated.content
    assert (updated.json()["name"], updated.json()["amount"]) == ("Bigger deal", "800.00")
    assert updated.json()["version"] == 2
    assert again.json()["version"] == 3
    assert rep_delete.status_code == 403
    assert manager_delete.status_code == 204
    assert not Deal.objects.filter(pk=deal.pk).exists()


def test_update_with_lines_replaces_them_and_sets_the_amount(rep, rep_client):
    # given a deal with an amount typed by hand
    deal = make_deal(rep, amount=Decimal("999.00"))
    product = ProductFactory(unit_price=Decimal("20.00"))

    # when
    response = patch(
        rep_client,
        f"/api/v1/deals/{deal.pk}/",
        {"version": 1, "lines": [{"product": product.pk, "quantity": 4}]},
    )

    # then
    assert response.status_code == 200, response.content
    assert response.json()["amount"] == "80.00"
    assert [line["quantity"] for line in response.json()["lines"]] == [4]


def test_update_needs_a_version(rep, rep_client):
    # given
    deal = make_deal(rep)

    # when
    response = patch(rep_client, f"/api/v1/deals/{deal.pk}/", {"name": "Renamed"})

    # then
    assert "version" in error_fields(response)
    deal.refresh_from_db()
    assert (deal.name, deal.version) == ("Tea for the office", 1)


def test_a_stale_version_is_refused_with_409_and_nothing_changes(rep, rep_client):
    # given a deal someone else changed since the rep read it (version 1 → 2)
    deal = make_deal(rep)
    first = patch(rep_client, f"/api/v1/deals/{deal.pk}/", {"version": 1, "next_step": "Call"})
    assert first.status_code == 200

    # when the rep saves their edit made from version 1
    response = patch(rep_client, f"/api/v1/deals/{deal.pk}/", {"version": 1, "name": "Overwritten"})
    moved = post(
        rep_client,
        f"/api/v1/deals/{deal.pk}/move/",
        {"stage": default_stage("Proposal").pk, "version": 1},
    )

    # then both are refused in the one error shape and the deal is as it was
    body = error(response, 409)
    assert body["code"] == "conflict"
    assert "version 1" in body["message"]
    assert error(moved, 409)["code"] == "conflict"
    deal.refresh_from_db()
    assert (deal.name, deal.version, deal.stage.name) == ("Tea for the office", 2, "Qualification")
    assert deal.stage_changes.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "X", "colour": "red"}, "colour"),
        ({"name": "X", "version": 3}, "version"),
        ({"name": "X", "closed_at": "2026-01-01T00:00:00Z"}, "closed_at"),
        ({"name": "X", "amount": "-1"}, "amount"),
        ({"name": "X", "lines": [{"product": 0}]}, "lines"),
        ({"name": "X", "lines": [{"product": None, "colour": "red"}]}, "lines"),
        ({"customer": None, "name": "X"}, "customer"),
    ],
)
def test_create_refuses_bad_and_unknown_fields(rep, team, rep_client, data, field):
    # given
    data.setdefault("customer", CustomerFactory(owner=rep, team=team).pk)

    # when
    response = post(rep_client, "/api/v1/deals/", data)

    # then
    assert field in error_fields(response)
    assert not Deal.objects.exists()


def test_create_refuses_a_customer_or_campaign_the_caller_cannot_see(
    rep, team, other_team_rep, other_team, rep_client
):
    # given
    hidden_customer = CustomerFactory(owner=other_team_rep, team=other_team)
    hidden_campaign = CampaignFactory(owner=other_team_rep, team=other_team)
    own_customer = CustomerFactory(owner=rep, team=team)

    # when
    by_customer = post(rep_client, "/api/v1/deals/", {"name": "X", "customer": hidden_customer.pk})
    by_campaign = post(
        rep_client,
        "/api/v1/deals/",
        {"name": "X", "customer": own_customer.pk, "campaign": hidden_campaign.pk},
    )

    # then
    assert "customer" in error_fields(by_customer)
    assert "campaign" in error_fields(by_campaign)
    assert not Deal.objects.exists()


# Moving a deal and its history -------------------------------------------------------------------


def test_move_records_the_change_in_the_history(rep, rep_client):
    # given
    deal = make_deal(rep)
    proposal = default_stage("Proposal")

    # when
    moved = post(rep_client, f"/api/v1/deals/{deal.pk}/move/", {"stage": proposal.pk, "version": 1})
    history = results(rep_client.get(f"/api/v1/deals/{deal.pk}/history/"))

    # then
    assert moved.status_code == 200, moved.content
    assert (moved.json()["stage"], moved.json()["version"]) == (proposal.pk, 2)
    assert [(row["from_stage_name"], row["to_stage_name"]) for row in history] == [
        (None, "Qualification"),
        ("Qualification", "Proposal"),
    ]
    assert history[1]["changed_by"] == rep.pk
    assert history[1]["seconds_in_from_stage"] is not None


def test_move_to_lost_needs_a_reason(rep, rep_client):
    # given
    deal = make_deal(rep)
    lost = default_stage("Lost")

    # when
    without = post(rep_client, f"/api/v1/deals/{deal.pk}/move/", {"stage": lost.pk, "version": 1})
    deal.refresh_from_db()
    stage_after_refusal = deal.stage.name
    with_reason = post(
        rep_client,
        f"/api/v1/deals/{deal.pk}/move/",
        {"stage": lost.pk, "version": 1, "lost_reason": "price", "lost_note": "Too dear"},
    )

    # then
    assert "lost_reason" in error_fields(without)
    assert stage_after_refusal == "Qualification"
    assert with_reason.status_code == 200, with_reason.content
    assert with_reason.json()["lost_reason"] == "price"
    assert with_reason.json()["closed_at"] is not None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"stage": "proposal"}, "version"),
        ({"version": 1}, "stage"),
        ({"version": 1, "stage": "proposal", "lost_reason": "meh"}, "lost_reason"),
        ({"version": 1, "stage": "proposal", "owner": 1}, "owner"),
        ({"version": 1, "stage": "other pipeline"}, "stage"),
    ],
)
def test_move_refuses_bad_input(rep, rep_client, data, field):
    # given
    deal = make_deal(rep)
    stages = {
        "proposal": default_stage("Proposal").pk,
        "other pipeline": stage_named(pipeline_with_stages(name="Other"), "Proposal").pk,
    }
    if "stage" in data:
        data["stage"] = stages[data["stage"]]

    # when
    response = post(rep_client, f"/api/v1/deals/{deal.pk}/move/", data)

    # then
    assert field in error_fields(response)
    deal.refresh_from_db()
    assert (deal.stage.name, deal.version) == ("Qualification", 1)


def test_stage_changes_list_filters_by_deal_and_time(rep, rep_client):
    # given two deals of the rep's, one moved
    first = make_deal(rep, name="First")
    second = make_deal(rep, name="Second")
    moved = post(
        rep_client,
        f"/api/v1/deals/{first.pk}/move/",
        {"stage": default_stage("Proposal").pk, "version": 1},
    )
    assert moved.status_code == 200
    DealStageChange.objects.filter(deal=second).update(
        changed_at=timezone.now() - timedelta(days=10)
    )

    # when
    for_first = results(rep_client.get("/api/v1/deal-stage-changes/", {"deal": first.pk}))
    recent = results(
        rep_client.get(
            "/api/v1/deal-stage-changes/",
            {"changed_after": (timezone.now() - timedelta(days=1)).isoformat()},
        )
    )

    # then newest first
    assert [row["to_stage_name"] for row in for_first] == ["Proposal", "Qualification"]
    assert {row["deal_name"] for row in recent} == {"First"}


# Visibility, filters, queries and permissions ----------------------------------------------------


def test_another_teams_deal_is_invisible_everywhere(rep, rep_client, hidden_deal):
    # given a deal of the rep's own and one of another team's
    own = make_deal(rep, name="Own deal")
    hidden_change = hidden_deal.stage_changes.get()

    # when  # then
    assert [row["name"] for row in results(rep_client.get("/api/v1/deals/"))] == ["Own deal"]
    assert rep_client.get(f"/api/v1/deals/{hidden_deal.pk}/").status_code == 404
    assert rep_client.get(f"/api/v1/deals/{hidden_deal.pk}/history/").status_code == 404
    changes = results(rep_client.get("/api/v1/deal-stage-changes/"))
    assert [row["deal"] for row in changes] == [own.pk]
    assert rep_client.get(f"/api/v1/deal-stage-changes/{hidden_change.pk}/").status_code == 404
    moved = post(
        rep_client,
        f"/api/v1/deals/{hidden_deal.pk}/move/",
        {"stage": default_stage("Proposal").pk, "version": 1},
    )
    assert error(moved, 404)["code"] == "not_found"
    edited = patch(rep_client, f"/api/v1/deals/{hidden_deal.pk}/", {"name": "Mine", "version": 1})
    assert edited.status_code == 404
    hidden_deal.refresh_from_db()
    assert (hidden_deal.name, hidden_deal.version) == ("Hidden deal", 1)


def test_deal_list_filters(rep, rep_client):
    # given
    make_deal(rep, name="Kettles for Acme")
    won = make_deal(rep, name="Cups")
    deal_move_stage(actor=None, deal=won, stage=default_stage("Won"), version=1)
    stale = make_deal(rep, name="Forgotten")
    Deal.objects.filter(pk=stale.pk).update(stage_entered_at=timezone.now() - timedelta(days=30))

    # when
    def names(**params):
        return sorted(row["name"] for row in results(rep_client.get("/api/v1/deals/", params)))

    # then
    assert names(status="won") == ["Cups"]
    assert names(q="acme") == ["Kettles for Acme"]
    assert names(stale="true") == ["Forgotten"]
    assert names(ordering="name") == ["Cups", "Forgotten", "Kettles for Acme"]
    assert "stage" in error_fields(rep_client.get("/api/v1/deals/", {"stage": 0}))


def test_deal_list_queries_do_not_grow_with_the_deals(rep, rep_client):
    # given
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = rep_client.get("/api/v1/deals/")
        assert response.status_code == 200
        return len(queries)

    def add_deals(count: int) -> None:
        for _ in range(count):
            deal = make_deal(rep, lines=[{"product": ProductFactory(), "quantity": 2}])
            assert deal.lines.count() == 1

    # when
    add_deals(3)
    with_three = count_queries()
    add_deals(27)
    with_thirty = count_queries()

    # then
    assert with_three == with_thirty
    assert with_thirty <= 12


def test_a_user_without_a_role_is_refused(user_without_role, client_for, rep):
    # given
    deal = make_deal(rep)
    client = client_for(user_without_role)

    # when  # then
    assert error(client.get("/api/v1/deals/"), 403)["code"] == "permission_denied"
    assert client.get("/api/v1/pipelines/").status_code == 403
    assert client.get("/api/v1/deal-stage-changes/").status_code == 403
    assert (
        post(client, f"/api/v1/deals/{deal.pk}/move/", {"stage": 1, "version": 1}).status_code
        == 403
    )


def test_a_rep_cannot_change_pipelines_or_delete_stages(rep_client):
    # given the default pipeline
    stage = default_stage("Proposal")

    # when  # then sales reps may add and change, not delete
    assert rep_client.delete(f"/api/v1/stages/{stage.pk}/").status_code == 403
    assert rep_client.delete(f"/api/v1/pipelines/{stage.pipeline_id}/").status_code == 403
