"""The model registry on a toy model: train, register, promote or refuse, score, explain; the
artifact's hash check; the lock against two retrains at once; a crash leaves the active version."""

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone

from analytics.ml.artifacts import ArtifactTampered
from analytics.ml.pipelines import Features
from analytics.models import CustomerScore, ModelVersion, PredictiveModel
from analytics.services import training as training_services
from analytics.services.scores import customer_scores_finish, customer_scores_store
from analytics.specs import ModelSpec, NotEnoughData, TrainingSet, register_model_spec
from customers.models import Customer
from tests.analytics.factories import PredictiveModelFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

TOY = "toy"
# How informative the toy's feature is; tests lower it to make a worse version.
signal = {"strength": 3.0, "fail": False}


def _frame(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    noise = rng.normal(size=rows)
    y = (signal["strength"] * x + rng.normal(size=rows) > 0).astype(int)
    colour = np.where(x > 0, "red", "blue")
    return pd.DataFrame({"x": x, "noise": noise, "colour": colour}), y


def _training_set(model) -> TrainingSet:
    if signal["fail"]:
        raise NotEnoughData("only 3 labelled rows")
    train, y_train = _frame(400, 1)
    test, y_test = _frame(200, 2)
    return TrainingSet(
        train=train,
        y_train=y_train,
        test=test,
        y_test=y_test,
        features=Features(numeric=["x", "noise"], categorical=["colour"]),
        split="toy rows 1-400 against rows 401-600",
    )


def _customer_ids():
    return list(Customer.objects.order_by("pk").values_list("pk", flat=True))


def _rows(model, ids):
    frame, _y = _frame(len(ids), 3)
    frame.index = ids
    return frame


def _batches(model):
    ids = _customer_ids()
    yield _rows(model, ids)


register_model_spec(
    ModelSpec(
        kind=TOY,
        training_set=_training_set,
        feature_rows=_rows,
        scoring_batches=_batches,
        store_scores=customer_scores_store,
        finish_scoring=customer_scores_finish,
    )
)


@pytest.fixture(autouse=True)
def _reset_signal():
    signal.update(strength=3.0, fail=False)


@pytest.fixture
def toy_model():
    return PredictiveModelFactory(name="toy", kind=TOY)


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
    signal["strength"] = 0.1
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
    signal["fail"] = True
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
