"""Load the live chat: N browser tabs in one group room over real WebSockets, some of them sending,
and measure how fast messages reach everyone; then the same fan-out over raw Redis pub/sub as a
baseline for what the channel layer adds.

    export REDIS_URL=redis://127.0.0.1:6379/0
    export DJANGO_SETTINGS_MODULE=crm.settings.local    # or production with its environment
    .venv/bin/python manage.py migrate
    .venv/bin/python benchmarks/chat_load.py --clients 500 --senders 50 --messages 5

It starts the production server (gunicorn with Uvicorn workers, crm/gunicorn.conf.py, as
docker-compose.yml does; `--server uvicorn` for plain uvicorn) on 127.0.0.1 with crm.asgi (the
settings from the environment, so the server and this script share the database and Redis),
creates `--clients` users (`bench_chat_*`) with a membership in one group room and a session each
(django SessionStore), connects one socket per user with its session cookie and subscribes it to
the room. Then `--senders` of them each send `--messages` messages (`--interval` seconds apart,
under the 20 per 10 s rate limit); each body carries its send time, and every receiving socket
notes when `message.new` arrived. Reported: delivery latency p50/p99, deliveries per second
(messages × receivers / wall time from first send to last delivery) and the resident memory of
each web worker after the load. The baseline publishes the same number of messages to
`--clients` Redis pub/sub subscribers. The users and the room are deleted at the end. Prints a
markdown table. The suite's chat scenario (benchmarks/suite/chat.py) runs the same functions.
"""

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from socket import create_connection

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.local")

from benchmarks.suite.core import ROOT, percentile

USER_PREFIX = "bench_chat_"
CONNECT_BATCH = 50
# Sockets that each send one unmeasured message first, so that every worker has run the send and
# delivery paths once (its first message takes over a second: imports, connections) before the
# measured ones.
WARM_UP_SENDERS = 10


@dataclass
class ChatLoad:
    """One run: how many sockets, how many of them send, how much and how often."""

    clients: int = 500
    senders: int = 50
    messages: int = 5
    interval: float = 0.6
    # Seconds to wait for the last delivery.
    timeout: float = 120


def setup_django() -> None:
    import django

    django.setup()


def create_room(clients: int) -> tuple[int, list[tuple[int, str]]]:
    """The room id and (user id, session cookie value) of each client."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.module_loading import import_string

    from collaboration.models import ChatMembership, ChatRoom
    from crm.accounts.models import User

    cleanup()
    run = uuid.uuid4().hex[:6]
    users = []
    for index in range(clients):
        user = User(username=f"{USER_PREFIX}{run}_{index}")
        user.set_unusable_password()
        users.append(user)
    User.objects.bulk_create(users, batch_size=500)
    users = list(User.objects.filter(username__startswith=f"{USER_PREFIX}{run}_").order_by("pk"))
    room = ChatRoom.objects.create(kind=ChatRoom.Kind.GROUP, name="Chat load benchmark")
    ChatMembership.objects.bulk_create(
        [ChatMembership(room=room, user=user) for user in users], batch_size=500
    )
    store = import_module(settings.SESSION_ENGINE).SessionStore
    # As a password sign-in records it: the first backend that loads users (axes's comes first
    # and only refuses locked-out sign-ins).
    backend = next(
        path
        for path in settings.AUTHENTICATION_BACKENDS
        if hasattr(import_string(path), "get_user")
    )
    sessions = []
    for user in users:
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        sessions.append((user.pk, session.session_key))
    return room.pk, sessions


def cleanup() -> None:
    from collaboration.models import ChatRoom
    from crm.accounts.models import User

    ChatRoom.objects.filter(name="Chat load benchmark").delete()
    User.objects.filter(username__startswith=USER_PREFIX).delete()


def start_server(
    port: int, workers: int, *, log_path: Path, server: str = "gunicorn", env: dict | None = None
) -> subprocess.Popen:
    """The web server on 127.0.0.1:`port` once every worker has started its application (the
    port accepts connections as soon as gunicorn's master listens, seconds before a worker has
    set Django up). Its output goes to `log_path`."""
    with contextlib.suppress(OSError):
        create_connection(("127.0.0.1", port), timeout=0.5).close()
        raise RuntimeError(f"port {port} is taken: another server would answer the sockets")
    if server == "gunicorn":
        command = ["-m", "gunicorn", "crm.asgi:application", "-c", "crm/gunicorn.conf.py"]
        env = {**(env or os.environ), "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
    else:
        command = ["-m", "uvicorn", "crm.asgi:application", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--workers", str(workers), "--log-level", "info"]
    with log_path.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=output,
            # Its own process group, so stop_server can end the workers with the master.
            start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if log_path.read_text().count("Application startup complete") >= workers:
            return process
        time.sleep(0.2)
    stop_server(process)
    raise RuntimeError(f"{server} did not start on port {port}; see {log_path}")


def stop_server(process: subprocess.Popen) -> None:
    """Stop the server and its workers: a worker still waiting for its channel-layer tasks after
    the master has gone would otherwise live on."""
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def worker_rss_mib(process: subprocess.Popen) -> dict[int, float]:
    """Resident memory of each web worker (the server's child processes), by pid."""
    children = []
    for children_file in Path(f"/proc/{process.pid}/task").glob("*/children"):
        children += [int(pid) for pid in children_file.read_text().split()]
    memory = {}
    for pid in children:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_text()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if "resource_tracker" in command:  # multiprocessing's helper next to uvicorn's workers
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                memory[pid] = int(line.split()[1]) / 1024
    return memory


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def run_chat(
    load: ChatLoad, *, port: int, room_id: int, sessions: list[tuple[int, str]]
) -> dict:
    import websockets

    url = f"ws://127.0.0.1:{port}/ws/live/"
    origin = f"http://127.0.0.1:{port}"
    expected = load.senders * load.messages
    latencies: list[float] = []
    last_delivery = [0.0]
    done = asyncio.Event()
    received_by: dict[int, int] = {}
    errors: dict[str, int] = {}
    warm_up = {"expected": 0, "delivered": 0, "done": asyncio.Event()}

    async def open_client(user_id: int, session_key: str):
        """The client, or None when the server dropped it while connecting (counted apart)."""
        try:
            return await connect_client(user_id, session_key)
        except (OSError, TimeoutError, websockets.exceptions.WebSocketException):
            return None

    async def connect_client(user_id: int, session_key: str):
        socket = await websockets.connect(
            url,
            additional_headers={"Cookie": f"sessionid={session_key}"},
            origin=origin,
            max_size=2**20,
            open_timeout=60,
        )
        await socket.send(json.dumps({"type": "subscribe", "room": room_id, "after": None}))
        while json.loads(await socket.recv())["type"] != "subscribed":
            pass
        return user_id, socket

    async def listen(user_id: int, socket) -> None:
        received_by[user_id] = 0
        with contextlib.suppress(websockets.exceptions.ConnectionClosed):
            async for raw in socket:
                record(user_id, json.loads(raw))

    def record(user_id: int, frame: dict) -> None:
        if frame["type"] == "error":
            errors[frame.get("code", "?")] = errors.get(frame.get("code", "?"), 0) + 1
        if frame["type"] != "message.new":
            return
        if frame["message"]["body"] == "warm-up":
            warm_up["delivered"] += 1
            if warm_up["delivered"] >= warm_up["expected"]:
                warm_up["done"].set()
            return
        if not frame["message"]["body"].startswith("bench "):
            return
        now = time.time()
        latencies.append(now - float(frame["message"]["body"].split()[2]))
        last_delivery[0] = now
        received_by[user_id] += 1
        if len(latencies) >= expected * len(clients):
            done.set()

    clients = []
    started = time.monotonic()
    for start in range(0, len(sessions), CONNECT_BATCH):
        batch = sessions[start : start + CONNECT_BATCH]
        opened = await asyncio.gather(*(open_client(*session) for session in batch))
        clients += [client for client in opened if client is not None]
    connect_seconds = time.monotonic() - started
    listeners = [asyncio.create_task(listen(user_id, socket)) for user_id, socket in clients]

    async def sender(socket) -> None:
        for sequence in range(load.messages):
            body = f"bench {sequence} {time.time():.6f}"
            frame = {"type": "message.send", "room": room_id, "body": body}
            with contextlib.suppress(websockets.exceptions.ConnectionClosed):
                await socket.send(json.dumps({**frame, "client_id": uuid.uuid4().hex}))
            await asyncio.sleep(load.interval)

    warm_up_sockets = [socket for _user_id, socket in clients[:WARM_UP_SENDERS]]
    warm_up["expected"] = len(warm_up_sockets) * len(clients)
    for socket in warm_up_sockets:
        frame = {"type": "message.send", "room": room_id, "body": "warm-up"}
        await socket.send(json.dumps({**frame, "client_id": uuid.uuid4().hex}))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(warm_up["done"].wait(), timeout=load.timeout)

    first_send = time.time()
    await asyncio.gather(*(sender(socket) for _user_id, socket in clients[: load.senders]))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), timeout=load.timeout)
    for _user_id, socket in clients:
        with contextlib.suppress(websockets.exceptions.ConnectionClosed):
            await socket.close()
    for task in listeners:
        task.cancel()
    wall = max(last_delivery[0] - first_send, 1e-9)
    return {
        "connect_seconds": connect_seconds,
        "connected": len(clients),
        "errors": errors,
        "deliveries": len(latencies),
        "expected": expected * len(clients),
        "latencies": latencies,
        "rate": len(latencies) / wall,
    }


async def run_redis_baseline(load: ChatLoad, *, redis_url: str) -> dict:
    import redis.asyncio as redis

    channel = f"bench-chat-{uuid.uuid4().hex}"
    expected = load.senders * load.messages
    latencies: list[float] = []
    last_delivery = [0.0]
    done = asyncio.Event()
    connections = [redis.from_url(redis_url) for _ in range(load.clients)]
    pubsubs = [connection.pubsub() for connection in connections]
    for start in range(0, len(pubsubs), CONNECT_BATCH):
        await asyncio.gather(
            *(p.subscribe(channel) for p in pubsubs[start : start + CONNECT_BATCH])
        )

    async def listen(pubsub) -> None:
        async for message in pubsub.listen():
            if message["type"] != "message":
                continue
            now = time.time()
            latencies.append(now - float(message["data"].split()[2]))
            last_delivery[0] = now
            if len(latencies) >= expected * load.clients:
                done.set()

    listeners = [asyncio.create_task(listen(pubsub)) for pubsub in pubsubs]
    publisher = redis.from_url(redis_url)

    async def sender() -> None:
        for sequence in range(load.messages):
            await publisher.publish(channel, f"bench {sequence} {time.time():.6f}")
            await asyncio.sleep(load.interval)

    first_send = time.time()
    await asyncio.gather(*(sender() for _ in range(load.senders)))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), timeout=load.timeout)
    for task in listeners:
        task.cancel()
    for pubsub, connection in zip(pubsubs, connections, strict=True):
        await pubsub.aclose()
        await connection.aclose()
    await publisher.aclose()
    wall = max(last_delivery[0] - first_send, 1e-9)
    return {
        "deliveries": len(latencies),
        "expected": expected * load.clients,
        "latencies": latencies,
        "rate": len(latencies) / wall,
    }


def row(name: str, result: dict) -> str:
    latencies = result["latencies"] or [float("nan")]
    return (
        f"| {name} | {result['deliveries']:,} / {result['expected']:,} | "
        f"{statistics.median(latencies) * 1000:.1f} | {percentile(latencies, 0.99) * 1000:.1f} | "
        f"{result['rate']:,.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument(
        "--messages",
        type=int,
        default=5,
        help="per sender (at most 19, with the warm-up one)",
    )
    parser.add_argument("--interval", type=float, default=0.6, help="seconds between sends")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--server", choices=["gunicorn", "uvicorn"], default="gunicorn")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for delivery")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL: the server's workers share the Redis channel layer.")
    load = ChatLoad(
        clients=args.clients,
        senders=min(args.senders, args.clients),
        messages=args.messages,
        interval=args.interval,
        timeout=args.timeout,
    )

    setup_django()
    room_id, sessions = create_room(load.clients)
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"chat-load-server-{args.port}.log"
    server = start_server(args.port, args.workers, log_path=log_path, server=args.server)
    try:
        chat = asyncio.run(run_chat(load, port=args.port, room_id=room_id, sessions=sessions))
        memory = worker_rss_mib(server)
    finally:
        stop_server(server)
        cleanup()
    baseline = asyncio.run(run_redis_baseline(load, redis_url=os.environ["REDIS_URL"]))

    print(
        f"{load.clients} clients in one room, {load.senders} senders × {load.messages} messages, "
        f"{args.server} workers: {args.workers}; {chat['connected']} connected in "
        f"{chat['connect_seconds']:.1f} s; worker RSS after the load: "
        + ", ".join(f"{mib:.0f} MiB" for mib in memory.values())
        + "\n"
    )
    if chat["errors"]:
        print(f"Error frames sent back to the clients: {chat['errors']}\n")
    print("| Path | Delivered | p50 ms | p99 ms | Deliveries/s |")
    print("|---|---|---|---|---|")
    print(row("WebSocket chat (service, channel layer, consumer)", chat))
    print(row("Raw Redis pub/sub", baseline))


if __name__ == "__main__":
    main()
