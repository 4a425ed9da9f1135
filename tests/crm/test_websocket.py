"""The WebSocket entry point: session authentication, origin check and the ping reply."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client

from crm.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")


@pytest.fixture(autouse=True)
def in_memory_channel_layer(request, settings):
    """These tests are about authentication and the ping, not the layer: channels_redis keeps a
    closing consumer waiting up to its 5 s BRPOP timeout, so only the `redis` test uses Redis."""
    if not request.node.get_closest_marker("redis"):
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture(autouse=True)
async def close_consumer_connections():
    """The consumers' database calls run in asgiref's worker thread, which keeps its connection
    (CONN_MAX_AGE); close it, or PostgreSQL refuses to drop the test database at the end."""
    yield
    await sync_to_async(connections.close_all, thread_sensitive=True)()


@pytest.fixture
def session_cookie(rep) -> bytes:
    """The cookie header a browser signed in as the rep would send."""
    client = Client()
    client.force_login(rep)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def communicator(*headers: tuple[bytes, bytes]) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, "/ws/live/", headers=list(headers))


async def test_anonymous_connection_is_closed_with_4401(db):
    # given someone not signed in
    socket = communicator(ORIGIN)

    # when they connect
    connected, close_code = await socket.connect()

    # then the socket is closed with "sign in"
    assert not connected
    assert close_code == 4401


async def test_signed_in_user_gets_pong_for_ping(session_cookie):
    # given a signed-in rep's browser
    socket = communicator(ORIGIN, (b"cookie", session_cookie))

    # when it connects and pings
    connected, _subprotocol = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "ping", "id": 7})

    # then it gets a pong with the same id
    assert await socket.receive_json_from() == {"type": "pong", "id": 7}
    await socket.disconnect()


async def test_unknown_message_type_gets_an_error(session_cookie):
    # given a connected browser
    socket = communicator(ORIGIN, (b"cookie", session_cookie))
    connected, _subprotocol = await socket.connect()
    assert connected

    # when it sends a message of an unknown type
    await socket.send_json_to({"type": "shout"})

    # then
    frame = await socket.receive_json_from()
    assert frame["type"] == "error"
    assert frame["code"] == "unknown_type"
    await socket.disconnect()


async def test_a_foreign_origin_is_refused(session_cookie):
    # given a page on another site trying to use the rep's cookie
    socket = communicator((b"origin", b"https://evil.example.com"), (b"cookie", session_cookie))

    # when it connects  # then
    connected, _close_code = await socket.connect()
    assert not connected


async def test_a_missing_origin_is_refused(session_cookie):
    # given a connection without an Origin header
    socket = communicator((b"cookie", session_cookie))

    # when it connects  # then
    connected, _close_code = await socket.connect()
    assert not connected


@pytest.mark.redis
async def test_ping_works_on_the_redis_channel_layer(session_cookie):
    # given the Redis channel layer the production settings use
    assert type(get_channel_layer()).__name__ == "RedisChannelLayer"
    socket = communicator(ORIGIN, (b"cookie", session_cookie))

    # when a signed-in browser connects and pings
    connected, _subprotocol = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "ping", "id": 1})

    # then it gets its pong
    assert await socket.receive_json_from() == {"type": "pong", "id": 1}
    await socket.disconnect()
