"""A retrain whose worker died, delivered again: the same version is taken up (trained again if
it was not judged yet, scored again if it was), so one version comes out of it, none is left
"training", and every customer keeps exactly one score. A version a live worker is running is
left alone."""

import pytest

from analytics.models import CustomerScore, ModelVersion, PredictiveModel
from analytics.services import training as training_services
from analytics.tasks.training import model_train_task
from crm import run_locks
from tests.analytics.factories import order_histories_create
from tests.workers import run_lock_held_elsewhere

# Run locks prove a worker dead only on PostgreSQL; elsewhere a stuck version waits for the
# stale-lock takeover of the next retrain, as before.
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def purchase() -> PredictiveModel:
    order_histories_create(regulars=20, lapsed=20, never=10)
    return PredictiveModel.objects.get(name="purchase")


def queued_version(model: PredictiveModel) -> ModelVersion:
    return training_services.model_retrain_request(
        model=model, trigger=ModelVersion.Trigger.API, queue=False
    )


def assert_one_finished_version(model: PredictiveModel, version: ModelVersion) -> None:
    version.refresh_from_db()
    model.refresh_from_db()
    assert version.status == ModelVersion.Status.DONE, version.error
    assert list(model.versions.values_list("pk", flat=True)) == [version.pk]
    assert model.active_version_id == version.pk
    assert model.training_version_id is None
    scores = CustomerScore.objects.filter(model=model)
    assert scores.count() == version.scored_rows == 50
    assert set(scores.values_list("version", flat=True)) == {version.pk}


def test_a_version_whose_worker_died_training_is_trained_again(purchase):
    # given a version a killed worker left half-way through fitting
    version = queued_version(purchase)
    ModelVersion.objects.filter(pk=version.pk).update(
        status=ModelVersion.Status.TRAINING, progress=30, stage="Fitting"
    )

    # when the broker delivers its task again
    model_train_task(version.pk)

    # then that same version is trained, promoted and scores every customer once
    assert_one_finished_version(purchase, version)
    assert version.decision == ModelVersion.Decision.PROMOTED
    assert len(version.artifact_sha256) == 64


def test_a_version_whose_worker_died_scoring_is_scored_again_with_its_artifact(purchase):
    # given a promoted version whose worker died after scoring some of the customers
    version = queued_version(purchase)
    model_train_task(version.pk)
    version.refresh_from_db()
    artifact = (version.artifact.name, version.artifact_sha256)
    kept = list(CustomerScore.objects.filter(model=purchase).values_list("pk", flat=True)[:10])
    CustomerScore.objects.filter(model=purchase).exclude(pk__in=kept).delete()
    ModelVersion.objects.filter(pk=version.pk).update(
        status=ModelVersion.Status.SCORING, progress=75, stage="Scoring", scored_rows=10
    )
    PredictiveModel.objects.filter(pk=purchase.pk).update(training_version=version)

    # when the broker delivers its task again
    model_train_task(version.pk)

    # then it scores again with the artifact it registered, one score per customer
    assert_one_finished_version(purchase, version)
    assert (version.artifact.name, version.artifact_sha256) == artifact


def test_a_version_a_live_worker_is_training_is_left_alone(purchase, monkeypatch):
    # given a version another worker is training (it holds the version's run lock)
    monkeypatch.setattr(run_locks, "RELEASE_GRACE_SECONDS", 0.3)
    version = queued_version(purchase)
    ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.TRAINING)

    # when the task is delivered to a second worker
    with run_lock_held_elsewhere(kind=run_locks.MODEL_TRAINING, pk=version.pk):
        model_train_task(version.pk)

    # then the second worker does nothing
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.TRAINING
    assert not CustomerScore.objects.exists()
