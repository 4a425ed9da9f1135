"""A real Celery worker on Redis runs the project's tasks (skipped on the embedded default)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from crm.accounts.tasks import clear_expired_sessions_task

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def celery_worker_process():
    database_url = (
        os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "crm.settings.test",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "crm",
            "worker",
            "--pool=solo",
            "--loglevel=warning",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield worker
    worker.terminate()
    worker.wait(timeout=30)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_worker_on_redis_runs_a_task_against_the_database(celery_worker_process):
    # given an expired session in the database the worker shares with the test
    Session.objects.create(
        session_key="expired-session-key", session_data="", expire_date=timezone.now()
    )
    assert not settings.CELERY_TASK_ALWAYS_EAGER

    # when the task goes through the broker to the worker
    result = clear_expired_sessions_task.apply_async(ignore_result=False)
    result.get(timeout=60)

    # then the worker has run it and the expired session is gone
    assert result.successful()
    assert not Session.objects.filter(session_key="expired-session-key").exists()
