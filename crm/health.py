"""/healthz: whether every configured part of the system answers.

Each check returns a small dict; the view answers 200 only when every one is ok, so a load
balancer or the container health check can take an instance out of service.
"""

import asyncio
import time
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

CHECK_TIMEOUT_SECONDS = 3


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        result = check()
        result.setdefault("ok", True)
    except Exception as exc:  # noqa: BLE001 - any failure of a dependency is reported, not raised
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"backend": connection.vendor}


def check_replicas() -> dict:
    """Each read replica's state and how far behind the primary it replays. Reads fall back to
    the primary when a replica is down (crm.replicas), so this reports and never fails."""
    states = {}
    for alias in settings.CRM_DATABASE_REPLICAS:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())")
                lag = cursor.fetchone()[0]
            states[alias] = {"reachable": True, "lag_seconds": None if lag is None else float(lag)}
        except DatabaseError as exc:
            states[alias] = {"reachable": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "replicas": states}


def check_cache() -> dict:
    # A cache that hides its failures from the pages (crm.cache) must not hide them from here.
    if hasattr(cache, "ping"):
        cache.ping()
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    answered = cache.get(key) == "1"
    cache.delete(key)
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return {"ok": answered, "backend": backend}


def check_channel_layer() -> dict:
    layer = get_channel_layer()
    backend = type(layer).__name__

    async def round_trip() -> bool:
        channel = await layer.new_channel("healthz.")
        await layer.send(channel, {"type": "healthz.ping"})
        message = await asyncio.wait_for(layer.receive(channel), CHECK_TIMEOUT_SECONDS)
        return message.get("type") == "healthz.ping"

    return {"ok": async_to_sync(round_trip)(), "backend": backend}


def check_broker() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"backend": "eager"}
    from crm.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)
    return {"backend": app.conf.broker_url.split("://", 1)[0]}


CHECKS = {
    "database": check_database,
    "database_replicas": check_replicas,
    "cache": check_cache,
    "channel_layer": check_channel_layer,
    "broker": check_broker,
}


def health_report() -> dict:
    checks = {name: _timed(check) for name, check in CHECKS.items()}
    return {"status": "ok" if all(c["ok"] for c in checks.values()) else "error", "checks": checks}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
