"""With Redis unreachable, chat pages still load and a message sent through the HTTP fallback is
stored (the socket clients fetch it when they reconnect)."""

import pytest
from django.test import override_settings

from collaboration.models import ChatMessage
from tests.collaboration.factories import ChatMembershipFactory, ChatRoomFactory

pytestmark = pytest.mark.django_db

# Nothing listens on port 9, so every cache call fails with a connection error at once.
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
        "OPTIONS": {"socket_connect_timeout": 0.2},
    }
}


@pytest.fixture
def room(rep, rep_teammate):
    room = ChatRoomFactory(name="Deal desk")
    ChatMembershipFactory(room=room, user=rep)
    ChatMembershipFactory(room=room, user=rep_teammate)
    return room


def test_the_room_page_loads_and_the_http_fallback_stores_the_message(rep_client, room):
    # given Redis is down
    with override_settings(CACHES=UNREACHABLE_REDIS):
        # when the rep opens the room and sends through the HTTP fallback
        page = rep_client.get(f"/collaboration/chat/{room.pk}/")
        sent = rep_client.post(
            f"/api/v1/chat/rooms/{room.pk}/messages/",
            {"body": "Sent while offline", "client_id": "offline-1"},
            "application/json",
        )

    # then the page loaded and the message is stored, once
    assert page.status_code == 200
    assert sent.status_code == 201, sent.content
    assert ChatMessage.objects.filter(room=room, body="Sent while offline").count() == 1
