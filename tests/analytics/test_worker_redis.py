"""A retrain through a real Celery worker on Redis, as production runs it: the request queues the
task on the broker, a separate `celery -A crm worker` process trains, registers, activates and
scores, and the test reads the result from the shared PostgreSQL test database."""

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from analytics.models import CustomerScore, ModelVersion, PredictiveModel
from analytics.services.training import model_retrain_request
from crm.celery import app as celery_app
from tests.analytics.factories import PredictiveModelFactory, order_histories_create

WORKER_TIMEOUT_SECONDS = 90
PROJECT_DIR = Path(settings.BASE_DIR)


def _test_database_url() -> str:
    database = settings.DATABASES["default"]
    credentials = quote(database["USER"] or "", safe="")
    if database.get("PASSWORD"):
        credentials += ":" + quote(database["PASSWORD"], safe="")
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(database['NAME'], safe='')}"


def _worker_start(log) -> subprocess.Popen:
    """A worker on the database the test uses (the test database, not the one DATABASE_URL
    names) and the suite's Redis, in its own process group so that it can be stopped whole."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings.test",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "crm",
        "worker",
        "--pool=solo",
        "--loglevel=info",
        "--without-gossip",
        "--without-mingle",
        f"--hostname=test-worker-{uuid.uuid4().hex[:8]}@%h",
    ]
    return subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _worker_stop(worker: subprocess.Popen) -> None:
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=15)


def _wait_until_finished(version: ModelVersion, worker: subprocess.Popen, log) -> ModelVersion:
    deadline = time.monotonic() + WORKER_TIMEOUT_SECONDS
    finished = {ModelVersion.Status.DONE, ModelVersion.Status.FAILED}
    while time.monotonic() < deadline:
        version.refresh_from_db()
        if version.status in finished:
            return version
        if worker.poll() is not None:
            break
        time.sleep(0.5)
    log.seek(0)
    pytest.fail(
        f"version {version.number} still {version.status} (stage {version.stage!r}); "
        f"worker exit code {worker.poll()}; worker log:\n{log.read()[-4000:]}"
    )


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_retrain_runs_through_a_real_worker_and_activates_the_new_version():
    # given two years of orders, and no task left on the broker by earlier tests
    order_histories_create(regulars=20, lapsed=20, never=10)
    model = PredictiveModelFactory(
        name="purchase", title="Purchase propensity", kind=PredictiveModel.Kind.PURCHASE
    )
    celery_app.control.purge()

    with tempfile.TemporaryFile(mode="w+") as log:
        worker = _worker_start(log)
        try:
            # when a manager's retrain is queued on the broker
            version = model_retrain_request(model=model, trigger=ModelVersion.Trigger.API)

            # then the worker trains, promotes and scores with it
            version = _wait_until_finished(version, worker, log)
        finally:
            _worker_stop(worker)

    assert version.status == ModelVersion.Status.DONE, version.error
    assert version.decision == ModelVersion.Decision.PROMOTED
    assert len(version.artifact_sha256) == 64
    model.refresh_from_db()
    assert model.active_version == version
    assert model.training_version is None
    assert CustomerScore.objects.filter(model=model, version=version).count() == 50
