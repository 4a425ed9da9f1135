"""The chat pages as a signed-in user sees them: the room list with unread badges, a room, its
history, posting without JavaScript (with a file), direct messages, groups and record
discussions."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from collaboration.models import Attachment, ChatMembership, ChatMessage, ChatRoom
from collaboration.services.chat import MAX_MESSAGE_LENGTH
from tests.accounts.factories import UserFactory
from tests.collaboration.factories import (
    ChatMembershipFactory,
    ChatMessageFactory,
    ChatRoomFactory,
)
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
HOME = "/collaboration/chat/"


def room_url(room, action=""):
    return f"/collaboration/chat/{room.pk}/{action + '/' if action else ''}"


def group_with(*users, name="Deal desk"):
    room = ChatRoomFactory(name=name)
    for user in users:
        ChatMembershipFactory(room=room, user=user)
    return room


@pytest.fixture
def group(rep, rep_teammate):
    return group_with(rep, rep_teammate)


# The room list -----------------------------------------------------------------------------------


def test_home_creates_the_team_room_and_opens_the_most_recent_room(rep_client, rep, team):
    # given a rep in a team with no room yet, and a group with a recent message
    other = UserFactory()
    busy = group_with(rep, other, name="Busy")
    ChatMessageFactory(room=busy, author=other)
    ChatRoom.objects.filter(pk=busy.pk).update(last_message_at="2030-01-01T00:00:00Z")

    # when
    response = rep_client.get(HOME)

    # then the team's room exists and the busiest room opens
    assert ChatRoom.objects.filter(kind=ChatRoom.Kind.TEAM, team=team).exists()
    assert response.status_code == 302
    assert response["Location"] == room_url(busy)


def test_home_without_rooms_says_what_to_do(client_for):
    # given a user in no team and no room
    loner = UserFactory(roles=["Sales rep"])

    # when
    response = client_for(loner).get(HOME)

    # then
    assert response.status_code == 200
    assert "Start a direct message" in response.content.decode()


def test_the_sidebar_lists_only_accessible_rooms_with_unread_badges(
    rep_client, rep, rep_teammate, other_team_rep, django_assert_max_num_queries
):
    # given a group of the rep with two unread messages, and a group the rep is not in
    mine = group_with(rep, rep_teammate, name="Mine")
    ChatMessageFactory.create_batch(2, room=mine, author=rep_teammate)
    group_with(other_team_rep, name="Not mine")
    opened = group_with(rep, rep_teammate, name="Opened")
    for index in range(6):
        ChatMessageFactory(room=group_with(rep, UserFactory(), name=f"More {index}"))

    # when the rep opens another room
    with django_assert_max_num_queries(26):
        response = rep_client.get(room_url(opened))

    # then the sidebar shows their rooms with the unread count, and nothing else
    html = response.content.decode()
    assert response.status_code == 200
    assert "Mine" in html and "Not mine" not in html
    badge = f'data-unread-badge="{mine.pk}"><span data-unread-count>2</span>'
    assert badge in html


def test_a_room_page_is_404_for_a_non_member(client_for, group, other_team_rep):
    # when
    response = client_for(other_team_rep).get(room_url(group))

    # then
    assert response.status_code == 404


def test_opening_a_room_marks_it_read(rep_client, rep, rep_teammate, group):
    # given
    message = ChatMessageFactory(room=group, author=rep_teammate)

    # when
    rep_client.get(room_url(group))

    # then
    membership = ChatMembership.objects.get(room=group, user=rep)
    assert membership.last_read_message_id == message.pk


def test_the_room_shows_the_last_50_messages_and_loads_older_ones(
    rep_client, rep_teammate, group, django_assert_max_num_queries
):
    # given 55 messages
    messages = ChatMessageFactory.create_batch(55, room=group, author=rep_teammate)

    # when
    with django_assert_max_num_queries(26):
        response = rep_client.get(room_url(group))
    older = rep_client.get(room_url(group, "history"), {"before": messages[5].pk}, **HTMX)

    # then the page has the newest 50 and a link to the older ones, which come as a partial
    shown = [entry["id"] for entry in response.context["entries"]]
    assert shown == [message.pk for message in messages[5:]]
    assert f"?before={messages[5].pk}" in response.content.decode()
    assert [entry["id"] for entry in older.context["entries"]] == [m.pk for m in messages[:5]]
    assert "<html" not in older.content.decode()


def test_message_text_is_escaped(rep_client, rep_teammate, group):
    # given
    ChatMessageFactory(room=group, author=rep_teammate, body="<script>alert(1)</script>")

    # when
    html = rep_client.get(room_url(group)).content.decode()

    # then
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


# Posting without JavaScript ----------------------------------------------------------------------


def test_posting_a_message(rep_client, rep, group):
    # when
    response = rep_client.post(
        room_url(group, "messages"), {"body": "Hello team", "client_id": "a1"}
    )

    # then
    message = ChatMessage.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{room_url(group)}#message-{message.pk}"
    assert (message.author, message.body, message.client_id) == (rep, "Hello team", "a1")


def test_posting_twice_with_one_client_id_stores_one_message(rep_client, group):
    # when the same form is sent twice (a double click)
    for _ in range(2):
        rep_client.post(room_url(group, "messages"), {"body": "Once", "client_id": "same"})

    # then
    assert ChatMessage.objects.count() == 1


def test_a_too_long_message_is_refused_with_the_reason(rep_client, group):
    # when
    response = rep_client.post(
        room_url(group, "messages"), {"body": "x" * (MAX_MESSAGE_LENGTH + 1)}
    )

    # then the room comes back with the text kept and the reason shown
    assert response.status_code == 400
    assert str(MAX_MESSAGE_LENGTH) in response.content.decode()
    assert not ChatMessage.objects.exists()


def test_posting_with_a_file(rep_client, group):
    # given
    upload = SimpleUploadedFile("notes.txt", b"Call notes", content_type="text/plain")

    # when
    response = rep_client.post(room_url(group, "messages"), {"body": "See notes", "file": upload})

    # then the message and its file are stored
    message = ChatMessage.objects.get()
    assert response.status_code == 302
    assert Attachment.objects.get().related_record == message


def test_a_refused_file_leaves_no_message(rep_client, group, settings):
    # given a limit smaller than the file
    settings.CRM_UPLOAD_MAX_BYTES = 4
    upload = SimpleUploadedFile("notes.txt", b"Too many bytes", content_type="text/plain")

    # when
    response = rep_client.post(room_url(group, "messages"), {"body": "See notes", "file": upload})

    # then
    assert response.status_code == 400
    assert "notes.txt" in response.content.decode()
    assert not ChatMessage.objects.exists()
    assert not Attachment.objects.exists()


def test_htmx_posting_returns_the_message_partial(rep_client, group):
    # when
    response = rep_client.post(room_url(group, "messages"), {"body": "Partial"}, **HTMX)

    # then
    assert response.status_code == 201
    assert 'class="chat-message chat-message-own' in response.content.decode()


def test_posting_in_a_room_of_others_is_404(client_for, other_team_rep, group):
    # when
    response = client_for(other_team_rep).post(room_url(group, "messages"), {"body": "Hi"})

    # then
    assert response.status_code == 404
    assert not ChatMessage.objects.exists()


def test_editing_and_deleting_ones_own_message(rep_client, rep, group):
    # given
    message = ChatMessageFactory(room=group, author=rep, body="Tpyo")

    # when
    rep_client.post(f"/collaboration/chat/messages/{message.pk}/edit/", {"body": "Typo"})
    message.refresh_from_db()
    edited = (message.body, message.edited_at is not None)
    rep_client.post(f"/collaboration/chat/messages/{message.pk}/delete/")
    message.refresh_from_db()

    # then
    assert edited == ("Typo", True)
    assert message.deleted_at is not None and message.body == ""


def test_someone_elses_message_is_not_changed(client_for, rep_teammate, rep, group):
    # given
    message = ChatMessageFactory(room=group, author=rep, body="Mine")

    # when
    client_for(rep_teammate).post(
        f"/collaboration/chat/messages/{message.pk}/edit/", {"body": "Changed"}
    )

    # then
    message.refresh_from_db()
    assert message.body == "Mine"


# Direct messages and groups ----------------------------------------------------------------------


def test_direct_message_page_lists_teammates_and_opens_the_room(rep_client, rep, rep_teammate):
    # when
    page = rep_client.get("/collaboration/chat/direct/", {"q": "teammate"})
    response = rep_client.post("/collaboration/chat/direct/", {"user": rep_teammate.pk})

    # then
    assert rep_teammate in page.context["people"]
    room = ChatRoom.objects.get(kind=ChatRoom.Kind.DIRECT)
    assert response["Location"] == room_url(room)
    assert set(room.members.all()) == {rep, rep_teammate}


def test_creating_a_group_and_adding_and_leaving(rep_client, rep, rep_teammate, other_team_rep):
    # when the rep creates a group with a teammate, adds another person and leaves
    created = rep_client.post(
        "/collaboration/chat/groups/new/", {"name": "Launch", "members": [rep_teammate.pk]}
    )
    room = ChatRoom.objects.get(kind=ChatRoom.Kind.GROUP)
    rep_client.post(room_url(room, "members"), {"action": "add", "members": [other_team_rep.pk]})
    members_after_add = set(room.members.all())
    left = rep_client.post(room_url(room, "members"), {"action": "leave"})

    # then
    assert created["Location"] == room_url(room)
    assert members_after_add == {rep, rep_teammate, other_team_rep}
    assert left.status_code == 302
    assert set(room.members.all()) == {rep_teammate, other_team_rep}


# Record discussions ------------------------------------------------------------------------------


def test_record_discussion_of_a_visible_customer(rep_client, rep):
    # given
    customer = CustomerFactory(owner=rep)

    # when
    response = rep_client.get(
        f"/collaboration/records/customers.customer/{customer.pk}/discussion/"
    )

    # then the room is made and the rep is in it
    room = ChatRoom.objects.get(kind=ChatRoom.Kind.RECORD)
    assert response["Location"] == room_url(room)
    assert room.related_record == customer
    assert ChatMembership.objects.filter(room=room, user=rep).exists()


def test_record_discussion_of_an_invisible_customer_is_404(client_for, rep, other_team_rep):
    # given
    customer = CustomerFactory(owner=rep)

    # when
    response = client_for(other_team_rep).get(
        f"/collaboration/records/customers.customer/{customer.pk}/discussion/"
    )

    # then
    assert response.status_code == 404
    assert not ChatRoom.objects.exists()


@pytest.mark.parametrize("label", ["auth.user", "collaboration.task", "nonsense"])
def test_record_discussion_of_another_kind_is_404(rep_client, rep, label):
    # when
    response = rep_client.get(f"/collaboration/records/{label}/{rep.pk}/discussion/")

    # then
    assert response.status_code == 404
