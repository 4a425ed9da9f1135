"""Delivery over the Redis channel layer production uses: two members receive a message, and a
reconnecting tab catches up. Needs REDIS_URL."""

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connections

from collaboration.services.chat import chat_message_post, chat_room_for_team
from tests.collaboration.test_live_consumer import connect, receive, send, subscribe

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def redis_channel_layer(settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [django_settings.REDIS_URL], "prefix": "crm-test-channels"},
        }
    }
    cache.clear()


@pytest.fixture(autouse=True)
async def close_consumer_connections():
    yield
    await sync_to_async(connections.close_all, thread_sensitive=True)()


async def test_two_members_both_receive_a_message_over_redis(team, rep, rep_teammate):
    room = await sync_to_async(chat_room_for_team)(team=team)
    sender, reader = await connect(rep), await connect(rep_teammate)
    assert (await subscribe(sender, room.pk))["type"] == "subscribed"
    assert (await subscribe(reader, room.pk))["type"] == "subscribed"

    await send(sender, room.pk, "over redis", client_id="r-1")

    ack = await receive(sender, "message.ack", timeout=5)
    for socket in (sender, reader):
        frame = await receive(socket, "message.new", timeout=5)
        assert frame["message"]["id"] == ack["message"]["id"]
    await sender.disconnect()
    await reader.disconnect()


async def test_a_reconnecting_tab_catches_up_over_redis(team, rep, rep_teammate):
    room = await sync_to_async(chat_room_for_team)(team=team)
    seen = await sync_to_async(chat_message_post)(author=rep_teammate, room=room, body="one")
    missed = await sync_to_async(chat_message_post)(author=rep_teammate, room=room, body="two")

    socket = await connect(rep)
    frame = await subscribe(socket, room.pk, after=seen.pk)

    assert [message["id"] for message in frame["messages"]] == [missed.pk]
    # and what is posted after the catch-up arrives live
    later = await sync_to_async(chat_message_post)(author=rep_teammate, room=room, body="three")
    assert (await receive(socket, "message.new", timeout=5))["message"]["id"] == later.pk
    await socket.disconnect()
