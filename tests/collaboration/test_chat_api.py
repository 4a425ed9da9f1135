"""/api/v1/chat/: rooms, message history by id cursor, the HTTP send path (idempotent by client
id, rate limited), editing and deleting, and who gets a 403 or a 404."""

import pytest
from django.core.cache import cache

from collaboration.models import ChatMembership, ChatMessage, ChatRoom
from collaboration.services.chat import MAX_MESSAGE_LENGTH, SEND_RATE_LIMIT
from tests.accounts.factories import UserFactory
from tests.collaboration.factories import (
    ChatMembershipFactory,
    ChatMessageFactory,
    ChatRoomFactory,
)
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ROOMS = "/api/v1/chat/rooms/"


def messages_url(room):
    return f"{ROOMS}{room.pk}/messages/"


def message_url(message):
    return f"/api/v1/chat/messages/{message.pk}/"


def group_with(*users, name="Deal desk"):
    room = ChatRoomFactory(name=name)
    for user in users:
        ChatMembershipFactory(room=room, user=user)
    return room


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def group(rep, rep_teammate):
    return group_with(rep, rep_teammate)


# Rooms -------------------------------------------------------------------------------------------


def test_the_room_list_has_the_callers_rooms_with_unread_counts(
    rep_client, rep, rep_teammate, other_team_rep, team, django_assert_max_num_queries
):
    # given two groups of the rep (one with unread messages) and one they are not in
    for index in range(6):
        room = group_with(rep, rep_teammate, name=f"Mine {index}")
        ChatMessageFactory.create_batch(index + 1, room=room, author=rep_teammate)
    group_with(other_team_rep, name="Not mine")
    rep_client.get(ROOMS)

    # when
    with django_assert_max_num_queries(12):
        response = rep_client.get(ROOMS)

    # then their team's room and their groups are listed, with unread counts
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()["results"]}
    assert set(rows) == {f"Mine {index}" for index in range(6)} | {team.name}
    assert rows["Mine 1"]["unread_count"] == 2
    assert rows[team.name]["kind"] == "team"


def test_a_room_the_caller_may_not_read_is_404(client_for, other_team_rep, group):
    # when
    response = client_for(other_team_rep).get(f"{ROOMS}{group.pk}/")

    # then
    assert response.status_code == 404


def test_retrieve_a_direct_room_named_by_the_other_person(rep_client, rep, rep_teammate):
    # given
    created = rep_client.post(f"{ROOMS}direct/", {"user": rep_teammate.pk}, "application/json")

    # when
    response = rep_client.get(f"{ROOMS}{created.json()['id']}/")

    # then
    assert response.status_code == 200
    assert response.json()["name"] == rep_teammate.label
    assert response.json()["kind"] == "direct"


def test_create_a_group(rep_client, rep, rep_teammate):
    # when
    response = rep_client.post(
        ROOMS, {"name": "Launch", "members": [rep_teammate.pk]}, "application/json"
    )

    # then
    assert response.status_code == 201, response.json()
    room = ChatRoom.objects.get(pk=response.json()["id"])
    assert set(room.members.all()) == {rep, rep_teammate}


def test_mark_read_add_members_and_leave(rep_client, rep, rep_teammate, group):
    # given
    message = ChatMessageFactory(room=group, author=rep_teammate)
    newcomer = UserFactory()

    # when
    read = rep_client.post(f"{ROOMS}{group.pk}/read/", {}, "application/json")
    added = rep_client.post(
        f"{ROOMS}{group.pk}/members/", {"users": [newcomer.pk]}, "application/json"
    )
    left = rep_client.post(f"{ROOMS}{group.pk}/leave/")

    # then
    assert read.json() == {"room": group.pk, "unread": 0}
    assert ChatMembership.objects.filter(room=group, user=newcomer).exists()
    assert added.status_code == 200
    assert left.status_code == 204
    assert not ChatMembership.objects.filter(room=group, user=rep).exists()
    assert message.pk


def test_discussion_room_for_a_record(rep_client, client_for, rep, other_team_rep):
    # given
    customer = CustomerFactory(owner=rep)
    payload = {"type": "customers.customer", "id": customer.pk}

    # when
    mine = rep_client.post(f"{ROOMS}for-record/", payload, "application/json")
    theirs = client_for(other_team_rep).post(f"{ROOMS}for-record/", payload, "application/json")

    # then
    assert mine.status_code == 200
    assert mine.json()["related_type"] == "customers.customer"
    assert theirs.status_code == 404


# Message history ---------------------------------------------------------------------------------


def test_history_pages_back_with_before_and_next(
    rep_client, rep_teammate, group, django_assert_max_num_queries
):
    # given five messages
    messages = ChatMessageFactory.create_batch(5, room=group, author=rep_teammate)
    ids = [message.pk for message in messages]

    # when
    with django_assert_max_num_queries(12):
        first = rep_client.get(messages_url(group), {"limit": 2}).json()
    second = rep_client.get(first["next"]).json()
    last = rep_client.get(second["next"]).json()

    # then each page is newest first and the pages go back in time
    assert [row["id"] for row in first["results"]] == [ids[4], ids[3]]
    assert [row["id"] for row in second["results"]] == [ids[2], ids[1]]
    assert [row["id"] for row in last["results"]] == [ids[0]]
    assert last["next"] is None


def test_history_after_an_id_gives_what_was_missed(rep_client, rep_teammate, group):
    # given
    messages = ChatMessageFactory.create_batch(5, room=group, author=rep_teammate)

    # when
    page = rep_client.get(messages_url(group), {"after": messages[1].pk, "limit": 2}).json()
    rest = rep_client.get(page["next"]).json()

    # then
    assert [row["id"] for row in page["results"]] == [messages[3].pk, messages[2].pk]
    assert [row["id"] for row in rest["results"]] == [messages[4].pk]
    assert rest["next"] is None


def test_message_payload_is_the_socket_shape_with_escaped_html(rep_client, rep_teammate, group):
    # given
    ChatMessageFactory(room=group, author=rep_teammate, body="<script>x</script>")

    # when
    row = rep_client.get(messages_url(group)).json()["results"][0]

    # then
    assert row["author"] == {"id": rep_teammate.pk, "name": rep_teammate.label}
    assert row["html"] == "&lt;script&gt;x&lt;/script&gt;"
    assert set(row) == {
        "id",
        "room",
        "author",
        "body",
        "html",
        "created_at",
        "edited_at",
        "deleted",
        "attachments",
        "client_id",
    }


def test_history_of_a_room_of_others_is_404(client_for, other_team_rep, group):
    # when
    response = client_for(other_team_rep).get(messages_url(group))

    # then
    assert response.status_code == 404


# Sending over HTTP -------------------------------------------------------------------------------


def test_sending_is_idempotent_by_client_id(rep_client, rep, group):
    # when the same message is sent twice
    payload = {"body": "Hello", "client_id": "3f1c"}
    first = rep_client.post(messages_url(group), payload, "application/json")
    again = rep_client.post(messages_url(group), payload, "application/json")

    # then it is stored once; the retry gets the stored message
    assert first.status_code == 201, first.json()
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["client_id"] == "3f1c"
    assert ChatMessage.objects.count() == 1


def test_a_too_long_message_is_400_too_long(rep_client, group):
    # when
    response = rep_client.post(
        messages_url(group), {"body": "x" * (MAX_MESSAGE_LENGTH + 1)}, "application/json"
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_long"
    assert not ChatMessage.objects.exists()


def test_sending_too_fast_is_429_with_retry_after(rep_client, group):
    # given the rep sent as many messages as the window allows
    for index in range(SEND_RATE_LIMIT):
        rep_client.post(messages_url(group), {"body": f"m{index}"}, "application/json")

    # when
    response = rep_client.post(messages_url(group), {"body": "one more"}, "application/json")

    # then
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response["Retry-After"]) > 0
    assert ChatMessage.objects.count() == SEND_RATE_LIMIT


def test_sending_to_a_room_of_others_is_404(client_for, other_team_rep, group):
    # when
    response = client_for(other_team_rep).post(
        messages_url(group), {"body": "Hi"}, "application/json"
    )

    # then
    assert response.status_code == 404
    assert not ChatMessage.objects.exists()


# Editing and deleting ----------------------------------------------------------------------------


def test_the_author_edits_and_deletes(rep_client, rep, group):
    # given
    message = ChatMessageFactory(room=group, author=rep, body="Tpyo")

    # when
    edited = rep_client.patch(message_url(message), {"body": "Typo"}, "application/json")
    deleted = rep_client.delete(message_url(message))

    # then
    assert edited.status_code == 200
    assert edited.json()["body"] == "Typo" and edited.json()["edited_at"]
    assert deleted.status_code == 204
    message.refresh_from_db()
    assert message.deleted_at is not None and message.body == ""


def test_another_reader_gets_403_and_an_outsider_404(
    client_for, rep, rep_teammate, other_team_rep, group
):
    # given
    message = ChatMessageFactory(room=group, author=rep, body="Mine")

    # when
    reader_edit = client_for(rep_teammate).patch(
        message_url(message), {"body": "Changed"}, "application/json"
    )
    reader_delete = client_for(rep_teammate).delete(message_url(message))
    outsider_edit = client_for(other_team_rep).patch(
        message_url(message), {"body": "Changed"}, "application/json"
    )

    # then
    assert reader_edit.status_code == 403
    assert reader_delete.status_code == 403
    assert outsider_edit.status_code == 404
    message.refresh_from_db()
    assert message.body == "Mine" and message.deleted_at is None


def test_the_schema_documents_the_chat_endpoints(admin_user, client_for):
    # when
    response = client_for(admin_user).get("/api/v1/schema/")

    # then
    schema = response.content.decode()
    assert response.status_code == 200
    for path in [
        "/api/v1/chat/rooms/",
        "/api/v1/chat/rooms/{id}/read/",
        "/api/v1/chat/rooms/direct/",
        "/api/v1/chat/rooms/for-record/",
        "/api/v1/chat/rooms/{room_id}/messages/",
        "/api/v1/chat/messages/{id}/",
    ]:
        assert f"{path}:" in schema
