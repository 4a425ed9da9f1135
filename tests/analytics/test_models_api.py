"""/api/v1/models/ and /api/v1/model-versions/: reading the registry, queueing a retrain (202,
409 while one runs) and activating a version by hand; only managers may do either."""

import pytest
import yaml

from analytics.models import ModelVersion
from analytics.services import training as training_services
from tests.analytics.factories import ModelVersionFactory, PredictiveModelFactory
from tests.analytics.models_toy import toy_model_make, toy_version_train

pytestmark = pytest.mark.django_db


def test_a_rep_reads_every_model_with_its_active_version(
    client_for, rep, django_assert_max_num_queries
):
    # given a trained model and a few others
    model = toy_model_make()
    version = toy_version_train(model)
    PredictiveModelFactory.create_batch(5)
    client = client_for(rep)

    # when
    with django_assert_max_num_queries(7):
        listing = client.get("/api/v1/models/")
    detail = client.get(f"/api/v1/models/{model.name}/")

    # then
    assert listing.status_code == 200
    assert listing.json()["count"] >= 6
    body = detail.json()
    assert body["name"] == model.name
    assert body["active_version"]["id"] == version.pk
    assert body["active_version"]["roc_auc"] == version.roc_auc
    assert body["training_version"] is None
    assert body["last_trained_at"] is not None


def test_versions_are_filtered_by_model_name(client_for, rep, django_assert_max_num_queries):
    # given versions of two models
    model = toy_model_make()
    first = toy_version_train(model)
    ModelVersionFactory.create_batch(4, model=PredictiveModelFactory())
    client = client_for(rep)

    # when
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/model-versions/", {"model": model.name})

    # then
    results = response.json()["results"]
    assert [row["id"] for row in results] == [first.pk]
    row = results[0]
    assert row["model"] == model.name
    assert row["is_active"] is True
    assert row["metrics"]["roc_auc"] == first.roc_auc
    assert len(row["artifact_sha256"]) == 64
    assert row["features"] == ["x", "noise", "colour"]


def test_a_manager_queues_a_retrain_and_a_second_one_is_refused_while_it_runs(client_for, manager):
    # given
    model = toy_model_make()
    client = client_for(manager)

    # when
    queued = client.post(f"/api/v1/models/{model.name}/retrain/")
    again = client.post(f"/api/v1/models/{model.name}/retrain/")

    # then
    assert queued.status_code == 202
    body = queued.json()
    version = ModelVersion.objects.get(pk=body["version"])
    assert (version.trigger, version.started_by, body["status"]) == (
        ModelVersion.Trigger.API,
        manager,
        "queued",
    )
    assert body["progress_url"].endswith(f"/api/v1/model-versions/{version.pk}/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "busy"
    assert ModelVersion.objects.filter(model=model).count() == 1

    # when the run is done, its progress URL says so
    training_services.model_train_run(version_id=version.pk)
    progress = client.get(body["progress_url"]).json()

    # then
    assert (progress["status"], progress["progress"]) == ("done", 100)


def test_a_retrain_queued_through_the_api_runs_to_the_end(
    client_for, manager, eager_tasks, django_capture_on_commit_callbacks
):
    # given
    model = toy_model_make()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(manager).post(f"/api/v1/models/{model.name}/retrain/")

    # then
    version = ModelVersion.objects.get(pk=response.json()["version"])
    assert version.status == ModelVersion.Status.DONE, version.error
    model.refresh_from_db()
    assert model.active_version == version


def test_a_rep_may_neither_retrain_nor_activate(client_for, rep):
    # given
    model = toy_model_make()
    version = toy_version_train(model)
    client = client_for(rep)

    # when
    retrain = client.post(f"/api/v1/models/{model.name}/retrain/")
    activate = client.post(f"/api/v1/model-versions/{version.pk}/activate/")

    # then
    assert retrain.status_code == 403
    assert activate.status_code == 403
    assert ModelVersion.objects.filter(model=model).count() == 1


def test_a_manager_activates_a_refused_version_and_rolls_back(client_for, manager):
    # given a worse second version the AUC rule refused
    model = toy_model_make()
    first = toy_version_train(model)
    second = toy_version_train(model, strength=0.05)
    client = client_for(manager)

    # when
    activated = client.post(f"/api/v1/model-versions/{second.pk}/activate/")
    rolled_back = client.post(f"/api/v1/model-versions/{first.pk}/activate/")

    # then
    assert activated.status_code == 200
    assert activated.json()["decision"] == ModelVersion.Decision.ACTIVATED_BY_HAND
    assert rolled_back.json()["decision"] == ModelVersion.Decision.ROLLED_BACK
    assert rolled_back.json()["is_active"] is True
    model.refresh_from_db()
    assert model.active_version == first


def test_a_version_that_did_not_finish_cannot_be_activated(client_for, manager):
    # given
    failed = ModelVersionFactory(model=toy_model_make(), status=ModelVersion.Status.FAILED)

    # when
    response = client_for(manager).post(f"/api/v1/model-versions/{failed.pk}/activate/")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_an_unknown_model_is_a_404(client_for, manager):
    # given  # when
    response = client_for(manager).post("/api/v1/models/no-such-model/retrain/")

    # then
    assert response.status_code == 404


def test_the_schema_documents_the_registry(client_for, rep):
    # given  # when
    schema = yaml.safe_load(client_for(rep).get("/api/v1/schema/").content)

    # then
    for path in (
        "/api/v1/models/",
        "/api/v1/models/{name}/",
        "/api/v1/models/{name}/retrain/",
        "/api/v1/model-versions/",
        "/api/v1/model-versions/{id}/activate/",
    ):
        assert path in schema["paths"], path
    assert "202" in schema["paths"]["/api/v1/models/{name}/retrain/"]["post"]["responses"]
