"""Real Celery workers for the fault tests: started on the test database, the suite's Redis and a
queue of their own, killed with SIGKILL (the whole process group, or one pool child), and always
stopped by the test that started them."""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from crm.celery import app as celery_app
from crm.run_locks import run_lock

PROJECT_DIR = Path(settings.BASE_DIR)


def _test_database_url() -> str:
    database = settings.DATABASES["default"]
    credentials = quote(database["USER"] or "", safe="")
    if database.get("PASSWORD"):
        credentials += ":" + quote(database["PASSWORD"], safe="")
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(database['NAME'], safe='')}"


class Worker:
    """One `celery worker` process group consuming `queue`, its output kept in a log file."""

    def __init__(self, *, queue: str, pool: str) -> None:
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by stop)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "CRM_TEST_WORKER_MEDIA_ROOT": str(settings.MEDIA_ROOT),
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
            f"--pool={pool}",
            "--concurrency=1",
            f"--queues={queue}",
            "--loglevel=info",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname=fault-{uuid.uuid4().hex[:8]}@%h",
        ]
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the whole process group, as an out-of-memory killer or a lost machine would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def kill_pool_child(self) -> None:
        """SIGKILL the prefork pool's child running the task; the parent lives on."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(pid) for pid in children.read_text().split()]
        assert pids, "the worker has no pool child"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()[-4000:]


class Workers:
    """Starts workers on a queue of their own (nothing else sends there, no other worker takes
    from it)."""

    def __init__(self) -> None:
        self.queue = f"fault-test-{uuid.uuid4().hex[:8]}"
        self.started: list[Worker] = []

    def start(self, *, pool: str = "solo") -> Worker:
        worker = Worker(queue=self.queue, pool=pool)
        self.started.append(worker)
        return worker


@contextlib.contextmanager
def workers() -> Iterator[Workers]:
    """Every worker started in the block is stopped at its end, whatever happened."""
    pool = Workers()
    try:
        yield pool
    finally:
        for worker in pool.started:
            worker.stop()
        with celery_app.connection_for_write() as broker:
            broker.default_channel.queue_delete(pool.queue)


def wait_for(
    condition: Callable[[], bool], *, timeout: float, what: str, workers: list[Worker]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    logs = "\n".join(worker.output() for worker in workers)
    pytest.fail(f"timed out waiting until {what}; worker logs:\n{logs}")


@contextlib.contextmanager
def run_lock_held_elsewhere(*, kind: int, pk: int) -> Iterator[None]:
    """Another worker's live run of (kind, pk): a thread, with its own database connection,
    holds the run lock until the block ends."""
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with run_lock(kind=kind, pk=pk, grace=0) as ours:
                assert ours
                taken.set()
                done.wait(timeout=60)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert taken.wait(timeout=10)
        yield
    finally:
        done.set()
        holder.join(timeout=10)
