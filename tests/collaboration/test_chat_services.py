"""Chat services and selectors: rooms, posting, mentions, unread counts and the access rule."""

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError

from collaboration.chat_text import message_html
from collaboration.models import ChatMembership, ChatMessage, ChatRoom, Notification
from collaboration.selectors.chat import (
    chat_message_payload,
    chat_messages_after,
    chat_messages_before,
    chat_room_accessible,
    chat_rooms_for_user,
    chat_timeline_entries,
    chat_unread_total,
)
from collaboration.services.chat import (
    MAX_MESSAGE_LENGTH,
    SEND_RATE_LIMIT,
    ChatRateLimited,
    chat_message_delete,
    chat_message_edit,
    chat_message_post,
    chat_room_direct,
    chat_room_for_record,
    chat_room_for_team,
    chat_room_group_create,
    chat_room_mark_read,
    chat_rooms_ensure_for_teams,
)
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.collaboration.factories import ChatMessageFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def test_a_direct_room_is_one_room_whoever_opens_it(rep, rep_teammate):
    # given a direct room opened by the rep
    first = chat_room_direct(user=rep, other=rep_teammate)

    # when the teammate opens it from their side
    second = chat_room_direct(user=rep_teammate, other=rep)

    # then it is the same room, with both as members
    assert first.pk == second.pk
    assert ChatRoom.objects.filter(kind=ChatRoom.Kind.DIRECT).count() == 1
    assert set(first.memberships.values_list("user_id", flat=True)) == {rep.pk, rep_teammate.pk}


def test_no_direct_room_with_oneself_or_an_inactive_user(rep):
    with pytest.raises(ValidationError):
        chat_room_direct(user=rep, other=rep)
    with pytest.raises(ValidationError):
        chat_room_direct(user=rep, other=UserFactory(is_active=False))


def test_posting_twice_with_one_client_id_stores_one_message(rep, rep_teammate):
    # given a direct room
    room = chat_room_direct(user=rep, other=rep_teammate)

    # when the same send is retried with its client id
    first = chat_message_post(author=rep, room=room, body="hello", client_id="abc-1")
    again = chat_message_post(author=rep, room=room, body="hello", client_id="abc-1")

    # then it is stored once
    assert first.pk == again.pk
    assert ChatMessage.objects.filter(room=room).count() == 1


def test_unread_counts_follow_the_read_position(rep, rep_teammate):
    # given three messages from the teammate in a direct room
    room = chat_room_direct(user=rep, other=rep_teammate)
    messages = [chat_message_post(author=rep_teammate, room=room, body=f"m{i}") for i in range(3)]

    # then the rep has three unread, the author none
    assert _unread(rep, room) == 3
    assert _unread(rep_teammate, room) == 0
    assert chat_unread_total(user=rep) == 3

    # when the rep reads up to the second message
    assert chat_room_mark_read(user=rep, room=room, message_id=messages[1].pk) == 1
    # and an older position does not move it back
    assert chat_room_mark_read(user=rep, room=room, message_id=messages[0].pk) == 1

    # then one is left, and reading everything leaves none
    assert chat_room_mark_read(user=rep, room=room) == 0
    assert chat_unread_total(user=rep) == 0


def test_deleted_messages_are_not_unread(rep, rep_teammate):
    room = chat_room_direct(user=rep, other=rep_teammate)
    message = chat_message_post(author=rep_teammate, room=room, body="oops")

    chat_message_delete(actor=rep_teammate, message=message)

    assert _unread(rep, room) == 0


def _unread(user, room) -> int:
    return {listed.pk: listed.unread_count for listed in chat_rooms_for_user(user=user)}[room.pk]


def test_the_sidebar_costs_the_same_queries_however_many_rooms(
    rep, rep_teammate, django_assert_max_num_queries
):
    # given a team room, a few direct and group rooms, and a record room, each with messages
    chat_rooms_ensure_for_teams(user=rep)
    customer = CustomerFactory(owner=rep)
    chat_room_for_record(user=rep, record=customer)
    for _ in range(3):
        other = UserFactory()
        room = chat_room_direct(user=rep, other=other)
        ChatMessageFactory(room=room, author=other)
    for index in range(3):
        room = chat_room_group_create(creator=rep, name=f"Group {index}", members=[rep_teammate])
        ChatMessageFactory(room=room, author=rep_teammate)
    user = type(rep).objects.get(pk=rep.pk)

    # when the sidebar is listed
    with django_assert_max_num_queries(8) as captured:
        rooms = chat_rooms_for_user(user=user)
    few_rooms_queries = len(captured)

    # then with more rooms it costs no more queries
    for _ in range(5):
        chat_room_direct(user=rep, other=UserFactory())
        chat_room_for_record(user=rep, record=CustomerFactory(owner=rep))
    user = type(rep).objects.get(pk=rep.pk)
    with django_assert_max_num_queries(few_rooms_queries):
        more_rooms = chat_rooms_for_user(user=user)
    assert len(more_rooms) == len(rooms) + 10
    direct_names = {room.display_name for room in more_rooms if room.kind == ChatRoom.Kind.DIRECT}
    assert all(name != str(rep) for name in direct_names)


def test_the_sidebar_leaves_out_record_rooms_of_records_no_longer_visible(rep, other_team_rep):
    # given a discussion the rep joined about their customer
    customer = CustomerFactory(owner=rep)
    room = chat_room_for_record(user=rep, record=customer)

    # when the customer goes to a rep of another team
    customer.owner = other_team_rep
    customer.save()

    # then the room is neither listed nor readable for the rep
    assert room.pk not in {listed.pk for listed in chat_rooms_for_user(user=rep)}
    assert not chat_room_accessible(user=rep, room=room)
    with pytest.raises(PermissionDenied):
        chat_message_post(author=rep, room=room, body="still there?")


def test_a_record_room_needs_the_record_to_be_visible(rep, other_team_rep):
    customer = CustomerFactory(owner=rep)

    with pytest.raises(PermissionDenied):
        chat_room_for_record(user=other_team_rep, record=customer)


def test_team_rooms_belong_to_members_and_the_manager(team, rep, manager, other_team_rep):
    room = chat_room_for_team(team=team)

    assert chat_room_accessible(user=rep, room=room)
    assert chat_room_accessible(user=manager, room=room)
    assert not chat_room_accessible(user=other_team_rep, room=room)


def test_mentions_notify_readers_of_the_room_only(team, rep, rep_teammate, other_team_rep):
    # given the team room
    room = chat_room_for_team(team=team)

    # when the rep mentions a teammate, someone outside the team, and themselves
    message = chat_message_post(
        author=rep, room=room, body="@REP_teammate @other_rep @rep have a look"
    )

    # then only the teammate is notified, with a link to the message
    notifications = Notification.objects.filter(kind=Notification.Kind.MENTION)
    assert [n.recipient for n in notifications] == [rep_teammate]
    assert notifications[0].url.endswith(f"#message-{message.pk}")
    assert set(message.mentioned_users.all()) == {rep, rep_teammate, other_team_rep}


def test_a_team_mention_notifies_the_team(team, rep, rep_teammate, manager):
    room = chat_room_for_team(team=team)

    chat_message_post(author=rep, room=room, body="@sales-east standup in 5")

    recipients = set(
        Notification.objects.filter(kind=Notification.Kind.MENTION).values_list(
            "recipient__username", flat=True
        )
    )
    assert recipients == {"rep_teammate", "manager"}


def test_message_html_escapes_and_links():
    html = message_html(
        "<script>alert(1)</script> see https://example.com/a?b=1&c=2 @bob",
        mentions={"bob": "Bob"},
    )

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    assert 'href="https://example.com/a?b=1&amp;c=2"' in html
    assert 'rel="nofollow noopener" target="_blank"' in html
    assert '<span class="mention" title="Bob">@bob</span>' in html


def test_the_payload_renders_the_body_escaped(rep, rep_teammate):
    room = chat_room_direct(user=rep, other=rep_teammate)
    message = chat_message_post(author=rep, room=room, body="<b>hi</b> @rep_teammate")

    payload = chat_message_payload(message)

    assert payload["body"] == "<b>hi</b> @rep_teammate"
    assert payload["html"].startswith('&lt;b&gt;hi&lt;/b&gt; <span class="mention"')
    assert payload["author"] == {"id": rep.pk, "name": rep.label}
    assert payload["attachments"] == []


def test_empty_and_too_long_messages_are_refused(rep, rep_teammate):
    room = chat_room_direct(user=rep, other=rep_teammate)

    with pytest.raises(ValidationError) as empty:
        chat_message_post(author=rep, room=room, body="   ")
    with pytest.raises(ValidationError) as too_long:
        chat_message_post(author=rep, room=room, body="x" * (MAX_MESSAGE_LENGTH + 1))

    assert empty.value.code == "invalid"
    assert too_long.value.code == "too_long"


def test_sending_too_fast_is_refused(rep, rep_teammate):
    room = chat_room_direct(user=rep, other=rep_teammate)
    for index in range(SEND_RATE_LIMIT):
        chat_message_post(author=rep, room=room, body=f"m{index}")

    with pytest.raises(ChatRateLimited):
        chat_message_post(author=rep, room=room, body="one too many")


def test_only_the_author_edits_or_deletes(rep, rep_teammate):
    room = chat_room_direct(user=rep, other=rep_teammate)
    message = chat_message_post(author=rep, room=room, body="draft")

    with pytest.raises(PermissionDenied):
        chat_message_edit(actor=rep_teammate, message=message, body="hijacked")
    with pytest.raises(PermissionDenied):
        chat_message_delete(actor=rep_teammate, message=message)

    edited = chat_message_edit(actor=rep, message=message, body="final")
    assert edited.edited_at is not None
    chat_message_delete(actor=rep, message=message)
    message.refresh_from_db()
    assert message.body == "" and message.deleted_at is not None
    assert chat_message_payload(message)["deleted"] is True
    with pytest.raises(ValidationError):
        chat_message_edit(actor=rep, message=message, body="back")


def test_history_pages_go_back_in_time(rep, rep_teammate):
    room = chat_room_direct(user=rep, other=rep_teammate)
    ids = [ChatMessageFactory(room=room, author=rep_teammate).pk for _ in range(5)]

    newest, more = chat_messages_before(user=rep, room=room, limit=3)
    older, more_older = chat_messages_before(user=rep, room=room, before_id=newest[0].pk, limit=3)
    missed, more_missed = chat_messages_after(user=rep, room=room, after_id=ids[2])

    assert [m.pk for m in newest] == ids[2:] and more
    assert [m.pk for m in older] == ids[:2] and not more_older
    assert [m.pk for m in missed] == ids[3:] and not more_missed
    with pytest.raises(ChatRoom.DoesNotExist):
        chat_messages_before(user=UserFactory(), room=room)


def test_group_rooms_have_a_name_and_their_members(rep, rep_teammate):
    with pytest.raises(ValidationError):
        chat_room_group_create(creator=rep, name=" ", members=[rep_teammate])

    room = chat_room_group_create(creator=rep, name="Deal desk", members=[rep_teammate])

    assert ChatMembership.objects.filter(room=room).count() == 2


def test_joining_a_team_does_not_bring_its_past_as_unread(team, rep, rep_teammate):
    room = chat_room_for_team(team=team)
    chat_message_post(author=rep_teammate, room=room, body="before you came")
    newcomer = UserFactory()
    TeamMembershipFactory(team=team, user=newcomer)

    chat_rooms_ensure_for_teams(user=newcomer)

    assert _unread(newcomer, room) == 0


def test_the_customer_timeline_shows_its_discussion(rep, other_team_rep, client_for):
    customer = CustomerFactory(owner=rep)
    room = chat_room_for_record(user=rep, record=customer)
    chat_message_post(author=rep, room=room, body="called, will send a quote")

    entries = chat_timeline_entries(customer, rep, None, 10)
    timeline = client_for(rep).get(f"/api/v1/customers/{customer.pk}/timeline/")
    elsewhere = client_for(other_team_rep).get(f"/api/v1/customers/{customer.pk}/timeline/")

    assert [entry.body for entry in entries] == ["called, will send a quote"]
    assert "called, will send a quote" in timeline.content.decode()
    # The timeline is only read for a customer one may see, and the room follows the customer.
    assert elsewhere.status_code == 404
