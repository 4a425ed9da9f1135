"""Load the live chat: N browser tabs in one group room over real WebSockets, some of them sending,
and measure how fast messages reach everyone; then the same fan-out over raw Redis pub/sub as a
baseline for what the channel layer adds.

    export REDIS_URL=redis://127.0.0.1:6379/0
    export DJANGO_SETTINGS_MODULE=crm.settings.local    # or production with its environment
    .venv/bin/python manage.py migrate
    .venv/bin/python benchmarks/chat_load.py --clients 500 --senders 50 --messages 5

It starts uvicorn on 127.0.0.1 with crm.asgi (the settings from the environment, so the server
and this script share the database and Redis), creates `--clients` users (`bench_chat_*`) with a
membership in one group room and a session each (django SessionStore), connects one socket per
user with its session cookie and subscribes it to the room. Then `--senders` of them each send
`--messages` messages (`--interval` seconds apart, under the 20 per 10 s rate limit); each body
carries its send time, and every receiving socket notes when `message.new` arrived. Reported:
delivery latency p50/p99 and deliveries per second (messages × receivers / wall time from first
send to last delivery). The baseline publishes the same number of messages to `--clients` Redis
pub/sub subscribers. The users and the room are deleted at the end. Prints a markdown table.
"""

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from importlib import import_module
from pathlib import Path
from socket import create_connection

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.local")

USER_PREFIX = "bench_chat_"
CONNECT_BATCH = 50


def setup_django() -> None:
    import django

    django.setup()


def create_room(clients: int) -> tuple[int, list[tuple[int, str]]]:
    """The room id and (user id, session cookie value) of each client."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

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
    backend = settings.AUTHENTICATION_BACKENDS[0]
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


def start_server(port: int, workers: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "crm.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--ws",
            "websockets",
        ],
        cwd=Path(__file__).resolve().parent.parent,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("uvicorn did not start")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run_chat(args, room_id: int, sessions: list[tuple[int, str]]) -> dict:
    import websockets

    url = f"ws://127.0.0.1:{args.port}/ws/live/"
    origin = f"http://127.0.0.1:{args.port}"
    expected = args.senders * args.messages
    latencies: list[float] = []
    last_delivery = [0.0]
    done = asyncio.Event()
    received_by: dict[int, int] = {}
    errors: dict[str, int] = {}

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
        if frame["type"] != "message.new" or not frame["message"]["body"].startswith("bench "):
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
        for sequence in range(args.messages):
            body = f"bench {sequence} {time.time():.6f}"
            frame = {"type": "message.send", "room": room_id, "body": body}
            with contextlib.suppress(websockets.exceptions.ConnectionClosed):
                await socket.send(json.dumps({**frame, "client_id": uuid.uuid4().hex}))
            await asyncio.sleep(args.interval)

    first_send = time.time()
    await asyncio.gather(*(sender(socket) for _user_id, socket in clients[: args.senders]))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), timeout=args.timeout)
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


async def run_redis_baseline(args) -> dict:
    import redis.asyncio as redis

    channel = f"bench-chat-{uuid.uuid4().hex}"
    expected = args.senders * args.messages
    latencies: list[float] = []
    last_delivery = [0.0]
    done = asyncio.Event()
    connections = [redis.from_url(os.environ["REDIS_URL"]) for _ in range(args.clients)]
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
            if len(latencies) >= expected * args.clients:
                done.set()

    listeners = [asyncio.create_task(listen(pubsub)) for pubsub in pubsubs]
    publisher = redis.from_url(os.environ["REDIS_URL"])

    async def sender() -> None:
        for sequence in range(args.messages):
            await publisher.publish(channel, f"bench {sequence} {time.time():.6f}")
            await asyncio.sleep(args.interval)

    first_send = time.time()
    await asyncio.gather(*(sender() for _ in range(args.senders)))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), timeout=args.timeout)
    for task in listeners:
        task.cancel()
    for pubsub, connection in zip(pubsubs, connections, strict=True):
        await pubsub.aclose()
        await connection.aclose()
    await publisher.aclose()
    wall = max(last_delivery[0] - first_send, 1e-9)
    return {
        "deliveries": len(latencies),
        "expected": expected * args.clients,
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
    parser.add_argument("--messages", type=int, default=5, help="per sender (at most 20)")
    parser.add_argument("--interval", type=float, default=0.6, help="seconds between sends")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for delivery")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL: the server's workers share the Redis channel layer.")
    args.senders = min(args.senders, args.clients)

    setup_django()
    room_id, sessions = create_room(args.clients)
    server = start_server(args.port, args.workers)
    try:
        chat = asyncio.run(run_chat(args, room_id, sessions))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        cleanup()
    baseline = asyncio.run(run_redis_baseline(args))

    print(
        f"{args.clients} clients in one room, {args.senders} senders × {args.messages} messages, "
        f"uvicorn workers: {args.workers}; {chat['connected']} connected in "
        f"{chat['connect_seconds']:.1f} s\n"
    )
    if chat["errors"]:
        print(f"Error frames sent back to the clients: {chat['errors']}\n")
    print("| Path | Delivered | p50 ms | p99 ms | Deliveries/s |")
    print("|---|---|---|---|---|")
    print(row("WebSocket chat (service, channel layer, consumer)", chat))
    print(row("Raw Redis pub/sub", baseline))


if __name__ == "__main__":
    main()
