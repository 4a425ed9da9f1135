"""The channel layer over several Redis servers (CHANNEL_LAYER_REDIS_URLS): a group message
reaches members whose channels live on different shards. The setting itself is tested in
tests/crm/test_settings_env.py."""

import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from channels_redis.core import RedisChannelLayer
from django.conf import settings


def _two_databases() -> list[str]:
    """Two Redis databases standing in for two Redis servers: the suite's and its neighbour."""
    parts = urlsplit(settings.REDIS_URL)
    number = int(parts.path.strip("/") or 0)
    return [settings.REDIS_URL, urlunsplit(parts._replace(path=f"/{number ^ 1}"))]


@pytest.mark.redis
async def test_a_group_message_reaches_channels_on_every_shard():
    # given a layer sharded over two Redis databases, and a group of channels on both
    prefix = f"crm-shards-{uuid.uuid4().hex[:8]}"
    shards = _two_databases()
    layer = RedisChannelLayer(hosts=shards, prefix=prefix)
    channels = [await layer.new_channel() for _ in range(24)]
    for channel in channels:
        await layer.group_add("room", channel)
    try:
        # when one message goes to the group
        await layer.group_send("room", {"type": "chat.message", "body": "to every shard"})

        # then every member receives it, and the members' queues were spread over both shards
        received = [await layer.receive(channel) for channel in channels]
        assert {message["body"] for message in received} == {"to every shard"}
        assert len({layer.consistent_hash(channel) for channel in channels}) == 2
    finally:
        await layer.flush()
        await layer.close_pools()
