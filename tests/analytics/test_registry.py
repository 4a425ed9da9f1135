"""The model registry on a toy model: train, register, promote or refuse, score, explain; the
artifact's hash check; the lock against two retrains at once; a crash leaves the active version."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from analytics.ml.artifacts import ArtifactTampered
from analytics.models import CustomerScore, ModelVersion, PredictiveModel
from analytics.services import training as training_services
from tests.analytics.models_toy import TOY_SIGNAL_DEFAULTS, toy_model_make, toy_signal
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reset_signal():
    toy_signal.update(TOY_SIGNAL_DEFAULTS)


@pytest.fixture
def toy_model():
    return toy_model_make(name="toy")


def _retrain(model) -> ModelVersion:
    version = training_services.model_retrain_request(
        model=model, trigger=ModelVersion.Trigger.COMMAND
    )
    return training_services.model_train_run(version_id=version.pk)


def test_first_version_is_trained_registered_activated_and_scores_customers(
    toy_model, eager_tasks, django_capture_on_commit_callbacks
):
    CustomerFactory.create_batch(5)
    with django_capture_on_commit_callbacks(execute=True):
        version = training_services.model_retrain_request(
            model=toy_model, trigger=ModelVersion.Trigger.BUTTON
        )
    version.refresh_from_db()
    toy_model.refresh_from_db()
    assert version.status == ModelVersion.Status.DONE, version.error
    assert version.decision == ModelVersion.Decision.PROMOTED
    assert toy_model.active_version == version
    assert toy_model.training_version is None
    assert version.metrics["roc_auc"] > 0.8
    assert {"accuracy", "precision", "recall", "log_loss", "calibration", "confusion"} <= set(
        version.metrics
    )
    assert len(version.artifact_sha256) == 64
    assert (version.train_rows, version.test_rows) == (400, 200)
    assert version.feature_importance[0][0] == "x"
    assert version.scored_rows == 5
    scores = CustomerScore.objects.filter(model=toy_model)
    assert scores.count() == 5
    assert all(0 <= score.probability <= 1 for score in scores)
    assert any(score.reasons for score in scores)


def test_a_worse_version_is_refused_and_a_manager_can_activate_it_by_hand(toy_model, manager):
    first = _retrain(toy_model)
    toy_signal["strength"] = 0.1
    second = _retrain(toy_model)
    toy_model.refresh_from_db()
    assert second.decision == ModelVersion.Decision.REFUSED
    assert toy_model.active_version == first

    training_services.model_version_activate(version=second, user=manager)
    toy_model.refresh_from_db()
    assert toy_model.active_version == second
    training_services.model_version_activate(version=first, user=manager)
    first.refresh_from_db()
    assert first.decision == ModelVersion.Decision.ROLLED_BACK


def test_a_second_retrain_is_refused_while_one_holds_the_lock(toy_model):
    training_services.model_retrain_request(model=toy_model, trigger=ModelVersion.Trigger.API)
    with pytest.raises(training_services.ModelBusy):
        training_services.model_retrain_request(model=toy_model, trigger=ModelVersion.Trigger.API)


def test_a_lock_left_by_a_dead_worker_is_taken_over(toy_model, settings):
    stuck = training_services.model_retrain_request(
        model=toy_model, trigger=ModelVersion.Trigger.API
    )
    PredictiveModel.objects.filter(pk=toy_model.pk).update(
        training_started_at=timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    )
    fresh = training_services.model_retrain_request(
        model=toy_model, trigger=ModelVersion.Trigger.API
    )
    stuck.refresh_from_db()
    assert stuck.status == ModelVersion.Status.FAILED
    assert (
        training_services.model_train_run(version_id=stuck.pk).status == ModelVersion.Status.FAILED
    )
    assert training_services.model_train_run(version_id=fresh.pk).status == ModelVersion.Status.DONE


def test_a_failed_run_leaves_the_active_version_and_releases_the_lock(toy_model):
    first = _retrain(toy_model)
    toy_signal["fail"] = True
    failed = _retrain(toy_model)
    toy_model.refresh_from_db()
    assert failed.status == ModelVersion.Status.FAILED
    assert "only 3 labelled rows" in failed.error
    assert toy_model.active_version == first
    assert toy_model.training_version is None


def test_an_artifact_whose_bytes_changed_is_refused(toy_model):
    version = _retrain(toy_model)
    training_services._bundles.clear()
    with version.artifact.open("ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ArtifactTampered):
        training_services.bundle_load(version=version)


def test_activating_a_version_whose_artifact_changed_is_refused(toy_model, manager):
    # given
    version = _retrain(toy_model)
    training_services._bundles.clear()
    with version.artifact.open("ab") as handle:
        handle.write(b"tampered")

    # when / then
    with pytest.raises(ValidationError, match="does not match"):
        training_services.model_version_activate(version=version, user=manager)
