"""The access-control matrix on the live socket (`ws/live/`): the discussion room of team A's deal
refuses everyone the deal is hidden from, and what is said there reaches none of them."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connections

from collaboration.services.chat import chat_message_post
from crm.asgi import application
from sales.models import Pipeline
from tests.collaboration.test_live_consumer import ORIGIN, connect, nothing_of, receive, subscribe
from tests.sales.factories import pipeline_with_stages
from tests.security.world import (
    AGENT,
    MANAGER_A,
    MANAGER_B,
    MARKERS,
    MARKETER,
    OWNER,
    REP_B,
    may_see,
    world_build,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def in_memory_channel_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    cache.clear()


@pytest.fixture(autouse=True)
async def close_consumer_connections():
    """The consumers' database calls run in asgiref's worker thread, which keeps its connection."""
    yield
    await sync_to_async(connections.close_all, thread_sensitive=True)()


@pytest.fixture
def world(db):
    # After another transactional test the database is flushed, without the default pipeline
    # the migrations make.
    if not Pipeline.objects.filter(is_default=True).exists():
        pipeline_with_stages(is_default=True)
    return world_build()


async def test_an_anonymous_visitor_cannot_open_the_socket():
    # given  # when
    socket = WebsocketCommunicator(application, "/ws/live/", headers=[ORIGIN])
    connected, close_code = await socket.connect()

    # then
    assert not connected
    assert close_code == 4401


@pytest.mark.parametrize("persona", [MANAGER_A, REP_B, MANAGER_B, AGENT, MARKETER])
async def test_the_deals_room_is_open_only_to_whom_the_rule_grants_the_deal(world, persona):
    # given someone connected, subscribing to the discussion room of team A's deal
    room = world.chat_room
    socket = await connect(world.users[persona])
    frame = await subscribe(socket, room.pk)

    # when the deal's owner says something there
    await sync_to_async(chat_message_post)(
        author=world.users[OWNER], room=room, body=f"{MARKERS['chat_message']} live"
    )

    # then only those who may see the deal hear it
    if may_see("chat_room", persona):
        assert frame["type"] == "subscribed"
        message = await receive(socket, "message.new")
        assert MARKERS["chat_message"] in message["message"]["body"]
    else:
        assert frame == {**frame, "type": "error", "code": "forbidden", "room": room.pk}
        assert "messages" not in frame
        assert await nothing_of(socket, "message.new")
        assert await nothing_of(socket, "room.activity")
    await socket.disconnect()
