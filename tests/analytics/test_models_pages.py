"""The model registry in the browser: the list, a model's page with its versions and charts, the
Retrain button with its progress box, and activation or rollback by a manager."""

import csv
import io

import pytest
from django.urls import reverse

from analytics.models import CustomerScore, ModelVersion, PredictiveModel
from analytics.services import training as training_services
from tests.analytics.factories import ModelVersionFactory, PredictiveModelFactory
from tests.analytics.models_toy import toy_model_make, toy_version_train
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _detail_url(model: PredictiveModel) -> str:
    return reverse("analytics:model_detail", args=[model.name])


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_list_shows_every_model_with_its_active_version_and_a_running_retrain(
    client_for, rep, django_assert_max_num_queries
):
    # given a trained toy model, one retraining and a few untrained ones
    trained = toy_model_make()
    version = toy_version_train(trained)
    running = toy_model_make("toy-b-running")
    queued = training_services.model_retrain_request(
        model=running, trigger=ModelVersion.Trigger.API
    )
    PredictiveModelFactory.create_batch(5)
    client = client_for(rep)

    # when
    with django_assert_max_num_queries(8):
        response = client.get(reverse("analytics:model_list"))

    # then
    assert response.status_code == 200
    content = response.content.decode()
    assert _detail_url(trained) in content
    assert f"v{version.number}" in content
    assert f"{version.roc_auc:.3f}" in content
    assert f"v{queued.number}: Queued, 0%" in content
    assert "Purchase propensity" in content


def test_the_models_menu_item_shows_for_a_rep(client_for, rep):
    # given  # when
    response = client_for(rep).get(reverse("home"))

    # then
    assert reverse("analytics:model_list") in response.content.decode()


def test_a_rep_sees_a_models_page_without_the_retrain_or_activate_buttons(
    client_for, rep, django_assert_max_num_queries
):
    # given two versions, the first active
    model = toy_model_make()
    toy_version_train(model)
    toy_version_train(model, strength=0.05)
    client = client_for(rep)

    # when
    with django_assert_max_num_queries(12):
        response = client.get(_detail_url(model))

    # then
    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-version="1"' in content and 'data-version="2"' in content
    assert reverse("analytics:model_retrain", args=[model.name]) not in content
    assert reverse("analytics:model_activate", args=[model.name, 2]) not in content
    for chart in ("roc", "calibration", "importance"):
        assert reverse("analytics:model_version_chart", args=[model.name, chart]) in content
    assert reverse("analytics:model_history_chart", args=[model.name]) in content


def test_the_versions_table_is_paginated(client_for, rep):
    # given more versions than a page holds
    model = toy_model_make()
    ModelVersionFactory.create_batch(25, model=model)

    # when
    response = client_for(rep).get(_detail_url(model), {"page": 2})

    # then
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 5


def test_a_rep_may_neither_retrain_nor_activate(client_for, rep):
    # given
    model = toy_model_make()
    version = toy_version_train(model)
    client = client_for(rep)

    # when
    retrain = client.post(reverse("analytics:model_retrain", args=[model.name]))
    activate = client.post(reverse("analytics:model_activate", args=[model.name, version.number]))

    # then
    assert retrain.status_code == 403
    assert activate.status_code == 403
    assert not ModelVersion.objects.filter(model=model, number=2).exists()


def test_an_unknown_model_is_a_404(client_for, rep):
    # given  # when
    response = client_for(rep).get(reverse("analytics:model_detail", args=["no-such-model"]))

    # then
    assert response.status_code == 404


def test_the_retrain_button_queues_a_version_that_finishes_and_becomes_active(
    client_for, manager, eager_tasks, django_capture_on_commit_callbacks
):
    # given a model with customers to score
    model = toy_model_make()
    CustomerFactory.create_batch(3)
    client = client_for(manager)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("analytics:model_retrain", args=[model.name]), follow=True)

    # then
    assert response.status_code == 200
    assert "Version 1 is queued for training." in _messages(response)
    version = ModelVersion.objects.get(model=model)
    assert version.status == ModelVersion.Status.DONE, version.error
    assert version.trigger == ModelVersion.Trigger.BUTTON
    assert version.started_by == manager
    model.refresh_from_db()
    assert model.active_version == version
    assert CustomerScore.objects.filter(model=model).count() == 3
    # the page it came back to was drawn before the worker ran: it polls the progress box
    assert 'hx-trigger="every 2s"' in response.content.decode()


def test_a_second_retrain_while_one_runs_answers_with_a_message(client_for, manager):
    # given a retrain already queued
    model = toy_model_make()
    training_services.model_retrain_request(model=model, trigger=ModelVersion.Trigger.API)
    client = client_for(manager)

    # when
    response = client.post(reverse("analytics:model_retrain", args=[model.name]), follow=True)

    # then
    assert response.status_code == 200
    assert _messages(response) == ["Version 1 of this model is still training."]
    assert ModelVersion.objects.filter(model=model).count() == 1


def test_the_progress_box_polls_while_a_retrain_runs_and_reloads_the_page_when_it_ends(
    client_for, rep
):
    # given a retrain in the middle of its run
    model = toy_model_make()
    version = training_services.model_retrain_request(model=model, trigger=ModelVersion.Trigger.API)
    ModelVersion.objects.filter(pk=version.pk).update(
        status=ModelVersion.Status.TRAINING, progress=30, stage="Fitting"
    )
    client = client_for(rep)
    url = reverse("analytics:model_progress", args=[model.name])

    # when it runs
    running = client.get(url, headers={"HX-Request": "true"})

    # then the box shows where it is and asks again in 2 s
    content = running.content.decode()
    assert 'hx-trigger="every 2s"' in content
    assert "30%" in content and "Fitting" in content
    assert "HX-Refresh" not in running

    # when it has finished
    ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.QUEUED)
    training_services.model_train_run(version_id=version.pk)
    done = client.get(url, headers={"HX-Request": "true"})

    # then polling stops and the page reloads with the new version
    assert "hx-trigger" not in done.content.decode()
    assert done["HX-Refresh"] == "true"


def test_the_page_polls_only_while_a_retrain_runs(client_for, rep):
    # given a model not training
    model = toy_model_make()
    toy_version_train(model)

    # when
    response = client_for(rep).get(_detail_url(model))

    # then
    assert "every 2s" not in response.content.decode()


def test_a_manager_activates_a_refused_version_then_rolls_back_from_the_page(
    client_for, manager, eager_tasks, django_capture_on_commit_callbacks
):
    # given a worse second version that was refused
    model = toy_model_make()
    first = toy_version_train(model)
    second = toy_version_train(model, strength=0.05)
    assert second.decision == ModelVersion.Decision.REFUSED
    client = client_for(manager)
    page = client.get(_detail_url(model)).content.decode()
    assert "Activate" in page

    # when the manager activates it
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("analytics:model_activate", args=[model.name, second.number]), follow=True
        )

    # then it is active, by hand
    assert "Version 2 is now active." in _messages(response)
    model.refresh_from_db()
    second.refresh_from_db()
    assert model.active_version == second
    assert second.decision == ModelVersion.Decision.ACTIVATED_BY_HAND
    assert second.decided_by == manager
    assert "Roll back to this version" in response.content.decode()

    # when the manager rolls back to the first
    client.post(reverse("analytics:model_activate", args=[model.name, first.number]))

    # then
    model.refresh_from_db()
    first.refresh_from_db()
    assert model.active_version == first
    assert first.decision == ModelVersion.Decision.ROLLED_BACK


def test_a_failed_version_cannot_be_activated(client_for, manager):
    # given
    model = toy_model_make()
    failed = ModelVersionFactory(model=model, status=ModelVersion.Status.FAILED)

    # when
    response = client_for(manager).post(
        reverse("analytics:model_activate", args=[model.name, failed.number]), follow=True
    )

    # then
    assert _messages(response) == ["Only a version that finished training can be activated."]
    model.refresh_from_db()
    assert model.active_version is None


def test_the_charts_of_a_version_come_as_json_and_csv(client_for, rep):
    # given two trained versions
    model = toy_model_make()
    first = toy_version_train(model)
    toy_version_train(model)
    client = client_for(rep)

    # when
    roc = client.get(
        reverse("analytics:model_version_chart", args=[model.name, "roc"]),
        {"version": first.number},
    ).json()
    calibration = client.get(
        reverse("analytics:model_version_chart", args=[model.name, "calibration"])
    ).json()
    importance = client.get(
        reverse("analytics:model_version_chart", args=[model.name, "importance"])
    ).json()
    history = client.get(reverse("analytics:model_history_chart", args=[model.name])).json()
    history_csv = client.get(
        reverse("analytics:model_history_chart", args=[model.name]), {"format": "csv"}
    )

    # then
    assert roc["kind"] == "scatter"
    assert roc["series"][0]["data"] == first.metrics["roc"]
    assert sum(calibration["series"][2]["data"]) == first.test_rows
    assert importance["horizontal"] is True
    assert importance["labels"][0] == "x"
    assert history["labels"] == ["v1", "v2"]
    assert history["series"][0]["data"][0] == first.roc_auc
    rows = list(csv.reader(io.StringIO(history_csv.content.decode("utf-8-sig"))))
    assert rows[0] == ["Version", "ROC AUC", "Accuracy"]
    assert rows[1][0] == "v1"


def test_an_unknown_chart_or_version_is_a_404(client_for, rep):
    # given
    model = toy_model_make()
    toy_version_train(model)
    client = client_for(rep)

    # when
    unknown_chart = client.get(
        reverse("analytics:model_version_chart", args=[model.name, "pie-of-everything"])
    )
    unknown_version = client.get(
        reverse("analytics:model_version_chart", args=[model.name, "roc"]), {"version": 9}
    )

    # then
    assert unknown_chart.status_code == 404
    assert unknown_version.status_code == 404


def test_a_multiclass_version_shows_its_confusion_matrix_without_a_roc_curve(client_for, rep):
    # given a ticket-category version judged on three categories
    model = PredictiveModelFactory(
        name="ticket-category", kind=PredictiveModel.Kind.TICKET_CATEGORY
    )
    version = ModelVersionFactory(
        model=model,
        metrics={
            "roc_auc": 0.81,
            "accuracy": 0.7,
            "labels": ["Billing", "Delivery", "Returns"],
            "confusion": [[5, 1, 0], [2, 7, 1], [0, 1, 9]],
        },
        feature_importance=[["text", 0.3]],
    )
    PredictiveModel.objects.filter(pk=model.pk).update(active_version=version)

    # when
    response = client_for(rep).get(_detail_url(model))

    # then
    content = response.content.decode()
    assert "data-confusion" in content
    for label in ("Billing", "Delivery", "Returns"):
        assert f'<th scope="col">{label}</th>' in content
    assert "<td>9</td>" in content
    assert reverse("analytics:model_version_chart", args=[model.name, "roc"]) not in content
    assert reverse("analytics:model_version_chart", args=[model.name, "importance"]) in content
