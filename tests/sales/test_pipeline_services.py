"""The pipeline services hold every rule about pipelines and stages; the pipeline pages and the
API call them, so a rule answers with the same message on both."""

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.urls import reverse

from sales.models import Pipeline, Stage
from sales.services.deals import deal_create, deal_move_stage
from sales.services.pipelines import (
    PipelineInvalid,
    RecordInUse,
    pipeline_create,
    pipeline_delete,
    pipeline_update,
    stage_create,
    stage_delete,
    stage_update,
)
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory, pipeline_with_stages, stage_named

pytestmark = pytest.mark.django_db

WON_IS_CERTAIN = "A won stage has a probability of 100 %."


def refusal(call, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    return caught.value.message_dict


def rows_of(pipeline: Pipeline) -> list[dict]:
    return [
        {
            "id": stage.pk,
            "name": stage.name,
            "position": stage.position,
            "kind": stage.kind,
            "probability": stage.probability,
            "stale_after_days": stage.stale_after_days,
        }
        for stage in pipeline.stages.order_by("position", "pk")
    ]


@pytest.fixture
def hardware():
    """Lead, Proposal (open), Won, Lost."""
    return pipeline_with_stages(name="Hardware")


# Probabilities -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"kind": "won", "probability": 90}, WON_IS_CERTAIN),
        ({"kind": "lost", "probability": 10}, "A lost stage has a probability of 0 %."),
        ({"kind": "open", "probability": 101}, "A probability is at most 100 %."),
    ],
)
def test_a_stage_probability_must_fit_its_kind(hardware, values, message):
    count = Stage.objects.count()

    errors = refusal(stage_create, actor=None, pipeline=hardware, name="New", **values)

    assert errors == {"probability": [message]}
    assert Stage.objects.count() == count


def test_changing_a_stage_to_won_needs_certainty(hardware):
    errors = refusal(stage_update, actor=None, stage=stage_named(hardware, "Proposal"), kind="won")

    assert errors == {"probability": [WON_IS_CERTAIN]}
    assert stage_named(hardware, "Proposal").kind == "open"


def test_a_pipeline_created_with_a_won_stage_of_90_is_refused_on_that_row():
    stages = [
        {"name": "Due", "kind": "open", "probability": 50},
        {"name": "Renewed", "kind": "won", "probability": 90},
    ]

    with pytest.raises(PipelineInvalid) as caught:
        pipeline_create(actor=None, name="Renewals", stages=stages)

    assert caught.value.stage_rows == {1: {"probability": [WON_IS_CERTAIN]}}
    assert caught.value.message_dict == {"stages": [f"Stage 2, probability: {WON_IS_CERTAIN}"]}
    assert not Pipeline.objects.filter(name="Renewals").exists()


# Open stages -------------------------------------------------------------------------------------


def test_a_pipeline_needs_an_open_stage_when_created_with_stages():
    errors = refusal(
        pipeline_create,
        actor=None,
        name="Closed only",
        stages=[{"name": "Won", "kind": "won", "probability": 100}],
    )

    assert errors == {"stages": ["The pipeline “Closed only” needs at least one open stage."]}
    assert not Pipeline.objects.filter(name="Closed only").exists()


def test_a_pipeline_may_be_created_empty_but_its_first_stage_is_open():
    pipeline = pipeline_create(actor=None, name="Empty")

    errors = refusal(
        stage_create, actor=None, pipeline=pipeline, name="Won", kind="won", probability=100
    )
    first = stage_create(actor=None, pipeline=pipeline, name="Due")

    assert errors == {"kind": ["The pipeline “Empty” needs at least one open stage."]}
    assert list(pipeline.stages.all()) == [first]


def test_the_last_open_stage_is_neither_deleted_nor_closed(hardware):
    stage_delete(actor=None, stage=stage_named(hardware, "Lead"))
    last = stage_named(hardware, "Proposal")
    message = "The pipeline “Hardware” needs at least one open stage."

    deleting = refusal(stage_delete, actor=None, stage=last)
    closing = refusal(stage_update, actor=None, stage=last, kind="lost", probability=0)

    assert deleting == {NON_FIELD_ERRORS: [message]}
    assert closing == {"kind": [message]}
    assert stage_named(hardware, "Proposal").kind == "open"


# Names and pipelines -----------------------------------------------------------------------------


def test_stage_names_are_unique_within_a_pipeline(hardware):
    other = pipeline_with_stages(name="Other")

    errors = refusal(stage_create, actor=None, pipeline=hardware, name="Proposal")
    renamed = refusal(stage_update, actor=None, stage=stage_named(hardware, "Lead"), name="Won")
    elsewhere = stage_create(actor=None, pipeline=other, name="Qualification")

    assert errors == {"name": ["This pipeline already has a stage named “Proposal”."]}
    assert renamed == {"name": ["This pipeline already has a stage named “Won”."]}
    assert elsewhere.pipeline == other


def test_two_new_rows_with_one_name_are_refused_on_both(hardware):
    rows = [*rows_of(hardware), {"name": "Demo"}, {"name": "Demo"}]

    with pytest.raises(PipelineInvalid) as caught:
        pipeline_update(actor=None, pipeline=hardware, stages=rows)

    assert set(caught.value.stage_rows) == {4, 5}
    assert not hardware.stages.filter(name="Demo").exists()


def test_pipeline_names_are_unique(hardware):
    errors = refusal(pipeline_create, actor=None, name="Hardware")

    assert errors == {"name": ["There is already a pipeline named “Hardware”."]}


def test_a_stage_stays_in_its_pipeline(hardware):
    stage = Stage.objects.get(pipeline__is_default=True, name="Proposal")

    errors = refusal(stage_update, actor=None, stage=stage, pipeline=hardware)
    same = stage_update(actor=None, stage=stage, pipeline=stage.pipeline, position=7)

    assert errors == {
        "pipeline": ["A stage stays in its pipeline; add a stage to the other one instead."]
    }
    assert (same.pipeline.is_default, same.position) == (True, 7)


def test_a_stage_of_another_pipeline_is_not_changed_through_this_one(hardware):
    foreign = Stage.objects.get(pipeline__is_default=True, name="Proposal")
    rows = [*rows_of(hardware), {"id": foreign.pk, "name": "Taken"}]

    with pytest.raises(PipelineInvalid) as caught:
        pipeline_update(actor=None, pipeline=hardware, stages=rows)

    assert caught.value.stage_rows == {4: {"id": ["No such stage in this pipeline."]}}
    assert Stage.objects.get(pk=foreign.pk).name == "Proposal"


# The default pipeline ----------------------------------------------------------------------------


def test_making_a_pipeline_the_default_moves_the_flag(hardware):
    pipeline_update(actor=None, pipeline=hardware, is_default=True)

    assert list(Pipeline.objects.filter(is_default=True)) == [hardware]


def test_the_default_keeps_its_flag_stays_active_and_stays(hardware):
    default = Pipeline.objects.get(is_default=True)

    unticked = refusal(pipeline_update, actor=None, pipeline=default, is_default=False)
    deactivated = refusal(pipeline_update, actor=None, pipeline=default, is_active=False)
    deleted = refusal(pipeline_delete, actor=None, pipeline=default)
    inactive_default = refusal(
        pipeline_update, actor=None, pipeline=hardware, is_default=True, is_active=False
    )

    assert unticked == {
        "is_default": ["There is always a default pipeline; make another one the default instead."]
    }
    assert deactivated == {
        "is_active": ["The default pipeline stays active; make another one the default first."]
    }
    assert deleted == {
        NON_FIELD_ERRORS: [
            "The default pipeline cannot be deleted; make another one the default first."
        ]
    }
    assert inactive_default == deactivated
    assert list(Pipeline.objects.filter(is_default=True)) == [default]


# Deleting what deals use -------------------------------------------------------------------------


def test_a_stage_deals_are_in_or_passed_through_is_not_deleted(hardware):
    lead, proposal = stage_named(hardware, "Lead"), stage_named(hardware, "Proposal")
    customer = CustomerFactory()
    moved = deal_create(actor=None, customer=customer, name="Moved", stage=lead)
    deal_move_stage(actor=None, deal=moved, stage=proposal, version=moved.version)
    deal_create(actor=None, customer=customer, name="Waiting", stage=lead)

    with pytest.raises(RecordInUse) as in_lead:
        stage_delete(actor=None, stage=lead)
    with pytest.raises(RecordInUse) as in_proposal:
        stage_delete(actor=None, stage=proposal)

    assert in_lead.value.messages == [
        "The stage “Lead” is used by 2 deals (now or in their history), so it cannot be deleted."
    ]
    assert in_lead.value.code == "in_use"
    assert in_proposal.value.messages == [
        "The stage “Proposal” is used by 1 deal (now or in its history), so it cannot be deleted."
    ]
    assert hardware.stages.count() == 4


def test_a_pipeline_deals_use_is_not_deleted(hardware):
    DealFactory(stage=stage_named(hardware, "Proposal"), pipeline=hardware)
    DealFactory(stage=stage_named(hardware, "Lead"), pipeline=hardware)

    with pytest.raises(RecordInUse) as caught:
        pipeline_delete(actor=None, pipeline=hardware)

    assert caught.value.messages == [
        "The pipeline “Hardware” is used by 2 deals, so it cannot be deleted; deactivate it "
        "instead."
    ]
    assert Pipeline.objects.filter(pk=hardware.pk).exists()


def test_an_unused_pipeline_is_deleted_with_its_stages(hardware):
    pipeline_delete(actor=None, pipeline=hardware)

    assert not Stage.objects.filter(pipeline_id=hardware.pk).exists()


def test_a_whole_stage_set_is_saved_or_nothing(hardware):
    DealFactory(stage=stage_named(hardware, "Proposal"), pipeline=hardware)
    rows = rows_of(hardware)
    rows[0]["probability"] = 30

    with pytest.raises(PipelineInvalid) as caught:
        pipeline_update(
            actor=None,
            pipeline=hardware,
            name="Hardware 2",
            stages=rows,
            deleted=[stage_named(hardware, "Proposal")],
        )

    assert caught.value.stage_set == [
        "The stage “Proposal” is used by 1 deal (now or in its history), so it cannot be deleted."
    ]
    hardware.refresh_from_db()
    assert (hardware.name, stage_named(hardware, "Lead").probability) == ("Hardware", 10)


def test_a_stage_set_changes_adds_and_deletes_in_one_call(hardware):
    rows = rows_of(hardware)[1:]
    rows[0]["probability"] = 65
    rows[1]["position"] = rows[2]["position"] = 3
    rows.append({"name": "Negotiation", "position": 2, "probability": 80})

    pipeline_update(
        actor=None, pipeline=hardware, stages=rows, deleted=[stage_named(hardware, "Lead")]
    )

    assert list(hardware.stages.order_by("position", "pk").values_list("name", "probability")) == [
        ("Proposal", 65),
        ("Negotiation", 80),
        ("Won", 100),
        ("Lost", 0),
    ]


# Permissions -------------------------------------------------------------------------------------


def test_a_rep_may_not_shape_pipelines(rep, hardware):
    stage = stage_named(hardware, "Lead")
    calls = [
        lambda: pipeline_create(actor=rep, name="Mine"),
        lambda: pipeline_update(actor=rep, pipeline=hardware, name="Mine"),
        lambda: pipeline_delete(actor=rep, pipeline=hardware),
        lambda: stage_create(actor=rep, pipeline=hardware, name="Mine"),
        lambda: stage_update(actor=rep, stage=stage, name="Mine"),
        lambda: stage_delete(actor=rep, stage=stage),
    ]

    for call in calls:
        with pytest.raises(PermissionDenied):
            call()

    assert not Pipeline.objects.filter(name="Mine").exists()
    assert stage_named(hardware, "Lead").name == "Lead"


def test_a_manager_may(manager, hardware):
    pipeline = pipeline_create(actor=manager, name="Mine", stages=[{"name": "Open"}])
    stage_update(actor=manager, stage=stage_named(hardware, "Lead"), name="Prospect")

    assert pipeline.stages.get().name == "Open"
    assert stage_named(hardware, "Prospect").probability == 10


# One rule, one message, on the page and in the API -----------------------------------------------


def test_the_page_and_the_api_refuse_a_won_stage_of_90_with_the_same_message(
    manager, client_for, hardware
):
    client = client_for(manager)
    won = stage_named(hardware, "Won")
    rows = rows_of(hardware)
    form_data = {
        "name": "Hardware",
        "position": "0",
        "is_active": "on",
        "stages-TOTAL_FORMS": str(len(rows)),
        "stages-INITIAL_FORMS": str(len(rows)),
        "stages-MIN_NUM_FORMS": "0",
        "stages-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            form_data[f"stages-{index}-{name}"] = "" if value is None else value
    form_data["stages-2-probability"] = "90"

    page = client.post(reverse("sales:pipeline_edit", args=[hardware.pk]), form_data)
    api = client.patch(
        f"/api/v1/stages/{won.pk}/", {"probability": 90}, content_type="application/json"
    )

    assert page.status_code == 400
    assert page.context["stages"].forms[2].errors["probability"] == [WON_IS_CERTAIN]
    assert api.status_code == 400
    assert api.json()["error"]["fields"] == {"probability": [WON_IS_CERTAIN]}
    assert stage_named(hardware, "Won").probability == 100


def test_the_page_and_the_api_refuse_a_used_stage_with_the_same_message(
    manager, client_for, hardware
):
    client = client_for(manager)
    proposal = stage_named(hardware, "Proposal")
    DealFactory(stage=proposal, pipeline=hardware)
    rows = rows_of(hardware)
    form_data = {
        "name": "Hardware",
        "position": "0",
        "is_active": "on",
        "stages-TOTAL_FORMS": str(len(rows)),
        "stages-INITIAL_FORMS": str(len(rows)),
        "stages-MIN_NUM_FORMS": "0",
        "stages-MAX_NUM_FORMS": "1000",
        "stages-1-DELETE": "on",
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            form_data[f"stages-{index}-{name}"] = "" if value is None else value
    message = (
        "The stage “Proposal” is used by 1 deal (now or in its history), so it cannot be deleted."
    )

    page = client.post(reverse("sales:pipeline_edit", args=[hardware.pk]), form_data)
    api = client.delete(f"/api/v1/stages/{proposal.pk}/")

    assert page.context["stages"].non_form_errors() == [message]
    assert (api.json()["error"]["code"], api.json()["error"]["message"]) == ("in_use", message)
    assert hardware.stages.filter(pk=proposal.pk).exists()
