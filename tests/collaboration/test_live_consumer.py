"""The live socket (`ws/live/`) end to end over the in-memory channel layer: subscribing, sending,
catching up after a reconnect, and every refusal the protocol names."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connections
from django.test import Client

from collaboration.models import ChatMessage, Notification
from collaboration.services.chat import (
    SEND_RATE_LIMIT,
    chat_message_post,
    chat_room_direct,
    chat_room_for_record,
    chat_room_for_team,
    chat_room_group_create,
)
from crm.asgi import application
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")


@pytest.fixture(autouse=True)
def in_memory_channel_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    cache.clear()


@pytest.fixture(autouse=True)
async def close_consumer_connections():
    """The consumers' database calls run in asgiref's worker thread, which keeps its connection."""
    yield
    await sync_to_async(connections.close_all, thread_sensitive=True)()


def _cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def connect(user) -> WebsocketCommunicator:
    cookie = await sync_to_async(_cookie)(user)
    socket = WebsocketCommunicator(application, "/ws/live/", headers=[ORIGIN, (b"cookie", cookie)])
    connected, _subprotocol = await socket.connect()
    assert connected
    return socket


async def receive(socket, frame_type: str, timeout: float = 2) -> dict:
    """The next frame of `frame_type`, skipping others (presence, room.activity...)."""
    while True:
        frame = await socket.receive_json_from(timeout=timeout)
        if frame["type"] == frame_type:
            return frame


async def nothing_of(socket, frame_type: str) -> bool:
    while not await socket.receive_nothing(timeout=0.3):
        frame = await socket.receive_json_from()
        if frame["type"] == frame_type:
            return False
    return True


async def subscribe(socket, room_id: int, after: int | None = None) -> dict:
    await socket.send_json_to({"type": "subscribe", "room": room_id, "after": after})
    while True:
        frame = await socket.receive_json_from(timeout=2)
        if frame["type"] in ("subscribed", "error"):
            return frame


async def send(socket, room_id: int, body: str, client_id: str = "") -> None:
    await socket.send_json_to(
        {"type": "message.send", "room": room_id, "body": body, "client_id": client_id}
    )


async def test_anonymous_connection_is_closed_with_4401():
    socket = WebsocketCommunicator(application, "/ws/live/", headers=[ORIGIN])

    connected, close_code = await socket.connect()

    assert not connected
    assert close_code == 4401


async def test_two_members_both_receive_a_message(team, rep, rep_teammate):
    # given the team room with both teammates subscribed
    room = await sync_to_async(chat_room_for_team)(team=team)
    sender, reader = await connect(rep), await connect(rep_teammate)
    assert (await subscribe(sender, room.pk))["type"] == "subscribed"
    assert (await subscribe(reader, room.pk))["type"] == "subscribed"

    # when the rep sends a message
    await send(sender, room.pk, "hello team", client_id="c-1")

    # then the sender gets the ack and both get the message
    ack = await receive(sender, "message.ack")
    assert ack["client_id"] == "c-1"
    for socket in (sender, reader):
        frame = await receive(socket, "message.new")
        assert frame["message"]["body"] == "hello team"
        assert frame["message"]["id"] == ack["message"]["id"]
    # and a tab of the reader's that is not in the room hears of its activity, without the content
    elsewhere = await connect(rep_teammate)
    await send(sender, room.pk, "second", client_id="c-2")
    activity = await receive(elsewhere, "room.activity")
    assert activity == {
        "type": "room.activity",
        "room": room.pk,
        "message_id": activity["message_id"],
        "author": rep.pk,
    }
    assert (await receive(reader, "message.new"))["message"]["body"] == "second"
    await sender.disconnect()
    await reader.disconnect()
    await elsewhere.disconnect()


async def test_a_non_member_is_refused_and_hears_nothing(rep, rep_teammate, other_team_rep):
    # given a private group the other team's rep is not in
    room = await sync_to_async(chat_room_group_create)(
        creator=rep, name="Deal desk", members=[rep_teammate]
    )
    outsider = await connect(other_team_rep)

    # when they subscribe
    frame = await subscribe(outsider, room.pk)

    # then they are refused
    assert frame["type"] == "error"
    assert frame["code"] == "forbidden"
    assert frame["room"] == room.pk
    # and a message posted there does not reach them
    await sync_to_async(chat_message_post)(author=rep, room=room, body="secret")
    assert await nothing_of(outsider, "message.new")
    # nor may they post there
    await send(outsider, room.pk, "let me in")
    assert (await receive(outsider, "error"))["code"] == "forbidden"
    await outsider.disconnect()


async def test_a_reconnecting_tab_gets_exactly_the_missed_messages(rep, rep_teammate):
    # given a tab that saw the first message and then lost its connection
    room = await sync_to_async(chat_room_direct)(user=rep, other=rep_teammate)
    seen = await sync_to_async(chat_message_post)(author=rep_teammate, room=room, body="one")
    missed = [
        await sync_to_async(chat_message_post)(author=rep_teammate, room=room, body=body)
        for body in ("two", "three")
    ]

    # when it reconnects and subscribes with its last seen id
    socket = await connect(rep)
    frame = await subscribe(socket, room.pk, after=seen.pk)

    # then it gets exactly the missed messages, oldest first
    assert [message["id"] for message in frame["messages"]] == [m.pk for m in missed]
    assert frame["more"] is False
    assert frame["presence"] == {str(rep.pk): "online"}
    # and a fresh subscription (no last seen id) gets none: history comes over HTTP
    assert (await subscribe(socket, room.pk))["messages"] == []
    await socket.disconnect()


async def test_mentions_create_notifications_and_the_body_is_escaped(team, rep, rep_teammate):
    room = await sync_to_async(chat_room_for_team)(team=team)
    socket = await connect(rep)
    await subscribe(socket, room.pk)

    await send(socket, room.pk, "<script>alert(1)</script> @rep_teammate")

    frame = await receive(socket, "message.new")
    assert frame["message"]["html"].startswith("&lt;script&gt;alert(1)&lt;/script&gt; ")
    assert "<script>" not in frame["message"]["html"]
    notified = await sync_to_async(
        lambda: list(
            Notification.objects.filter(kind=Notification.Kind.MENTION).values_list(
                "recipient_id", flat=True
            )
        )
    )()
    assert notified == [rep_teammate.pk]
    await socket.disconnect()


async def test_an_oversized_frame_is_refused_unread(rep, rep_teammate):
    room = await sync_to_async(chat_room_direct)(user=rep, other=rep_teammate)
    socket = await connect(rep)

    await socket.send_to(
        text_data=json.dumps({"type": "message.send", "room": room.pk, "body": "x" * 20000})
    )

    frame = await receive(socket, "error")
    assert frame["code"] == "too_long"
    assert not await sync_to_async(ChatMessage.objects.exists)()
    await socket.disconnect()


async def test_a_message_over_the_length_limit_is_refused(rep, rep_teammate):
    room = await sync_to_async(chat_room_direct)(user=rep, other=rep_teammate)
    socket = await connect(rep)

    await send(socket, room.pk, "x" * 4001, client_id="long")

    frame = await receive(socket, "error")
    assert (frame["code"], frame["client_id"]) == ("too_long", "long")
    await socket.disconnect()


async def test_sending_too_fast_is_rate_limited(rep, rep_teammate):
    room = await sync_to_async(chat_room_direct)(user=rep, other=rep_teammate)
    socket = await connect(rep)

    for index in range(SEND_RATE_LIMIT + 1):
        await send(socket, room.pk, f"m{index}", client_id=f"c{index}")

    frame = await receive(socket, "error", timeout=5)
    assert (frame["code"], frame["client_id"]) == ("rate_limited", f"c{SEND_RATE_LIMIT}")
    assert await sync_to_async(ChatMessage.objects.count)() == SEND_RATE_LIMIT
    await socket.disconnect()


async def test_only_the_author_edits_and_deletes(rep, rep_teammate):
    room = await sync_to_async(chat_room_direct)(user=rep, other=rep_teammate)
    message = await sync_to_async(chat_message_post)(author=rep, room=room, body="draft")
    author, other = await connect(rep), await connect(rep_teammate)
    await subscribe(author, room.pk)
    await subscribe(other, room.pk)

    # the other member may not edit or delete it
    await other.send_json_to({"type": "message.edit", "message": message.pk, "body": "mine now"})
    assert (await receive(other, "error"))["code"] == "forbidden"
    await other.send_json_to({"type": "message.delete", "message": message.pk})
    assert (await receive(other, "error"))["code"] == "forbidden"

    # the author edits, then deletes, and the room hears both
    await author.send_json_to({"type": "message.edit", "message": message.pk, "body": "final"})
    edited = await receive(other, "message.updated")
    assert edited["message"]["body"] == "final"
    assert edited["message"]["edited_at"] is not None
    await author.send_json_to({"type": "message.delete", "message": message.pk})
    deleted = await receive(other, "message.updated")
    assert deleted["message"]["deleted"] is True
    assert deleted["message"]["body"] == ""

    # and a missing message is not found
    await author.send_json_to({"type": "message.delete", "message": message.pk + 1000})
    assert (await receive(author, "error"))["code"] == "not_found"
    await author.disconnect()
    await other.disconnect()


async def test_typing_reaches_the_other_member(rep, rep_teammate):
    room = await sync_to_async(chat_room_direct)(user=rep, other=rep_teammate)
    typist, other = await connect(rep), await connect(rep_teammate)
    await subscribe(other, room.pk)

    await typist.send_json_to({"type": "typing", "room": room.pk})

    frame = await receive(other, "typing")
    assert frame == {"type": "typing", "room": room.pk, "user": {"id": rep.pk, "name": rep.label}}
    await typist.disconnect()
    await other.disconnect()


async def test_a_record_room_follows_the_record_visibility(rep, other_team_rep):
    # given a discussion about the rep's customer
    customer = await sync_to_async(CustomerFactory)(owner=rep)
    room = await sync_to_async(chat_room_for_record)(user=rep, record=customer)
    owner, outsider = await connect(rep), await connect(other_team_rep)

    # then the owner may subscribe and a rep of another team may not
    assert (await subscribe(owner, room.pk))["type"] == "subscribed"
    refused = await subscribe(outsider, room.pk)
    assert (refused["type"], refused["code"]) == ("error", "forbidden")
    await owner.disconnect()
    await outsider.disconnect()


async def test_reading_pushes_the_unread_count(rep, rep_teammate):
    room = await sync_to_async(chat_room_direct)(user=rep, other=rep_teammate)
    message = await sync_to_async(chat_message_post)(author=rep_teammate, room=room, body="hi")
    socket = await connect(rep)

    await socket.send_json_to({"type": "read", "room": room.pk, "message": message.pk})

    assert await receive(socket, "unread") == {
        "type": "unread",
        "room": room.pk,
        "count": 0,
        "total": 0,
    }
    await socket.disconnect()


async def test_presence_reaches_teammates(rep, rep_teammate):
    watcher = await connect(rep_teammate)

    arriving = await connect(rep)
    assert await receive(watcher, "presence") == {
        "type": "presence",
        "user": rep.pk,
        "status": "online",
    }
    await arriving.send_json_to({"type": "presence", "status": "away"})
    assert (await receive(watcher, "presence"))["status"] == "away"
    await arriving.disconnect()
    assert (await receive(watcher, "presence"))["status"] == "offline"
    await watcher.disconnect()


async def test_bad_frames_get_errors(rep):
    socket = await connect(rep)

    await socket.send_to(text_data="not json")
    assert (await receive(socket, "error"))["code"] == "invalid"
    await socket.send_json_to({"type": "subscribe", "room": "one"})
    assert (await receive(socket, "error"))["code"] == "invalid"
    await socket.send_json_to({"type": "shout"})
    assert (await receive(socket, "error"))["code"] == "unknown_type"
    await socket.send_json_to({"type": "ping", "id": 3})
    assert await receive(socket, "pong") == {"type": "pong", "id": 3}
    await socket.disconnect()


async def test_a_new_room_is_heard_of_by_an_open_socket(rep, rep_teammate):
    # given the teammate's tab is open before the rep starts a group with them
    tab = await connect(rep_teammate)
    sender = await connect(rep)
    room = await sync_to_async(chat_room_group_create)(
        creator=rep, name="Pricing", members=[rep_teammate]
    )

    # when the rep writes in the new group
    joined = await receive(tab, "room.joined")
    await send(sender, room.pk, "a new group", client_id="n-1")

    # then the open tab learnt of the room and hears its activity
    assert joined == {"type": "room.joined", "room": room.pk}
    assert (await receive(tab, "room.activity"))["room"] == room.pk
    await tab.disconnect()
    await sender.disconnect()
