"""PostgreSQL drops the app's connections (a restart, a failover): the next request is served
on a fresh connection, without restarting the app (CONN_HEALTH_CHECKS with CONN_MAX_AGE).

The app runs as in production, in gunicorn with one Uvicorn worker holding its connection across
requests; the test kills that connection on the server's side with pg_terminate_backend."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REPO_ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _app_backend_pids() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


def _terminate(pids: list[int]) -> None:
    with connection.cursor() as cursor:
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture
def app_server():
    port = _free_port()
    database_url = (
        os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "crm.settings.test",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        # gunicorn.conf.py closes connections after each request (ASGI gives each request a
        # thread); kept connections are what this test is about, as Celery workers keep them.
        "CONN_MAX_AGE": "60",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "crm/gunicorn.conf.py", "crm.asgi:application"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            _get(f"{base}/healthz")
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise
            time.sleep(0.2)
    yield base
    server.terminate()
    server.wait(timeout=30)


def test_the_next_request_after_the_database_dropped_the_connection_succeeds(app_server):
    # given the app has served a request and keeps its database connection open
    status, body = _get(f"{app_server}/healthz")
    assert status == 200, body
    pids = _app_backend_pids()
    assert pids, "the app keeps no connection open between requests"

    # when PostgreSQL terminates the app's connections
    _terminate(pids)
    deadline = time.monotonic() + 5
    while set(pids) & set(_app_backend_pids()) and time.monotonic() < deadline:
        time.sleep(0.05)

    # then the very next request reaches the database on a new connection
    status, body = _get(f"{app_server}/healthz")
    assert status == 200, body
    assert not set(pids) & set(_app_backend_pids())
    status, _body = _get(f"{app_server}/accounts/login/")
    assert status == 200
