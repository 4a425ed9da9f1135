"""The crm as a user meets it: migrated and seeded with the demo data in a database of its own,
served by Uvicorn (HTTP and WebSocket) on a free loopback port, with a real Celery worker when
the suite runs on Redis. Everything runs in child processes, so the tests see only what a browser
sees."""

import contextlib
import email.policy
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEMO_CUSTOMERS = int(os.environ.get("CRM_E2E_CUSTOMERS", "300"))
DEMO_PASSWORD = "crm-e2e-password"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _postgres_database_for_e2e(url: str) -> str:
    """A database beside the suite's (`<name>_e2e`), dropped and made anew."""
    import psycopg2

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_e2e"
    admin = psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return urlunsplit(parts._replace(path=f"/{name}"))


def _redis_for_e2e(url: str) -> str:
    """Another Redis database than the suite's, emptied: the e2e worker must not take the suite's
    tasks, nor the suite's tests see the e2e server's keys."""
    import redis

    parts = urlsplit(url)
    database = int(parts.path.lstrip("/") or 0)
    e2e_url = urlunsplit(parts._replace(path=f"/{(database - 1) % 16}"))
    redis.Redis.from_url(e2e_url).flushdb()
    return e2e_url


class CrmServer:
    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="crm-e2e-"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        self.mail_dir = self.workdir / "mail"
        database_url = os.environ.get("DATABASE_URL", "")
        redis_url = os.environ.get("REDIS_URL", "")
        if database_url.startswith("postgres"):
            database_url = _postgres_database_for_e2e(database_url)
        else:
            database_url = f"sqlite:///{self.workdir / 'crm.sqlite3'}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.e2e.settings",
            "CRM_E2E_MEDIA_ROOT": str(self.workdir / "media"),
            "CRM_E2E_MAIL_DIR": str(self.mail_dir),
            # Links in emails lead to this server.
            "CRM_SITE_URL": self.url,
            "DATABASE_URL": database_url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("REDIS_URL", None)
        self.redis_url = _redis_for_e2e(redis_url) if redis_url else ""

    def manage(self, *args: str, timeout: float = 600) -> str:
        """A management command against the server's database (eager Celery: the seed's model
        training is done when it returns)."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            command = " ".join(args)
            raise RuntimeError(
                f"manage.py {command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result.stdout

    def sent_mail(self) -> list[EmailMessage]:
        """Every email the server and the worker sent, oldest first."""
        separator = b"\n" + b"-" * 79 + b"\n"
        parser = BytesParser(policy=email.policy.default)
        sent = []
        for path in sorted(self.mail_dir.glob("*.log"), key=lambda path: path.stat().st_mtime):
            for raw in path.read_bytes().split(separator):
                if raw.strip():
                    sent.append(parser.parsebytes(raw))
        return sent

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log_path = self.workdir / f"{name}.log"
        self.logs.append(log_path)
        with log_path.open("w") as log:
            self.processes.append(
                subprocess.Popen(
                    command,
                    cwd=PROJECT_DIR,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def start(self) -> None:
        self.manage("migrate", "--noinput", "-v0")
        self.manage("seed_demo", "--customers", str(DEMO_CUSTOMERS), "--password", DEMO_PASSWORD)
        env = dict(self.env)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
            self._spawn(
                "worker",
                [
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
                    "--without-heartbeat",
                ],
                env,
            )
        self._spawn(
            "web",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "crm.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--lifespan",
                "off",
                "--log-level",
                "warning",
            ],
            env,
        )
        self._wait_until_serving()

    def _wait_until_serving(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[-1].poll() is not None:
                raise RuntimeError(f"the server stopped:\n{self.output()}")
            with (
                contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
                urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in self.logs
            if path.exists()
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
