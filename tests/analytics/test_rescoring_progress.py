"""Re-scoring after a version is activated by hand runs as a scoring AnalyticsJob of the model:
its progress moves batch by batch, it ends done with how many customers it scored or failed with
the error, and the model's page and API show it live."""

import pytest
from django.urls import reverse

from analytics.models import AnalyticsJob, CustomerScore, ModelVersion, PredictiveModel
from analytics.services import training as training_services
from analytics.services.scores import customer_scores_finish, customer_scores_store
from analytics.specs import ModelSpec, model_spec, register_model_spec
from customers.models import Customer
from tests.analytics.models_toy import TOY, toy_model_make, toy_version_train
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

TOY_BATCHED = "toy-batched"
# The job's progress as each batch of the batched toy model is stored, read from the database.
progress_seen: list[int] = []


def _batched_rows(model, ids):
    return model_spec(TOY).feature_rows(model, ids)


def _two_batches(model):
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    middle = len(ids) // 2
    yield _batched_rows(model, ids[:middle])
    yield _batched_rows(model, ids[middle:])


def _store_and_note_progress(model, version, ids, probabilities, classes, reasons):
    progress_seen.append(
        AnalyticsJob.objects.filter(model=model, kind=AnalyticsJob.Kind.SCORING)
        .values_list("progress", flat=True)
        .first()
    )
    customer_scores_store(model, version, ids, probabilities, classes, reasons)


def _batched_spec() -> ModelSpec:
    toy = model_spec(TOY)
    return ModelSpec(
        kind=TOY_BATCHED,
        training_set=toy.training_set,
        feature_rows=_batched_rows,
        scoring_batches=_two_batches,
        store_scores=_store_and_note_progress,
        finish_scoring=customer_scores_finish,
        scoring_batch_count=lambda _model: 2,
    )


register_model_spec(_batched_spec())


@pytest.fixture
def two_versions() -> tuple[PredictiveModel, ModelVersion, ModelVersion]:
    """A toy model whose worse second version was refused, so the first is active."""
    CustomerFactory.create_batch(6)
    model = toy_model_make()
    first = toy_version_train(model)
    second = toy_version_train(model, strength=0.05)
    assert second.decision == ModelVersion.Decision.REFUSED
    return model, first, second


def _scoring_job(model: PredictiveModel) -> AnalyticsJob:
    return AnalyticsJob.objects.get(model=model, kind=AnalyticsJob.Kind.SCORING)


def _scoring_url(model: PredictiveModel) -> str:
    return reverse("analytics:model_scoring", args=[model.name])


def test_an_activation_by_hand_queues_a_scoring_job_of_the_model(two_versions, manager):
    # given
    model, _first, second = two_versions

    # when
    training_services.model_version_activate(version=second, user=manager)

    # then
    job = _scoring_job(model)
    assert job.status == AnalyticsJob.Status.QUEUED
    assert job.stats == {"version": second.number}
    assert job.started_by == manager
    assert job.trigger == ModelVersion.Trigger.BUTTON


def test_the_scoring_job_runs_to_done_with_progress_100_and_the_customers_scored(
    two_versions, manager, eager_tasks, django_capture_on_commit_callbacks
):
    # given
    model, _first, second = two_versions

    # when
    with django_capture_on_commit_callbacks(execute=True):
        training_services.model_version_activate(version=second, user=manager)

    # then
    job = _scoring_job(model)
    assert job.status == AnalyticsJob.Status.DONE, job.error
    assert job.progress == 100
    assert job.stats == {"version": second.number, "scored": 6}
    assert job.finished_at is not None
    assert set(CustomerScore.objects.filter(model=model).values_list("version", flat=True)) == {
        second.pk
    }


def test_the_scoring_progress_moves_batch_by_batch(
    manager, eager_tasks, django_capture_on_commit_callbacks
):
    # given a model whose scoring takes two batches
    CustomerFactory.create_batch(4)
    model = PredictiveModel.objects.create(name="batched", title="Batched", kind=TOY_BATCHED)
    first = toy_version_train(model)
    progress_seen.clear()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        training_services.model_version_activate(version=first, user=manager)

    # then the second batch was stored once the first had moved the bar half way
    assert progress_seen == [5, 52]
    job = _scoring_job(model)
    assert (job.status, job.progress, job.stats["scored"]) == (AnalyticsJob.Status.DONE, 100, 4)


def test_a_failing_scoring_marks_the_job_failed_and_the_page_shows_the_error(
    two_versions, manager, client_for, eager_tasks, django_capture_on_commit_callbacks, monkeypatch
):
    # given scoring that breaks
    model, _first, second = two_versions

    def broken_store(**_kwargs):
        raise RuntimeError("The score table is locked.")

    monkeypatch.setattr(training_services, "scores_store_batch", broken_store)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        training_services.model_version_activate(version=second, user=manager)
    page = client_for(manager).get(reverse("analytics:model_detail", args=[model.name]))

    # then
    job = _scoring_job(model)
    assert job.status == AnalyticsJob.Status.FAILED
    assert job.error == "The score table is locked."
    assert job.finished_at is not None
    content = page.content.decode()
    assert "Scoring with version 2 failed." in content
    assert "The score table is locked." in content
    assert _scoring_url(model) not in content


def test_the_scoring_box_polls_while_the_job_runs_and_stops_once_it_is_done(
    two_versions, manager, client_for, django_assert_max_num_queries
):
    # given a scoring job under way
    model, _first, second = two_versions
    training_services.model_version_activate(version=second, user=manager)
    job = _scoring_job(model)
    AnalyticsJob.objects.filter(pk=job.pk).update(
        status=AnalyticsJob.Status.RUNNING, progress=40, stage="Scoring with version 2"
    )
    client = client_for(manager)

    # when
    with django_assert_max_num_queries(7):
        running = client.get(_scoring_url(model), headers={"HX-Request": "true"})
    with django_assert_max_num_queries(14):
        page = client.get(reverse("analytics:model_detail", args=[model.name]))

    # then both poll with the bar at 40%
    for response in (running, page):
        content = response.content.decode()
        assert f'hx-get="{_scoring_url(model)}"' in content
        assert 'role="progressbar" aria-label="Scoring progress" aria-valuenow="40"' in content

    # when the job is done
    AnalyticsJob.objects.filter(pk=job.pk).update(
        status=AnalyticsJob.Status.DONE, progress=100, stats={"version": 2, "scored": 6}
    )
    done = client.get(_scoring_url(model), headers={"HX-Request": "true"}).content.decode()

    # then the box tells how it ended and stops polling
    assert "Scored 6 customers with version 2." in done
    assert "hx-get" not in done
    assert "progressbar" not in done


def test_the_api_shows_the_latest_scoring_of_each_model(
    two_versions, manager, client_for, rep, django_assert_max_num_queries
):
    # given a model activated by hand through the API, and others activated by hand too
    model, _first, second = two_versions
    response = client_for(manager).post(f"/api/v1/model-versions/{second.pk}/activate/")
    assert response.status_code == 200
    for name in ("toy-c", "toy-d"):
        other = toy_model_make(name)
        training_services.model_version_activate(version=toy_version_train(other), user=manager)
    client = client_for(rep)

    # when
    with django_assert_max_num_queries(7):
        listing = client.get("/api/v1/models/")
    detail = client.get(f"/api/v1/models/{model.name}/").json()

    # then
    assert listing.status_code == 200
    assert sum(1 for row in listing.json()["results"] if row["scoring"] is not None) == 3
    scoring = detail["scoring"]
    assert scoring["id"] == _scoring_job(model).pk
    assert (scoring["status"], scoring["progress"], scoring["version"]) == ("queued", 0, 2)
    assert scoring["scored"] is None
    assert _scoring_job(model).trigger == ModelVersion.Trigger.API
