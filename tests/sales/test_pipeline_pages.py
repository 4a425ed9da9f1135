"""The pipeline settings pages: the list, and a page per pipeline with its stages."""

import pytest
from django.urls import reverse

from sales.models import Pipeline
from tests.sales.factories import DealFactory, pipeline_with_stages, stage_named

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client_for, manager):
    return client_for(manager)


def management(prefix: str, total: int, initial: int) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def stage_rows(pipeline: Pipeline) -> dict:
    """The stage formset as the edit page posts it, unchanged."""
    stages = list(pipeline.stages.order_by("position", "pk"))
    data = management("stages", len(stages), len(stages))
    for index, stage in enumerate(stages):
        data.update(
            {
                f"stages-{index}-id": stage.pk,
                f"stages-{index}-pipeline": pipeline.pk,
                f"stages-{index}-name": stage.name,
                f"stages-{index}-position": stage.position,
                f"stages-{index}-kind": stage.kind,
                f"stages-{index}-probability": stage.probability,
                f"stages-{index}-stale_after_days": stage.stale_after_days or "",
            }
        )
    return data


def test_the_list_shows_pipelines_with_their_stages(manager_client):
    # given the default pipeline and an inactive one
    pipeline_with_stages(name="Retired", is_active=False)

    # when
    body = manager_client.get(reverse("sales:pipeline_list")).content.decode()

    # then
    assert "Needs analysis" in body
    assert "Retired" in body
    assert "Inactive" in body
    assert body.index("Qualification") < body.index("Needs analysis")


def test_reps_cannot_shape_pipelines(rep_client):
    assert rep_client.get(reverse("sales:pipeline_list")).status_code == 403
    assert rep_client.post(reverse("sales:pipeline_create"), {}).status_code == 403


def test_a_pipeline_is_created_with_its_stages(manager_client):
    # given
    data = {
        "name": "Renewals",
        "description": "",
        "position": "2",
        "is_active": "on",
        **management("stages", 3, 0),
        "stages-0-name": "Due",
        "stages-0-position": "0",
        "stages-0-kind": "open",
        "stages-0-probability": "60",
        "stages-0-stale_after_days": "14",
        "stages-1-name": "Renewed",
        "stages-1-position": "1",
        "stages-1-kind": "won",
        "stages-1-probability": "100",
        "stages-2-name": "",
        "stages-2-position": "0",
        "stages-2-kind": "open",
        "stages-2-probability": "10",
    }

    # when
    response = manager_client.post(reverse("sales:pipeline_create"), data)

    # then
    assert response.status_code == 302
    pipeline = Pipeline.objects.get(name="Renewals")
    stages = list(pipeline.stages.order_by("position").values_list("name", "kind", "probability"))
    assert stages == [("Due", "open", 60), ("Renewed", "won", 100)]
    assert pipeline.stages.get(name="Due").stale_after_days == 14
    assert (
        manager_client.get(reverse("sales:board_pipeline", args=[pipeline.pk])).status_code == 200
    )


def test_editing_a_stage_and_adding_one(manager_client):
    # given
    pipeline = pipeline_with_stages(name="Hardware")
    data = {
        "name": "Hardware",
        "description": "",
        "position": "1",
        "is_active": "on",
        **stage_rows(pipeline),
    }
    data["stages-1-probability"] = "65"
    data["stages-TOTAL_FORMS"] = "5"
    data.update(
        {
            "stages-4-name": "Negotiation",
            "stages-4-position": "2",
            "stages-4-kind": "open",
            "stages-4-probability": "80",
        }
    )

    # when
    response = manager_client.post(reverse("sales:pipeline_edit", args=[pipeline.pk]), data)

    # then
    assert response.status_code == 302
    assert stage_named(pipeline, "Proposal").probability == 65
    assert stage_named(pipeline, "Negotiation").probability == 80


def test_a_won_stage_must_be_certain_and_errors_name_the_field(manager_client):
    pipeline = pipeline_with_stages(name="Hardware")
    data = {"name": "Hardware", "position": "1", "is_active": "on", **stage_rows(pipeline)}
    data["stages-2-probability"] = "90"

    response = manager_client.post(reverse("sales:pipeline_edit", args=[pipeline.pk]), data)

    assert response.status_code == 400
    assert response.context["stages"].forms[2].errors["probability"] == [
        "A won stage has a probability of 100 %."
    ]
    assert stage_named(pipeline, "Won").probability == 100


def test_a_stage_holding_deals_cannot_be_deleted(manager_client):
    pipeline = pipeline_with_stages(name="Hardware")
    DealFactory(stage=stage_named(pipeline, "Proposal"))
    data = {"name": "Hardware", "position": "1", "is_active": "on", **stage_rows(pipeline)}
    data["stages-1-DELETE"] = "on"

    response = manager_client.post(reverse("sales:pipeline_edit", args=[pipeline.pk]), data)

    assert response.status_code == 400
    assert response.context["stages"].non_form_errors() == [
        "The stage “Proposal” is used by 1 deal (now or in its history), so it cannot be deleted."
    ]
    assert pipeline.stages.filter(name="Proposal").exists()


def test_making_a_pipeline_the_default_moves_the_flag(manager_client):
    # given the default pipeline "Sales" from the migrations
    data = {
        "name": "Second",
        "position": "3",
        "is_active": "on",
        "is_default": "on",
        **management("stages", 1, 0),
        "stages-0-name": "Open",
        "stages-0-position": "0",
        "stages-0-kind": "open",
        "stages-0-probability": "10",
    }

    # when
    response = manager_client.post(reverse("sales:pipeline_create"), data)

    # then
    assert response.status_code == 302
    assert list(Pipeline.objects.filter(is_default=True).values_list("name", flat=True)) == [
        "Second"
    ]


def test_a_pipeline_needs_an_open_stage(manager_client):
    data = {
        "name": "Closed only",
        "position": "3",
        "is_active": "on",
        **management("stages", 1, 0),
        "stages-0-name": "Won",
        "stages-0-position": "0",
        "stages-0-kind": "won",
        "stages-0-probability": "100",
    }
    response = manager_client.post(reverse("sales:pipeline_create"), data)
    assert response.status_code == 400
    assert "at least one open stage" in response.content.decode()
