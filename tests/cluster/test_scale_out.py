"""The CRM spread over several processes as over several machines: two web servers, two Celery
workers on queues of their own and two beat candidates, on the real PostgreSQL and Redis, with a
streaming replica of PostgreSQL that the test makes with pg_basebackup.

One test, because the cluster takes half a minute to start: it shows that a chat message sent
through one web process reaches a WebSocket on the other, that an import queued through one web
process runs on the worker of the `imports` queue, that dashboards and searches read the replica
while a save and the page after it read the primary, and that a scheduled job is sent once though
two beats run.
"""

import asyncio
import json
import re
import time
from datetime import timedelta

import pytest
import redis
import requests
import websockets
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, PeriodicTask

from collaboration.services.chat import chat_room_group_create
from crm.accounts import roles
from crm.accounts.services import api_token_create
from customers.models import Customer, ImportJob
from tests.accounts.factories import TeamFactory, UserFactory
from tests.cluster.processes import (
    Cluster,
    Replica,
    cluster,
    cluster_redis_url,
    streaming_replica,
    unique,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(600)]
# A queue no worker takes: what the beats send there stays, to be counted.
BEAT_PROBE_QUEUE = "cluster-beat-probe"


@pytest.fixture
def people(transactional_db):
    team = TeamFactory(name="Cluster team")
    manager = UserFactory(username="cluster_manager", roles=[roles.MANAGER], is_staff=True)
    team.manager = manager
    team.save(update_fields=["manager"])
    rep = UserFactory(username="cluster_rep", roles=[roles.SALES_REP])
    rep.team_memberships.create(team=team)
    return manager, rep


def session_of(user) -> str:
    """A signed-in browser session, stored in the database every web process reads."""
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def browser(base_url: str, session_key: str) -> requests.Session:
    session = requests.Session()
    session.cookies.set("sessionid", session_key, domain="127.0.0.1")
    session.headers["Referer"] = base_url + "/"
    return session


def replica_reads_by(replica: Replica, since: int, application: str) -> list[str]:
    """Statements `application` ran on the replica after log offset `since`."""
    prefix = f"[{application}] LOG:  statement:"
    return [line for line in replica.log_text()[since:].splitlines() if line.startswith(prefix)]


def test_the_crm_runs_as_a_cluster(people, tmp_path):
    manager, rep = people
    _token, manager_token = api_token_create(user=manager, name="cluster test")
    api = {"Authorization": f"Token {manager_token}"}
    room = chat_room_group_create(creator=manager, name="Cluster room", members=[rep])
    clocked_at = timezone.now() + timedelta(seconds=45)
    PeriodicTask.objects.create(
        name=unique("sent-once"),
        task="accounts.clear_expired_sessions_task",
        clocked=ClockedSchedule.objects.create(clocked_time=clocked_at),
        one_off=True,
        queue=BEAT_PROBE_QUEUE,
    )

    with streaming_replica() as replica, cluster(workdir=tmp_path) as running:
        web_one = running.start_web("web1", replica_port=replica.port)
        web_two = running.start_web("web2", replica_port=replica.port)
        imports_worker = running.start_worker("imports-worker", queues="imports")
        other_worker = running.start_worker("other-worker", queues="default,email,webhooks,ml")
        beats = [running.start_beat("beat1"), running.start_beat("beat2")]
        health = requests.get(f"{web_two}/healthz", timeout=30).json()
        assert health["checks"]["database_replicas"]["replicas"]["replica_1"]["reachable"]

        chat_crosses_web_processes(web_one, web_two, api=api, room_id=room.pk, rep=rep)
        import_runs_on_the_imports_worker(
            running, web_one, web_two, api=api, imports_worker=imports_worker.name
        )
        assert "customers.import_customers_task[" not in other_worker.output()
        reads_split_between_replica_and_primary(
            running, replica, web_one, web_two, api=api, manager=manager
        )
        scheduled_job_sent_once(running, beats=beats, clocked_at=clocked_at)


def chat_crosses_web_processes(web_one: str, web_two: str, *, api: dict, room_id: int, rep):
    body = unique("across hosts")
    session_key = session_of(rep)

    async def exchange() -> dict:
        async with websockets.connect(
            web_two.replace("http", "ws") + "/ws/live/",
            additional_headers={"Cookie": f"sessionid={session_key}"},
            origin=web_two,
            open_timeout=30,
        ) as socket:
            await socket.send(json.dumps({"type": "subscribe", "room": room_id, "after": None}))
            while json.loads(await socket.recv())["type"] != "subscribed":
                pass
            # sent through the other web process, by its API
            sent = await asyncio.to_thread(
                requests.post,
                f"{web_one}/api/v1/chat/rooms/{room_id}/messages/",
                json={"body": body},
                headers=api,
                timeout=30,
            )
            assert sent.status_code == 201, sent.text
            async with asyncio.timeout(30):
                while True:
                    frame = json.loads(await socket.recv())
                    if frame["type"] == "message.new":
                        return frame

    frame = asyncio.run(exchange())
    assert frame["message"]["body"] == body
    assert frame["message"]["room"] == room_id


def import_runs_on_the_imports_worker(
    running: Cluster, web_one: str, web_two: str, *, api: dict, imports_worker: str
):
    email = f"{unique('imported')}@example.com"
    created = requests.post(
        f"{web_one}/api/v1/customer-imports/",
        files={"file": ("people.csv", f"Name,Email\nIvy Import,{email}\n".encode(), "text/csv")},
        data={"mapping": json.dumps({"Name": "name", "Email": "email"})},
        headers=api,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]

    def finished() -> bool:
        status = requests.get(f"{web_two}/api/v1/customer-imports/{job_id}/", headers=api)
        return status.json()["status"] in {"completed", "failed"}

    running.wait("the import has run", finished, timeout=120)
    job = ImportJob.objects.get(pk=job_id)
    assert job.status == ImportJob.Status.COMPLETED, job.error
    assert Customer.objects.filter(email=email).exists()
    log = next(p for p in running.processes if p.name == imports_worker).output()
    assert re.search(r"customers\.import_customers_task\[[^\]]+\] succeeded", log), log[-3000:]


def reads_split_between_replica_and_primary(
    running: Cluster, replica: Replica, web_one: str, web_two: str, *, api: dict, manager
):
    replica.wait_caught_up()
    # The replica stops applying the primary's changes: from here on it lacks every save.
    replica.query("select pg_wal_replay_pause()")
    try:
        saver = browser(web_one, session_of(manager))
        name = unique("Primary Only")

        # a save in the browser, through one web process
        form = saver.get(f"{web_one}/customers/new/", timeout=30)
        assert form.status_code == 200
        since = len(replica.log_text())
        saved = saver.post(
            f"{web_one}/customers/new/",
            data={
                "csrfmiddlewaretoken": saver.cookies["csrftoken"],
                "name": name,
                "kind": "person",
                "status": "lead",
                "tier": "normal",
                "source": "other",
                "language": "en",
            },
            allow_redirects=False,
            timeout=30,
        )
        assert saved.status_code == 302, saved.text[-2000:]
        # and the page after it, through the other, shows what the replica does not have
        page = saver.get(web_two + saved.headers["Location"], timeout=30)
        assert page.status_code == 200
        assert name in page.text
        # and so does the dashboard the same person opens right after saving
        pinned = saver.get(f"{web_two}/api/v1/dashboards/manager/", timeout=60)
        assert pinned.status_code == 200
        assert replica_reads_by(replica, since, "web1") == []
        assert replica_reads_by(replica, since, "web2") == []

        # a dashboard asked for without the pin (by an API client) reads the replica; the
        # figures the pinned request cached go first
        cache = redis.Redis.from_url(cluster_redis_url())
        for key in cache.scan_iter("crm:1:*"):
            cache.delete(key)
        since = len(replica.log_text())
        dashboard = requests.get(f"{web_two}/api/v1/dashboards/manager/", headers=api, timeout=60)
        assert dashboard.status_code == 200, dashboard.text[-2000:]
        running.wait(
            "the replica logged the dashboard's queries",
            lambda: any("SELECT" in line for line in replica_reads_by(replica, since, "web2")),
            timeout=10,
        )
        # and so does a search, which does not find what only the primary has yet
        search = requests.get(
            f"{web_one}/api/v1/customers/", params={"search": name}, headers=api, timeout=30
        )
        assert search.status_code == 200
        assert search.json()["results"] == []
        customer = Customer.objects.get(name=name)
        detail = requests.get(f"{web_one}/api/v1/customers/{customer.pk}/", headers=api)
        assert detail.status_code == 200
    finally:
        replica.query("select pg_wal_replay_resume()")

    replica.wait_caught_up()
    search = requests.get(
        f"{web_one}/api/v1/customers/", params={"search": name}, headers=api, timeout=30
    )
    assert [row["name"] for row in search.json()["results"]] == [name]


def scheduled_job_sent_once(running: Cluster, *, beats: list, clocked_at):
    broker = redis.Redis.from_url(cluster_redis_url())
    # both beats are up, one leads and the other stands by
    running.wait(
        "a beat leads",
        lambda: sum("is the leader" in beat.output() for beat in beats) == 1,
        timeout=60,
    )
    wait = (clocked_at - timezone.now()).total_seconds() + 10
    time.sleep(max(wait, 0))

    def probe_messages() -> int:
        return sum(broker.llen(key) for key in broker.scan_iter(f"{BEAT_PROBE_QUEUE}*"))

    assert probe_messages() == 1, running.logs()
    assert sum("is the leader" in beat.output() for beat in beats) == 1
    assert all(beat.popen.poll() is None for beat in beats), running.logs()
