"""Scenario 6: the live chat under 500 WebSocket clients, against raw Redis pub/sub; and the
memory of each web worker after that load (scenario 7).

The production server (gunicorn with Uvicorn workers, crm/gunicorn.conf.py, production settings
as docker-compose.yml runs them) serves crm.asgi; benchmarks/chat_load.py connects the clients,
sends and times the deliveries. Its users (`bench_chat_*`) and room are deleted afterwards.
"""

import asyncio
import os

from benchmarks.chat_load import (
    ChatLoad,
    cleanup,
    create_room,
    free_port,
    run_chat,
    run_redis_baseline,
    start_server,
    stop_server,
    worker_rss_mib,
)
from benchmarks.suite.core import BenchContext, Measurement, django_setup

SCENARIO = "chat"
FULL_CLIENTS = 500
MIN_CLIENTS = 20
WEB_WORKERS = 2
TARGET_P99_MS = 100


def _clients(scale: float) -> int:
    if scale >= 0.5:
        return FULL_CLIENTS
    return max(MIN_CLIENTS, round(FULL_CLIENTS * scale * 2))


def _server_environment(context: BenchContext) -> dict[str, str]:
    """Production settings on plain-HTTP loopback, with the secret and encryption keys of this
    process: the sessions it stores are signed with the one, the seeded data sealed with the
    other."""
    from django.conf import settings

    return context.environment(
        DJANGO_SETTINGS_MODULE="crm.settings.production",
        SECRET_KEY=settings.SECRET_KEY,
        CRM_FIELD_ENCRYPTION_KEYS=",".join(settings.CRM_FIELD_ENCRYPTION_KEYS),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
    )


def run(context: BenchContext) -> list[Measurement]:
    # The suite's settings run with DEBUG off, which needs a secret; the server gets the same one.
    os.environ.setdefault("SECRET_KEY", f"crm-bench-{os.getpid()}-not-a-production-secret")
    django_setup(context)
    # The light load of the issue: two messages a second into one room that everyone is in.
    load = ChatLoad(clients=_clients(context.scale), senders=2, messages=5, interval=1.0)
    room_id, sessions = create_room(load.clients)
    port = free_port()
    log_path = context.workdir / "chat-server.log"
    context.log(f"chat: {load.clients} clients, gunicorn with {WEB_WORKERS} workers on {port}")
    server = start_server(port, WEB_WORKERS, log_path=log_path, env=_server_environment(context))
    try:
        chat = asyncio.run(run_chat(load, port=port, room_id=room_id, sessions=sessions))
        memory = worker_rss_mib(server)
    finally:
        stop_server(server)
        cleanup()
    baseline = asyncio.run(run_redis_baseline(load, redis_url=context.redis_url))

    def ms(result: dict) -> list[float]:
        return [seconds * 1000 for seconds in result["latencies"]]

    chat_ms, baseline_ms = ms(chat), ms(baseline)
    shape = {
        "clients": load.clients,
        "connected": chat["connected"],
        "senders": load.senders,
        "messages_per_sender": load.messages,
        "interval_seconds": load.interval,
        "web_workers": WEB_WORKERS,
        "delivered": chat["deliveries"],
        "expected": chat["expected"],
        "errors": chat["errors"],
    }
    latency = Measurement.latency(
        scenario=SCENARIO,
        case=f"delivery latency, {load.clients} clients in one room",
        samples=chat_ms,
        baseline_case="raw Redis pub/sub",
        baseline_samples=baseline_ms,
        p99_target_ms=TARGET_P99_MS,
        details=shape,
    )
    # Every frame must arrive too: a fast p99 of a few deliveries is no pass.
    latency.target_met = latency.target_met and chat["deliveries"] == chat["expected"] > 0
    return [
        latency,
        Measurement(
            scenario=SCENARIO,
            case=f"deliveries per second, {load.clients} clients",
            unit="msg/s",
            value=chat["rate"],
            baseline_case="raw Redis pub/sub",
            baseline_value=baseline["rate"],
            higher_is_better=True,
            details=shape,
        ),
        Measurement(
            scenario=SCENARIO,
            case=f"web worker RSS after the chat load ({WEB_WORKERS} workers)",
            unit="MiB",
            value=max(memory.values(), default=float("nan")),
            details={"rss_mib_by_worker_pid": memory},
        ),
    ]
