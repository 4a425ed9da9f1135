"""Redis stops: pages and the API keep working, /healthz says so, work meant for a worker fails
with a message instead of waiting for ever, and everything answers again once Redis is back.

Each test starts its own redis-server and kills it (tests/reliability/conftest.py)."""

from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from kombu import pools as kombu_pools

from crm.accounts import roles
from crm.celery import app as celery_app
from crm.queueing import BROKER_UNREACHABLE_MESSAGE
from customers.models import Customer, ImportJob
from tests.accounts.factories import UserFactory
from tests.customers.factories import CustomerFactory

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

REPO_ROOT = Path(__file__).resolve().parents[2]
CSV = b"Name,Email\nAnn Lee,ann@example.com\n"


def _celery_use(*, broker: str, eager: bool) -> None:
    """Point the Celery app at `broker`, dropping the connections it holds to the old one (no
    result store is touched: tasks ignore their results). The app's pool is kombu's global one
    for the broker, so the registry is reset too: a closed pool left in it would be handed back
    to every later test that sends a task."""
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = broker
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def on_private_redis(private_redis, settings):
    """Cache, channel layer and broker all on the test's own Redis."""
    # Read before any setting changes: the Celery app reads through to Django's settings.
    before = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    settings.CACHES = {
        "default": {
            # The project's own Redis cache backend, pointed at the private server.
            **settings.CACHES["default"],
            "LOCATION": private_redis.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": private_redis.url, "socket_connect_timeout": 0.5}]},
        }
    }
    _celery_use(broker=private_redis.url, eager=False)
    yield private_redis
    _celery_use(broker=before[0], eager=before[1])


@pytest.fixture
def marketer_client(client_for, team):
    user = UserFactory(username="marketer", roles=[roles.MARKETING])
    user.team_memberships.create(team=team)
    return client_for(user)


def test_pages_and_the_api_keep_working_while_redis_is_down(on_private_redis, rep, rep_client):
    # given a customer, and Redis answering
    customer = CustomerFactory(owner=rep, name="Ada Wong")
    assert rep_client.get("/healthz").status_code == 200
    cache.set("warm", "1")

    # when Redis stops
    on_private_redis.stop()

    # then the list, the detail, a save, the API list and an API write all still work
    listing = rep_client.get("/customers/")
    assert listing.status_code == 200
    assert "Ada Wong" in listing.content.decode()
    assert rep_client.get(f"/customers/{customer.pk}/").status_code == 200
    saved = rep_client.post(
        "/customers/new/", {"name": "Bo Chen", "status": "lead", "tier": "normal"}
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert Customer.objects.filter(name="Bo Chen").exists()
    api_list = rep_client.get("/api/v1/customers/")
    assert api_list.status_code == 200
    assert "Ada Wong" in {row["name"] for row in api_list.json()["results"]}
    created = rep_client.post(
        "/api/v1/customers/", {"name": "Cy Wu"}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    # and the cache answers as an empty one instead of failing
    assert cache.get("warm") is None

    # and /healthz names the cache, the channel layer and the broker as down
    health = rep_client.get("/healthz")
    assert health.status_code == 503
    checks = health.json()["checks"]
    assert checks["database"]["ok"] is True
    for name in ("cache", "channel_layer", "broker"):
        assert checks[name]["ok"] is False, (name, checks[name])
    assert "ConnectionError" in checks["cache"]["error"]

    # when Redis is back
    on_private_redis.start()

    # then everything answers again, without a restart
    assert rep_client.get("/healthz").status_code == 200, rep_client.get("/healthz").json()
    cache.set("warm", "2")
    assert cache.get("warm") == "2"


def test_an_import_started_while_the_broker_is_down_fails_with_a_message(
    on_private_redis, marketer_client, django_capture_on_commit_callbacks
):
    # given Redis is down
    on_private_redis.stop()

    # when an import is uploaded and started through the API
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post(
            "/api/v1/customer-imports/",
            {"file": SimpleUploadedFile("people.csv", CSV, content_type="text/csv")},
        )

    # then the request is answered, and the job is not left waiting for a worker
    assert response.status_code == 201, response.content
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert job.error == str(BROKER_UNREACHABLE_MESSAGE)
    assert not Customer.objects.exists()
    # and the job's page says why
    page = marketer_client.get(f"/customers/imports/{job.pk}/").content.decode()
    assert "task queue is down" in page


def test_an_import_started_while_the_broker_is_up_is_queued(
    on_private_redis, marketer_client, django_capture_on_commit_callbacks
):
    # given Redis is up (and no worker runs in this test)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post(
            "/api/v1/customer-imports/",
            {"file": SimpleUploadedFile("people.csv", CSV, content_type="text/csv")},
        )

    # then the job waits in the queue for a worker
    assert response.status_code == 201, response.content
    job = ImportJob.objects.get()
    assert (job.status, job.error) == (ImportJob.Status.PENDING, "")


def test_the_chat_page_has_the_reconnecting_status_the_socket_client_shows(
    on_private_redis, rep_client, rep
):
    # given a room, and Redis down
    from tests.collaboration.factories import ChatMembershipFactory, ChatRoomFactory

    room = ChatRoomFactory(name="Deal desk")
    ChatMembershipFactory(room=room, user=rep)
    on_private_redis.stop()

    # when the room is opened
    page = rep_client.get(f"/collaboration/chat/{room.pk}/")

    # then it loads with the (hidden until needed) reconnecting banner
    assert page.status_code == 200
    body = page.content.decode()
    assert "data-chat-reconnecting" in body
    assert "Reconnecting…" in body
    # and the socket client retries after a drop and reports "reconnecting" to the banner
    live_js = (REPO_ROOT / "static/js/live.js").read_text()
    chat_js = (REPO_ROOT / "static/js/chat.js").read_text()
    assert 'setStatus("reconnecting")' in live_js
    assert "[data-chat-reconnecting]" in chat_js
    assert "live.onStatus" in chat_js
