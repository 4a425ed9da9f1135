"""/api/v1/ tickets (CRUD and the reply, assign, resolve, reopen and status actions, the thread and
the history), ticket messages, categories, canned responses and satisfaction surveys:
visibility, writes through the services, optimistic locking, the workflow and permissions."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from service.models import CannedResponse, Ticket, TicketCategory
from service.services.tickets import ticket_create, ticket_reply
from tests.accounts.factories import UserFactory
from tests.customers.factories import CustomerFactory
from tests.service.factories import (
    CannedResponseFactory,
    SatisfactionSurveyFactory,
    TicketCategoryFactory,
)

pytestmark = pytest.mark.django_db


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def error(response, status_code: int) -> dict:
    assert response.status_code == status_code, response.content
    body = response.json()["error"]
    # A 409 also names the version to reload from.
    expected = {"code", "message", "fields"} | (
        {"current_version"} if status_code == 409 else set()
    )
    assert body.keys() == expected
    return body


def error_fields(response) -> dict:
    body = error(response, 400)
    assert body["code"] == "validation_error"
    return body["fields"]


def make_ticket(assignee, *, team=None, **values) -> Ticket:
    """A ticket opened through the service (so with its SLA, thread and first history row)."""
    team = team if team is not None else assignee.teams.first()
    values.setdefault("customer", CustomerFactory(team=team, name="Ada Wong"))
    values.setdefault("subject", "The kettle leaks")
    return ticket_create(actor=None, assignee=assignee, team=team, **values)


def ticket_url(ticket: Ticket, action: str = "") -> str:
    return f"/api/v1/tickets/{ticket.pk}/" + (f"{action}/" if action else "")


@pytest.fixture
def ticket(agent):
    return make_ticket(agent, description="Water on the table.")


@pytest.fixture
def hidden_ticket(other_team_agent):
    return make_ticket(other_team_agent, subject="Someone else's")


# Reading ------------------------------------------------------------------------------------------


def test_list_shows_the_callers_visible_tickets_with_their_sla(agent_client, ticket, hidden_ticket):
    # given a ticket of the agent's and one of another team  # when
    rows = results(agent_client.get("/api/v1/tickets/"))

    # then only their own is listed, with its number, version, customer and SLA due times
    assert [row["id"] for row in rows] == [ticket.pk]
    row = rows[0]
    assert row["number"] == ticket.number
    assert row["number"].startswith("T-")
    assert (row["status"], row["version"]) == ("new", 1)
    assert (row["customer"], row["customer_name"]) == (ticket.customer_id, "Ada Wong")
    assert row["sla_policy"] == ticket.sla_policy_id is not None
    assert row["first_response_due_at"] is not None
    assert row["resolution_due_at"] is not None
    assert (row["first_response_breached"], row["resolution_breached"]) == (False, False)
    assert row["satisfaction_rating"] is None
    assert "attachments" not in row


def test_list_filters_search_and_orders(agent, agent_client, team):
    # given three tickets that differ by priority, status, subject and age
    urgent = make_ticket(agent, subject="Broken lid", priority="urgent")
    quiet = make_ticket(agent, subject="Question about colours", priority="low")
    breached = make_ticket(agent, subject="Late one")
    Ticket.objects.filter(pk=breached.pk).update(
        resolution_breached=True, created_at=timezone.now() - timedelta(days=10)
    )
    unassigned = make_ticket(None, team=team, subject="Nobody's")

    def ids(**params) -> list[int]:
        return [row["id"] for row in results(agent_client.get("/api/v1/tickets/", params))]

    # when  # then
    assert ids(priority="urgent") == [urgent.pk]
    assert ids(q="colours") == [quiet.pk]
    assert ids(q=urgent.number) == [urgent.pk]
    assert ids(breached="true") == [breached.pk]
    assert ids(unassigned="true") == [unassigned.pk]
    assert set(ids(assignee=agent.pk)) == {urgent.pk, quiet.pk, breached.pk}
    assert breached.pk not in ids(created_after=(timezone.now() - timedelta(days=1)).isoformat())
    assert ids(created_before=(timezone.now() - timedelta(days=1)).isoformat()) == [breached.pk]
    assert ids(ordering="created_at")[0] == breached.pk
    assert "status" in error_fields(agent_client.get("/api/v1/tickets/", {"status": "lost"}))


def test_list_queries_are_bounded(agent, agent_client, django_assert_max_num_queries):
    # given twenty tickets, each with tags, a category and a customer
    category = TicketCategoryFactory()
    for number in range(20):
        make_ticket(agent, subject=f"Ticket {number}", category=category, tags=["kettle", "vip"])

    # when
    with django_assert_max_num_queries(10):
        rows = results(agent_client.get("/api/v1/tickets/"))

    # then
    assert len(rows) == 20
    assert sorted(rows[0]["tags"]) == ["kettle", "vip"]


def test_a_sales_rep_has_no_service_api(rep_client, ticket):
    # given a rep, who has no service permissions  # when  # then every endpoint is refused
    for url in (
        "/api/v1/tickets/",
        ticket_url(ticket),
        "/api/v1/ticket-messages/",
        "/api/v1/ticket-categories/",
        "/api/v1/canned-responses/",
        "/api/v1/satisfaction-surveys/",
    ):
        assert error(rep_client.get(url), 403)["code"] == "permission_denied", url
    response = post(rep_client, "/api/v1/tickets/", {"customer": 1, "subject": "x"})
    assert error(response, 403)["code"] == "permission_denied"
    assert Ticket.objects.count() == 1


def test_another_teams_ticket_is_a_404_on_every_endpoint(manager, client_for, hidden_ticket):
    # given a manager (every service permission) who does not reach the other team
    client = client_for(manager)
    version = {"version": hidden_ticket.version}

    # when  # then
    assert error(client.get(ticket_url(hidden_ticket)), 404)["code"] == "not_found"
    for action in ("messages", "history"):
        assert error(client.get(ticket_url(hidden_ticket, action)), 404)
    assert error(patch(client, ticket_url(hidden_ticket), {"subject": "Mine", **version}), 404)
    for action, data in (
        ("reply", {"body": "Hello"}),
        ("assign", {"assignee": manager.pk, **version}),
        ("resolve", version),
        ("reopen", version),
        ("status", {"status": "open", **version}),
    ):
        assert error(post(client, ticket_url(hidden_ticket, action), data), 404), action
    assert error(client.delete(ticket_url(hidden_ticket)), 404)
    assert results(client.get("/api/v1/ticket-messages/", {"ticket": hidden_ticket.pk})) == []
    hidden_ticket.refresh_from_db()
    assert (hidden_ticket.subject, hidden_ticket.version) == ("Someone else's", 1)
    assert hidden_ticket.messages.count() == 1


# Creating, changing, deleting ---------------------------------------------------------------------


def test_agent_creates_a_ticket_through_the_service(agent, agent_client, team):
    # given a customer of the agent's team and a category
    customer = CustomerFactory(team=team)
    category = TicketCategoryFactory(name="Billing")

    # when
    response = post(
        agent_client,
        "/api/v1/tickets/",
        {
            "customer": customer.pk,
            "subject": "  Charged twice ",
            "description": "Two payments for one order.",
            "priority": "high",
            "channel": "phone",
            "category": category.pk,
            "tags": ["billing"],
        },
    )

    # then it is numbered, assigned to the agent, timed by its SLA, and opens its thread
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get(pk=body["id"])
    assert body["number"] == ticket.number == f"T-{ticket.pk:07d}"
    assert (body["subject"], body["assignee"], body["team"]) == ("Charged twice", agent.pk, team.pk)
    assert (body["status"], body["version"], body["tags"]) == ("new", 1, ["billing"])
    assert body["created_by"] == agent.pk
    assert body["first_response_due_at"] is not None
    assert ticket.messages.get().body == "Two payments for one order."
    assert ticket.status_changes.get().to_status == "new"


def test_create_with_attachments_as_multipart(agent_client, team):
    # given
    customer = CustomerFactory(team=team)
    upload = SimpleUploadedFile("photo.txt", b"a picture", content_type="text/plain")

    # when
    response = agent_client.post(
        "/api/v1/tickets/",
        {"customer": customer.pk, "subject": "See attached", "attachments": [upload]},
    )

    # then the file hangs off the thread's first message
    assert response.status_code == 201, response.content
    message = Ticket.objects.get(pk=response.json()["id"]).messages.get()
    assert [(file.name, file.size) for file in message.attachments.all()] == [("photo.txt", 9)]


def test_create_refuses_bad_input_naming_the_field(agent_client, team):
    customer = CustomerFactory(team=team)

    # when  # then
    fields = error_fields(post(agent_client, "/api/v1/tickets/", {"subject": "No customer"}))
    assert "customer" in fields
    missing = post(agent_client, "/api/v1/tickets/", {"customer": 999_999, "subject": "x"})
    assert "customer" in error_fields(missing)
    versioned = post(
        agent_client, "/api/v1/tickets/", {"customer": customer.pk, "subject": "x", "version": 3}
    )
    assert "version" in error_fields(versioned)
    statused = post(
        agent_client,
        "/api/v1/tickets/",
        {"customer": customer.pk, "subject": "x", "status": "open"},
    )
    assert error_fields(statused) == {"status": ["This field is read-only."]}
    unknown = post(agent_client, "/api/v1/tickets/", {"customer": customer.pk, "subjet": "x"})
    assert error_fields(unknown)["subjet"] == ["Unknown field."]
    assert not Ticket.objects.exists()


def test_the_service_desk_opens_tickets_for_any_customer(agent_client, agent, other_team):
    # given a customer another team's rep owns: anyone may call the desk
    stranger = CustomerFactory(team=other_team)

    # when
    response = post(agent_client, "/api/v1/tickets/", {"customer": stranger.pk, "subject": "x"})

    # then
    assert response.status_code == 201
    assert Ticket.objects.get().assignee == agent


def test_patch_with_the_current_version_changes_the_ticket(agent_client, ticket):
    # given  # when
    response = patch(
        agent_client, ticket_url(ticket), {"subject": "Kettle leaks badly", "version": 1}
    )

    # then
    assert response.status_code == 200, response.content
    assert (response.json()["subject"], response.json()["version"]) == ("Kettle leaks badly", 2)
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.version) == ("Kettle leaks badly", 2)


def test_a_stale_version_is_a_409_and_writes_nothing(agent_client, ticket):
    # given someone else changed the ticket after the client read it
    patch(agent_client, ticket_url(ticket), {"priority": "high", "version": 1})

    # when the client sends its change from version 1
    response = patch(agent_client, ticket_url(ticket), {"subject": "Overwrite", "version": 1})

    # then
    body = error(response, 409)
    assert body["code"] == "conflict"
    assert "version 1" in body["message"]
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.priority, ticket.version) == ("The kettle leaks", "high", 2)


def test_a_change_without_a_version_is_a_400(agent_client, ticket):
    # given  # when
    response = patch(agent_client, ticket_url(ticket), {"subject": "No version"})

    # then
    assert error_fields(response) == {"version": ["This field is required."]}
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.version) == ("The kettle leaks", 1)


def test_the_customer_and_status_are_not_changed_by_patch(agent_client, ticket, team):
    # given  # when
    customer = patch(
        agent_client,
        ticket_url(ticket),
        {"customer": CustomerFactory(team=team).pk, "version": 1},
    )
    status = patch(agent_client, ticket_url(ticket), {"status": "closed", "version": 1})

    # then
    assert error_fields(customer) == {"customer": ["This field is read-only."]}
    assert error_fields(status) == {"status": ["This field is read-only."]}


def test_delete_is_for_managers(agent_client, manager, client_for, ticket):
    # given an agent (no delete permission) and the team's manager  # when
    refused = agent_client.delete(ticket_url(ticket))
    deleted = client_for(manager).delete(ticket_url(ticket))

    # then
    assert error(refused, 403)
    assert deleted.status_code == 204
    assert not Ticket.objects.filter(pk=ticket.pk).exists()


# Actions ------------------------------------------------------------------------------------------


def test_reply_answers_the_customer_and_opens_the_ticket(agent, agent_client, ticket):
    # given a new ticket  # when the agent replies
    response = post(agent_client, ticket_url(ticket, "reply"), {"body": "We'll send a new one."})

    # then the reply is in the thread, the first response is met, the ticket is open
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["body"], body["author"]) == (
        "reply",
        "We'll send a new one.",
        agent.pk,
    )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.version) == ("open", 2)
    assert ticket.first_responded_at is not None


def test_reply_with_a_status_and_attachments_as_multipart(agent_client, ticket):
    # given
    upload = SimpleUploadedFile("label.txt", b"return label", content_type="text/plain")

    # when
    response = agent_client.post(
        ticket_url(ticket, "reply"),
        {"body": "Print this label.", "status": "pending", "attachments": [upload]},
    )

    # then
    assert response.status_code == 201, response.content
    files = response.json()["attachments"]
    assert [file["name"] for file in files] == ["label.txt"]
    assert agent_client.get(files[0]["url"]).status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    assert ticket.sla_paused_at is not None


def test_a_note_leaves_the_status_and_the_clock_alone(agent_client, ticket):
    # given  # when
    response = post(
        agent_client, ticket_url(ticket, "reply"), {"body": "Asked the warehouse.", "kind": "note"}
    )

    # then
    assert response.status_code == 201, response.content
    ticket.refresh_from_db()
    assert (ticket.status, ticket.first_responded_at) == ("new", None)


def test_reply_refuses_bad_input(agent_client, ticket):
    # given  # when  # then
    assert "body" in error_fields(post(agent_client, ticket_url(ticket, "reply"), {"body": "  "}))
    customer_kind = post(
        agent_client, ticket_url(ticket, "reply"), {"body": "Hi", "kind": "customer"}
    )
    assert "kind" in error_fields(customer_kind)
    bad_status = post(agent_client, ticket_url(ticket, "reply"), {"body": "Hi", "status": "gone"})
    assert "status" in error_fields(bad_status)
    assert ticket.messages.count() == 1


def test_assign_hands_the_ticket_over(agent_client, agent_teammate, ticket):
    # given  # when
    response = post(
        agent_client, ticket_url(ticket, "assign"), {"assignee": agent_teammate.pk, "version": 1}
    )

    # then
    assert response.status_code == 200, response.content
    assert (response.json()["assignee"], response.json()["version"]) == (agent_teammate.pk, 2)
    ticket.refresh_from_db()
    assert ticket.assignee == agent_teammate


def test_assign_to_nobody_and_stale_assign(agent_client, agent_teammate, ticket):
    # given  # when
    unassigned = post(agent_client, ticket_url(ticket, "assign"), {"assignee": None, "version": 1})
    stale = post(
        agent_client, ticket_url(ticket, "assign"), {"assignee": agent_teammate.pk, "version": 1}
    )
    missing = post(agent_client, ticket_url(ticket, "assign"), {"assignee": agent_teammate.pk})

    # then
    assert unassigned.status_code == 200, unassigned.content
    assert unassigned.json()["assignee"] is None
    assert error(stale, 409)["code"] == "conflict"
    assert error_fields(missing) == {"version": ["This field is required."]}
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.version) == (None, 2)


def test_resolve_then_reopen(agent_client, ticket):
    # given  # when
    resolved = post(agent_client, ticket_url(ticket, "resolve"), {"version": 1})
    reopened = post(agent_client, ticket_url(ticket, "reopen"), {"version": 2})

    # then
    assert resolved.status_code == 200, resolved.content
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_at"] is not None
    assert reopened.status_code == 200, reopened.content
    body = reopened.json()
    assert (body["status"], body["reopened_count"], body["version"]) == ("open", 1, 3)
    assert body["resolved_at"] is None


def test_status_moves_along_the_workflow_only(agent_client, ticket):
    # given an open ticket
    post(agent_client, ticket_url(ticket, "status"), {"status": "open", "version": 1})

    # when it is sent back to new, reopened while open, and given an unknown status
    back = post(agent_client, ticket_url(ticket, "status"), {"status": "new", "version": 2})
    reopen = post(agent_client, ticket_url(ticket, "reopen"), {"version": 2})
    unknown = post(agent_client, ticket_url(ticket, "status"), {"status": "lost", "version": 2})
    stale = post(agent_client, ticket_url(ticket, "status"), {"status": "pending", "version": 1})
    no_version = post(agent_client, ticket_url(ticket, "resolve"), {})

    # then each is refused, naming what was wrong, and the ticket is as it was
    assert "cannot become" in error_fields(back)["status"][0]
    assert reopen.status_code == 200  # open → open is no move at all
    assert "status" in error_fields(unknown)
    assert error(stale, 409)["code"] == "conflict"
    assert error_fields(no_version) == {"version": ["This field is required."]}
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert list(ticket.status_changes.values_list("to_status", flat=True)) == ["new", "open"]


def test_messages_and_history(agent, agent_client, ticket):
    # given a reply and a note on the ticket
    ticket_reply(actor=agent, ticket=ticket, body="On its way.")
    ticket_reply(actor=agent, ticket=ticket, body="Courier booked.", kind="note")

    # when
    thread = results(agent_client.get(ticket_url(ticket, "messages")))
    history = results(agent_client.get(ticket_url(ticket, "history")))

    # then the thread is oldest first, notes included, and the history has both moves
    assert [(row["kind"], row["body"]) for row in thread] == [
        ("customer", "Water on the table."),
        ("reply", "On its way."),
        ("note", "Courier booked."),
    ]
    assert [(row["from_status"], row["to_status"]) for row in history] == [
        ("", "new"),
        ("new", "open"),
    ]
    assert history[1]["changed_by"] == agent.pk


def test_thread_leaves_out_notes_for_who_may_not_read_messages(agent, client_for, team, ticket):
    # given a team member who may read tickets but not their messages
    reader = UserFactory(username="reader")
    reader.team_memberships.create(team=team)
    reader.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    ticket_reply(actor=agent, ticket=ticket, body="Courier booked.", kind="note")

    # when
    thread = results(client_for(reader).get(ticket_url(ticket, "messages")))

    # then
    assert [row["kind"] for row in thread] == ["customer"]


def test_thread_queries_are_bounded(agent, agent_client, ticket, django_assert_max_num_queries):
    # given fifteen replies, each with a file
    for number in range(15):
        ticket_reply(
            actor=agent,
            ticket=ticket,
            body=f"Reply {number}",
            attachments=[SimpleUploadedFile(f"f{number}.txt", b"x")],
        )

    # when
    with django_assert_max_num_queries(13):
        rows = results(agent_client.get(ticket_url(ticket, "messages")))

    # then
    assert len(rows) == 16
    assert rows[-1]["author_name"]


# Ticket messages ----------------------------------------------------------------------------------


def test_ticket_messages_list_only_visible_ones(agent, agent_client, ticket, hidden_ticket):
    # given
    ticket_reply(actor=agent, ticket=ticket, body="On its way.")

    # when
    rows = results(agent_client.get("/api/v1/ticket-messages/"))
    filtered = results(agent_client.get("/api/v1/ticket-messages/", {"ticket": ticket.pk}))
    replies = results(agent_client.get("/api/v1/ticket-messages/", {"kind": "reply"}))

    # then newest first, and none of the other team's
    assert [row["body"] for row in rows] == ["On its way.", "Water on the table."]
    assert {row["ticket"] for row in rows} == {ticket.pk}
    assert len(filtered) == 2
    assert [row["body"] for row in replies] == ["On its way."]
    assert error(post(agent_client, "/api/v1/ticket-messages/", {"body": "x"}), 405)


# Categories ---------------------------------------------------------------------------------------


def test_manager_keeps_the_categories(manager, client_for):
    # given
    client = client_for(manager)

    # when
    created = post(client, "/api/v1/ticket-categories/", {"name": "  Returns  "})
    category_id = created.json()["id"]
    duplicate = post(client, "/api/v1/ticket-categories/", {"name": "Returns"})
    renamed = patch(client, f"/api/v1/ticket-categories/{category_id}/", {"is_active": False})
    deleted = client.delete(f"/api/v1/ticket-categories/{category_id}/")

    # then
    assert created.status_code == 201, created.content
    assert created.json()["name"] == "Returns"
    assert "name" in error_fields(duplicate)
    assert renamed.json()["is_active"] is False
    assert deleted.status_code == 204
    assert not TicketCategory.objects.exists()


def test_a_category_in_use_is_not_deleted(manager, client_for, agent):
    # given
    category = TicketCategoryFactory()
    make_ticket(agent, category=category)

    # when
    response = client_for(manager).delete(f"/api/v1/ticket-categories/{category.pk}/")

    # then
    body = error(response, 400)
    assert body["code"] == "in_use"
    assert "deactivate" in body["message"]
    assert TicketCategory.objects.filter(pk=category.pk).exists()


def test_agents_read_categories_but_do_not_change_them(agent_client):
    # given
    category = TicketCategoryFactory(name="Billing")

    # when
    rows = results(agent_client.get("/api/v1/ticket-categories/"))
    created = post(agent_client, "/api/v1/ticket-categories/", {"name": "Mine"})
    changed = patch(agent_client, f"/api/v1/ticket-categories/{category.pk}/", {"name": "X"})

    # then
    assert [row["name"] for row in rows] == ["Billing"]
    assert error(created, 403)
    assert error(changed, 403)


# Canned responses ---------------------------------------------------------------------------------


def test_canned_responses_are_ones_own_and_the_teams(
    agent, agent_teammate, other_team_agent, agent_client, team
):
    # given the agent's own, one a teammate shares, and another team's
    own = CannedResponseFactory(name="Own", owner=agent)
    shared = CannedResponseFactory(name="Shared", owner=agent_teammate, team=team)
    hidden = CannedResponseFactory(name="Hidden", owner=other_team_agent)

    # when
    rows = results(agent_client.get("/api/v1/canned-responses/"))

    # then
    assert [row["id"] for row in rows] == [own.pk, shared.pk]
    assert error(agent_client.get(f"/api/v1/canned-responses/{hidden.pk}/"), 404)


def test_agent_writes_canned_responses_through_the_service(agent, agent_client, team, other_team):
    # given  # when
    created = post(
        agent_client,
        "/api/v1/canned-responses/",
        {"name": "Thanks", "body": "Thanks {customer_name}!", "team": team.pk},
    )
    response_id = created.json()["id"]
    foreign = post(
        agent_client,
        "/api/v1/canned-responses/",
        {"name": "Theirs", "body": "Hi", "team": other_team.pk},
    )
    changed = patch(agent_client, f"/api/v1/canned-responses/{response_id}/", {"name": "Thank you"})
    deleted = agent_client.delete(f"/api/v1/canned-responses/{response_id}/")

    # then
    assert created.status_code == 201, created.content
    assert (created.json()["owner"], created.json()["team"]) == (agent.pk, team.pk)
    assert "team" in error_fields(foreign)
    assert changed.json()["name"] == "Thank you"
    assert deleted.status_code == 204
    assert not CannedResponse.objects.exists()


# Satisfaction surveys -----------------------------------------------------------------------------


def test_surveys_are_listed_through_their_ticket(agent_client, ticket, hidden_ticket):
    # given an answered survey on the agent's ticket, an open one, and one on another team's
    answered = SatisfactionSurveyFactory(
        ticket=ticket, answered_at=timezone.now(), rating=4, comment="Quick"
    )
    waiting = SatisfactionSurveyFactory(ticket=ticket, sent_at=timezone.now() - timedelta(days=1))
    SatisfactionSurveyFactory(ticket=hidden_ticket)

    # when
    rows = results(agent_client.get("/api/v1/satisfaction-surveys/"))
    answered_rows = results(agent_client.get("/api/v1/satisfaction-surveys/", {"answered": "true"}))
    open_rows = results(agent_client.get("/api/v1/satisfaction-surveys/", {"answered": "false"}))
    by_ticket = results(
        agent_client.get("/api/v1/satisfaction-surveys/", {"ticket": hidden_ticket.pk})
    )

    # then
    assert [row["id"] for row in rows] == [answered.pk, waiting.pk]
    assert (rows[0]["rating"], rows[0]["ticket_number"]) == (4, ticket.number)
    assert "token_hash" not in rows[0]
    assert [row["id"] for row in answered_rows] == [answered.pk]
    assert [row["id"] for row in open_rows] == [waiting.pk]
    assert by_ticket == []
