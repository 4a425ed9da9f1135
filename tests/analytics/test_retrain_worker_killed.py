"""A real prefork Celery worker whose pool child is killed (SIGKILL) while it trains: the parent
gives the task back to the broker (late acknowledgement, reject on worker lost), a new child
takes the same version up again, and the retrain ends with exactly one version, active and done,
none left "training", and one score per customer."""

import pytest

from analytics.models import CustomerScore, ModelVersion, PredictiveModel
from analytics.services.training import model_retrain_request
from analytics.tasks.training import model_train_task
from tests.analytics.factories import PredictiveModelFactory, order_histories_create
from tests.workers import wait_for, workers

WAIT_SECONDS = 90


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_retrain_whose_worker_is_killed_while_training_ends_with_one_active_version():
    # given order histories to learn from and a retrain of the purchase model
    order_histories_create(regulars=60, lapsed=60, never=30)
    model = PredictiveModelFactory(
        name="purchase", title="Purchase propensity", kind=PredictiveModel.Kind.PURCHASE
    )
    version = model_retrain_request(model=model, trigger=ModelVersion.Trigger.API, queue=False)

    def status() -> str:
        version.refresh_from_db(fields=["status"])
        return version.status

    with workers() as pool:
        worker = pool.start(pool="prefork")
        model_train_task.apply_async((version.pk,), queue=pool.queue)
        wait_for(
            lambda: status() != ModelVersion.Status.QUEUED,
            timeout=WAIT_SECONDS,
            what="training started",
            workers=[worker],
        )

        # when the pool child training it is killed
        worker.kill_pool_child()
        if status() != ModelVersion.Status.TRAINING:
            pytest.skip("the version finished training before its worker could be killed")
        wait_for(
            lambda: status() in {ModelVersion.Status.DONE, ModelVersion.Status.FAILED},
            timeout=WAIT_SECONDS,
            what="the retrain finished",
            workers=[worker],
        )
        log = worker.output()

    # then the parent gave the task back and that one version was trained again, and activated
    assert "WorkerLostError" in log
    version.refresh_from_db()
    model.refresh_from_db()
    assert version.status == ModelVersion.Status.DONE, version.error
    assert list(model.versions.values_list("pk", flat=True)) == [version.pk]
    assert not ModelVersion.objects.filter(status=ModelVersion.Status.TRAINING).exists()
    assert model.active_version_id == version.pk
    assert model.training_version_id is None
    # and every customer but the erased one has one score, from that version
    scores = CustomerScore.objects.filter(model=model)
    assert scores.count() == version.scored_rows == 150
    assert set(scores.values_list("version", flat=True)) == {version.pk}
