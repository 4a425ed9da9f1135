"""The processes of a small cluster on loopback, for the scale-out test: a streaming replica of
the suite's PostgreSQL, web servers, Celery workers and beats, all on the test database and a
Redis database of their own, each with its output in a log file, all stopped by the block that
started them."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

PROJECT_DIR = Path(settings.BASE_DIR)
# The cluster's own Redis database, emptied before and after (the suite's is REDIS_URL's).
CLUSTER_REDIS_DB = int(os.environ.get("CRM_CLUSTER_TEST_REDIS_DB", "13"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(*, port: int | None = None, application: str) -> str:
    """The test database's URL (on `port`, the replica's, if given), naming the process to
    PostgreSQL so the replica's log says who read there."""
    database = settings.DATABASES["default"]
    credentials = quote(database["USER"] or "", safe="")
    if database.get("PASSWORD"):
        credentials += ":" + quote(database["PASSWORD"], safe="")
    host = database.get("HOST") or "127.0.0.1"
    port = port or database.get("PORT") or 5432
    name = quote(connection.settings_dict["NAME"], safe="")
    return f"postgres://{credentials}@{host}:{port}/{name}?application_name={application}"


def cluster_redis_url() -> str:
    parts = urlsplit(settings.REDIS_URL)
    return urlunsplit(parts._replace(path=f"/{CLUSTER_REDIS_DB}"))


def _postgres_bin(program: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("show server_version_num")
        major = int(cursor.fetchone()[0]) // 10000
    candidate = Path(f"/usr/lib/postgresql/{major}/bin/{program}")
    return str(candidate) if candidate.exists() else (shutil.which(program) or program)


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: its programs run as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CRM_CLUSTER_REQUIRED"):
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass
class Replica:
    """A hot standby of the suite's PostgreSQL, streaming from it, on its own port."""

    directory: Path
    port: int
    log: Path

    def connect(self):
        return psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres"
        )

    def query(self, sql: str):
        with contextlib.closing(self.connect()) as replica, replica.cursor() as cursor:
            replica.autocommit = True
            cursor.execute(sql)
            return cursor.fetchone()[0] if cursor.description else None

    def wait_caught_up(self, timeout: float = 60) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        with connection.cursor() as cursor:
            cursor.execute("select pg_current_wal_lsn()")
            target = cursor.fetchone()[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lag = self.query(f"select pg_wal_lsn_diff('{target}', pg_last_wal_replay_lsn())")
            if lag is not None and lag <= 0:
                return
            time.sleep(0.1)
        pytest.fail(f"the replica did not catch up in {timeout}s:\n{self.log_text()[-3000:]}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextlib.contextmanager
def streaming_replica() -> Iterator[Replica]:
    """pg_basebackup of the suite's server into a temporary folder, started with pg_ctl on a
    free port as a hot standby that logs every statement with the client's application name."""
    with connection.cursor() as cursor:
        cursor.execute(
            "select count(*) from pg_hba_file_rules where 'replication' = any(database)"
            " and error is null"
        )
        if not cursor.fetchone()[0]:
            _skip_or_fail(
                "PostgreSQL allows no replication connection: add "
                "'host replication all 127.0.0.1/32 trust' to its pg_hba.conf (.ci/run does)"
            )
    directory = Path(tempfile.mkdtemp(prefix="crm-replica-"))
    data = directory / "data"
    log = directory / "replica.log"
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    started = False
    try:
        backup = subprocess.run(
            _as_postgres(
                [
                    _postgres_bin("pg_basebackup"),
                    *("-h", "127.0.0.1", "-p", str(settings.DATABASES["default"]["PORT"] or 5432)),
                    *("-U", "postgres", "-D", str(data), "-R", "-X", "stream", "-c", "fast"),
                ]
            ),
            capture_output=True,
            text=True,
            timeout=600,
        )
        if backup.returncode:
            pytest.fail(f"pg_basebackup failed: {backup.stderr}")
        # Debian keeps the server's configuration outside its data folder: the copy gets its own.
        # A standby needs at least the primary's limits.
        with connection.cursor() as cursor:
            cursor.execute(
                "select name, setting from pg_settings where name in ('max_connections',"
                " 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions',"
                " 'max_locks_per_transaction')"
            )
            limits = "".join(f"{name} = {value}\n" for name, value in cursor.fetchall())
        (data / "postgresql.conf").write_text(
            f"hot_standby = on\nlog_statement = 'all'\nlog_line_prefix = '[%a] '\n{limits}"
        )
        (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        (data / "pg_ident.conf").write_text("")
        if os.geteuid() == 0:
            for path in (data / "postgresql.conf", data / "pg_hba.conf", data / "pg_ident.conf"):
                shutil.chown(path, "postgres", "postgres")
        options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={directory}"
        start = subprocess.run(
            _as_postgres(
                [
                    *(_postgres_bin("pg_ctl"), "-D", str(data), "-o", options),
                    *("-l", str(log), "-w", "-t", "120", "start"),
                ]
            ),
            capture_output=True,
            text=True,
            timeout=180,
        )
        started = True
        if start.returncode:
            pytest.fail(f"the replica did not start: {start.stderr}\n{log.read_text()[-3000:]}")
        replica = Replica(directory=directory, port=port, log=log)
        assert replica.query("select pg_is_in_recovery()") is True
        yield replica
    finally:
        if started:
            subprocess.run(
                _as_postgres([_postgres_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                capture_output=True,
                timeout=120,
            )
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Cluster:
    """Web servers, workers and beats started with `start_*`; `stop()` ends them all."""

    workdir: Path
    environment: dict
    processes: list[Process] = field(default_factory=list)

    def _spawn(self, name: str, command: list[str], **environment: str) -> Process:
        log = self.workdir / f"{name}.log"
        with log.open("w") as output:
            popen = subprocess.Popen(
                [sys.executable, *command],
                cwd=PROJECT_DIR,
                env={**self.environment, **environment},
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name=name, popen=popen, log=log)
        self.processes.append(process)
        return process

    def start_web(self, name: str, *, replica_port: int) -> str:
        """gunicorn with one Uvicorn worker, as docker-compose.yml runs a web host: its URL."""
        port = free_port()
        process = self._spawn(
            name,
            ["-m", "gunicorn", "crm.asgi:application", "-c", "crm/gunicorn.conf.py"],
            BIND=f"127.0.0.1:{port}",
            WEB_CONCURRENCY="1",
            DATABASE_URL=database_url(application=name),
            DATABASE_REPLICA_URLS=database_url(port=replica_port, application=name),
        )
        url = f"http://127.0.0.1:{port}"
        self.wait(f"{name} answers", lambda: _answers(url), timeout=90, process=process)
        return url

    def start_worker(self, name: str, *, queues: str) -> Process:
        return self._spawn(
            name,
            [
                *("-m", "celery", "-A", "crm", "worker", "--pool=solo", f"--queues={queues}"),
                *("--loglevel=info", "--without-gossip", "--without-mingle"),
                f"--hostname={name}@%h",
            ],
            DATABASE_URL=database_url(application=name),
        )

    def start_beat(self, name: str) -> Process:
        return self._spawn(
            name,
            [
                *("-m", "celery", "-A", "crm", "beat", "--loglevel=info", "--max-interval=1"),
                *("--scheduler", "crm.beat:ClusterScheduler"),
                f"--pidfile={self.workdir / name}.pid",
            ],
            DATABASE_URL=database_url(application=name),
        )

    def wait(self, what: str, condition, *, timeout: float, process: Process | None = None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if process is not None and process.popen.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"timed out waiting until {what}\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(
            f"--- {process.name} ---\n{process.output()[-3000:]}" for process in self.processes
        )

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.popen.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait(timeout=10)


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code < 500
    except requests.RequestException:
        return False


@contextlib.contextmanager
def cluster(*, workdir: Path) -> Iterator[Cluster]:
    import redis

    broker = redis.Redis.from_url(cluster_redis_url())
    broker.flushdb()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.cluster.settings",
        "CRM_TEST_WORKER_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "REDIS_URL": cluster_redis_url(),
        "CRM_REPLICA_PIN_SECONDS": "30",
        "PYTHONUNBUFFERED": "1",
    }
    environment.pop("DATABASE_REPLICA_URLS", None)
    running = Cluster(workdir=workdir, environment=environment)
    try:
        yield running
    finally:
        running.stop()
        broker.flushdb()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
