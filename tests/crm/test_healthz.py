"""/healthz answers 200 only when every configured dependency answers."""

import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connection

from crm import health

pytestmark = pytest.mark.django_db

CHECK_NAMES = {"database", "database_replicas", "cache", "channel_layer", "broker"}


def test_healthz_reports_every_check_ok(client):
    # given the embedded default (or whatever the environment configured)
    # when a load balancer probes, without signing in
    response = client.get("/healthz")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == CHECK_NAMES
    for name, check in body["checks"].items():
        assert check["ok"] is True, (name, check)
        assert isinstance(check["ms"], float)
    assert body["checks"]["database"]["backend"] == connection.vendor


def test_a_replica_down_is_reported_without_taking_the_host_out(client, settings, monkeypatch):
    # given a replica that refuses connections (reads fall back to the primary meanwhile)
    settings.CRM_DATABASE_REPLICAS = ["replica_1"]

    class Refusing:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connections", {"replica_1": Refusing()})

    # when a load balancer probes
    response = client.get("/healthz")

    # then the host stays in service and the report names the replica that is down
    assert response.status_code == 200
    replicas = response.json()["checks"]["database_replicas"]["replicas"]
    assert replicas["replica_1"]["reachable"] is False
    assert "connection refused" in replicas["replica_1"]["error"]


def test_healthz_is_503_when_a_check_fails(client, monkeypatch):
    # given a cache that is down
    def broken_cache() -> dict:
        raise ConnectionError("cache is down")

    monkeypatch.setitem(health.CHECKS, "cache", broken_cache)

    # when
    response = client.get("/healthz")

    # then the failure is reported, and the other checks still ran
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["cache"]["error"] == "ConnectionError: cache is down"
    assert body["checks"]["database"]["ok"] is True


def test_healthz_is_503_when_a_check_answers_not_ok(client, monkeypatch):
    # given a check that answers but says it is not ok
    monkeypatch.setitem(health.CHECKS, "channel_layer", lambda: {"ok": False, "backend": "x"})

    # when  # then
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"]["ok"] is False


def test_healthz_only_answers_get(client):
    # given  # when  # then
    assert client.post("/healthz").status_code == 405


def test_without_redis_everything_runs_in_process(settings):
    # given no REDIS_URL
    if settings.REDIS_URL:
        pytest.skip("REDIS_URL is set; this checks the embedded default")

    # when  # then
    assert health.check_cache()["backend"] == "LocMemCache"
    assert type(get_channel_layer()).__name__ == "InMemoryChannelLayer"
    assert health.check_broker() == {"backend": "eager"}


@pytest.mark.redis
def test_with_redis_the_cache_channel_layer_and_broker_use_it(client):
    # given REDIS_URL is set
    # when
    response = client.get("/healthz")

    # then the cache, the channel layer and the broker all use Redis, and all answer
    assert settings.CACHES["default"]["BACKEND"] == "crm.cache.FailSoftRedisCache"
    assert type(cache._cache).__name__ == "RedisCacheClient"
    assert type(get_channel_layer()).__name__ == "RedisChannelLayer"
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    checks = response.json()["checks"]
    assert response.status_code == 200, checks
    assert checks["cache"] == {**checks["cache"], "ok": True, "backend": "FailSoftRedisCache"}
    assert checks["channel_layer"] == {
        **checks["channel_layer"],
        "ok": True,
        "backend": "RedisChannelLayer",
    }
    assert checks["broker"] == {**checks["broker"], "ok": True, "backend": "redis"}


@pytest.mark.postgres
def test_on_postgresql_the_database_check_names_it(client):
    # given DATABASE_URL names a PostgreSQL server  # when
    response = client.get("/healthz")

    # then
    assert connection.vendor == "postgresql"
    assert response.json()["checks"]["database"] == {
        **response.json()["checks"]["database"],
        "ok": True,
        "backend": "postgresql",
    }
