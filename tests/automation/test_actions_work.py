"""The actions that bring people in: a task, a notification, a chat message. Nobody hears of a
record they may not see: a task is not given to them, a notification leaves them out (and the run
says so), and a message is not posted in a room where any member may not see the record."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from automation.models import RuleRun
from automation.selectors import rule_test
from collaboration.models import ChatMessage, ChatRoom, Notification, Task
from collaboration.services.chat import chat_room_for_team
from tests.automation.factories import rule_doing, run_on
from tests.collaboration.factories import ChatMembershipFactory, ChatRoomFactory
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory
from tests.service.factories import TicketFactory

pytestmark = pytest.mark.django_db


def automation_notices(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=Notification.Kind.AUTOMATION))


@pytest.fixture
def customer(rep, team):
    return CustomerFactory(owner=rep, team=team, name="Ada Lovelace")


@pytest.fixture
def deal(rep, team, customer):
    return DealFactory(owner=rep, team=team, customer=customer, name="Engine order")


@pytest.fixture
def ticket(rep, team, customer):
    return TicketFactory(assignee=rep, team=team, customer=customer, subject="Engine stalls")


# Tasks -------------------------------------------------------------------------------------------


def test_create_task_for_the_owner_is_due_and_linked_to_the_record(manager, rep, customer):
    # given a rule creating a task for the customer's owner, due in three days
    rule = rule_doing(
        manager,
        "customer",
        "create_task",
        {
            "title": "Call {{ customer.name }}",
            "description": "See {{ record.url }}",
            "due_in_days": "3",
            "priority": "high",
        },
    )

    # when it runs
    before = timezone.now()
    run = run_on(rule, customer)

    # then the rep has the task, about the customer, due in three days, made by the manager
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    task = Task.objects.get()
    assert task.title == "Call Ada Lovelace"
    assert task.description.endswith(reverse("customers:customer_detail", args=[customer.pk]))
    assert (task.assignee, task.created_by, task.priority) == (rep, manager, "high")
    assert (task.related_type, task.related_id) == (
        ContentType.objects.get_for_model(customer),
        customer.pk,
    )
    assert before + timedelta(days=3) <= task.due_at <= timezone.now() + timedelta(days=3)


def test_create_task_for_a_given_user(manager, rep_teammate, deal):
    # given a rule giving deals' tasks to the rep's teammate
    rule = rule_doing(
        manager,
        "deal",
        "create_task",
        {"title": "Review {{ deal.name }}", "assignee": rep_teammate.pk, "due_in_days": 0},
    )

    # when it runs on the rep's deal
    run = run_on(rule, deal)

    # then the teammate has the task, about the deal
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    task = Task.objects.get()
    assert (task.assignee, task.title, task.related_id) == (
        rep_teammate,
        "Review Engine order",
        deal.pk,
    )


def test_create_task_is_refused_for_an_assignee_who_may_not_see_the_record(
    manager, other_team_rep, customer
):
    # given a rule giving the task to a rep of another team
    rule = rule_doing(
        manager,
        "customer",
        "create_task",
        {"title": "Call {{ record.name }}", "assignee": other_team_rep.pk},
    )

    # when it is tested  # then the dry run names the problem
    tested = rule_test(rule=rule, record=customer)
    assert "may not see this record" in tested.actions[0]["problem"]

    # when it runs  # then it fails for good, and no task was created
    run = run_on(rule, customer)
    assert run.status == RuleRun.Status.FAILED
    assert other_team_rep.label in run.error
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    "params, field",
    [
        ({"title": ""}, "title"),
        ({"title": "Call", "due_in_days": 400}, "due_in_days"),
        ({"title": "Call", "due_in_days": "soon"}, "due_in_days"),
        ({"title": "Call", "priority": "whenever"}, "priority"),
        ({"title": "Call", "assignee": "999999"}, "assignee"),
        ({"title": "Call {{ deal.name }}"}, "title"),
    ],
)
def test_create_task_settings_are_checked(manager, params, field):
    # when a rule is made with a bad task setting  # then it is refused, naming it
    with pytest.raises(ValidationError) as refused:
        rule_doing(manager, "customer", "create_task", params)
    assert f"actions.0.{field}" in refused.value.message_dict


# Notifications -----------------------------------------------------------------------------------


def test_notify_the_owner_with_the_records_link(manager, rep, customer):
    # given a rule notifying the customer's owner
    rule = rule_doing(
        manager, "customer", "notify", {"to": "owner", "message": "{{ customer.name }} changed"}
    )

    # when it runs
    run = run_on(rule, customer)

    # then the rep has a workflow notification with the message and the customer's link
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    (notice,) = automation_notices(rep)
    assert notice.body == "Ada Lovelace changed"
    assert notice.url == reverse("customers:customer_detail", args=[customer.pk])
    assert notice.title == f"{rule.name}: Ada Lovelace"
    assert (notice.related_type, notice.related_id) == (
        ContentType.objects.get_for_model(customer),
        customer.pk,
    )


def test_notify_users_leaves_out_those_who_may_not_see_and_says_so(
    manager, rep, other_team_rep, customer
):
    # given a rule notifying the rep and a rep of another team
    rule = rule_doing(
        manager,
        "customer",
        "notify",
        {"to": "users", "users": [rep.pk, other_team_rep.pk], "message": "Look"},
    )

    # when it runs
    run = run_on(rule, customer)

    # then only the rep is notified, and the run's detail names the one left out
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    assert len(automation_notices(rep)) == 1
    assert automation_notices(other_team_rep) == []
    detail = run.action_results[0]["detail"]
    assert "left out" in detail
    assert other_team_rep.label in detail


def test_notify_a_team_reaches_its_members_and_manager(manager, rep, rep_teammate, team, deal):
    # given a rule notifying the team
    rule = rule_doing(manager, "deal", "notify", {"to": "team", "team": team.pk, "message": "Hi"})

    # when it runs on a deal of the team
    run = run_on(rule, deal)

    # then the members and the team's manager are notified, with the deal's link
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    notices = Notification.objects.filter(kind=Notification.Kind.AUTOMATION)
    assert sorted(notices.values_list("recipient", flat=True)) == sorted(
        [rep.pk, rep_teammate.pk, manager.pk]
    )
    assert set(notices.values_list("url", flat=True)) == {
        reverse("sales:deal_detail", args=[deal.pk])
    }


def test_notify_nobody_who_may_see_fails_the_run(manager, other_team_rep, customer):
    # given a rule notifying only a rep of another team
    rule = rule_doing(
        manager, "customer", "notify", {"to": "users", "users": [other_team_rep.pk], "message": "X"}
    )

    # when it runs
    run = run_on(rule, customer)

    # then it failed naming them, nobody was told of the customer, and the owner hears of it
    assert run.status == RuleRun.Status.FAILED
    assert other_team_rep.label in run.error
    assert automation_notices(other_team_rep) == []
    (report,) = automation_notices(manager)
    assert "failed" in report.title


@pytest.mark.parametrize(
    "params, field",
    [
        ({"to": "users", "users": [], "message": "X"}, "users"),
        ({"to": "team", "team": "999999", "message": "X"}, "team"),
        ({"to": "everyone", "message": "X"}, "to"),
        ({"to": "owner", "message": ""}, "message"),
    ],
)
def test_notify_settings_are_checked(manager, params, field):
    with pytest.raises(ValidationError) as refused:
        rule_doing(manager, "customer", "notify", params)
    assert f"actions.0.{field}" in refused.value.message_dict


# Chat --------------------------------------------------------------------------------------------


def test_post_in_the_records_room_as_the_rules_owner(manager, deal):
    # given a rule posting in the deal's discussion
    rule = rule_doing(
        manager,
        "deal",
        "post_chat",
        {"room": "record", "message": "{{ deal.name }} is at {{ deal.stage }}"},
        name="Stage watch",
    )

    # when it runs
    run = run_on(rule, deal)

    # then the message is in the deal's room, from the manager, with the rule's name
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    message = ChatMessage.objects.get()
    assert message.room.kind == ChatRoom.Kind.RECORD
    assert message.room.related_id == deal.pk
    assert message.author == manager
    assert message.body == f"Stage watch: Engine order is at {deal.stage.name}"


def test_post_in_a_team_room_whose_members_may_all_see(manager, rep, team, ticket):
    # given the team's room, and a rule posting there
    room = chat_room_for_team(team=team)
    rule = rule_doing(
        manager,
        "ticket",
        "post_chat",
        {"room": room.pk, "message": "{{ ticket.number }}: {{ ticket.subject }}"},
        name="Queue",
    )

    # when it runs on a ticket of the team
    run = run_on(rule, ticket)

    # then it is posted there
    assert run.status == RuleRun.Status.SUCCEEDED, run.error
    message = ChatMessage.objects.get(room=room)
    assert message.body == f"Queue: {ticket.number}: Engine stalls"


def test_post_in_a_room_with_a_member_who_may_not_see_is_refused(
    manager, rep, other_team_rep, customer
):
    # given a group room of the manager, the rep and a rep of another team
    room = ChatRoomFactory(name="Launch crew")
    for user in (manager, rep, other_team_rep):
        ChatMembershipFactory(room=room, user=user)
    rule = rule_doing(
        manager, "customer", "post_chat", {"room": str(room.pk), "message": "{{ record.name }}"}
    )

    # when it is tested  # then the problem names the member
    tested = rule_test(rule=rule, record=customer)
    assert other_team_rep.label in tested.actions[0]["problem"]

    # when it runs  # then nothing is posted and the run failed naming the room and the member
    run = run_on(rule, customer)
    assert run.status == RuleRun.Status.FAILED
    assert "Launch crew" in run.error
    assert other_team_rep.label in run.error
    assert not ChatMessage.objects.exists()


def test_post_chat_offers_only_rooms_the_owner_is_in(manager, rep):
    # given a group room the manager is not in
    room = ChatRoomFactory(name="Reps only")
    ChatMembershipFactory(room=room, user=rep)

    # when a manager's rule would post there  # then it is refused
    with pytest.raises(ValidationError) as refused:
        rule_doing(manager, "customer", "post_chat", {"room": room.pk, "message": "Hi"})
    assert "actions.0.room" in refused.value.message_dict


# Placeholders ------------------------------------------------------------------------------------


def test_placeholders_are_filled_from_the_record_and_its_customer(manager, rep, deal, ticket):
    # given rules notifying the owner with the record's, the customer's, the deal's and the
    # ticket's placeholders
    on_deal = rule_doing(
        manager,
        "deal",
        "notify",
        {
            "to": "owner",
            "message": "{{ record.name }}|{{ customer.name }}|{{ deal.name }}|{{ deal.owner }}"
            "|{{ rule.name }}",
        },
        name="Deal rule",
    )
    on_ticket = rule_doing(
        manager,
        "ticket",
        "notify",
        {
            "to": "owner",
            "message": "{{ record.name }}|{{ customer.first_name }}|{{ ticket.number }}"
            "|{{ ticket.assignee }}|{{ record.url }}",
        },
    )

    # when they run
    runs = [run_on(on_deal, deal), run_on(on_ticket, ticket)]

    # then each placeholder holds its value
    assert [run.status for run in runs] == [RuleRun.Status.SUCCEEDED] * 2
    ticket_url = settings.CRM_SITE_URL + reverse("service:ticket_detail", args=[ticket.pk])
    assert sorted(notice.body for notice in automation_notices(rep)) == sorted(
        [
            f"Engine order|Ada Lovelace|Engine order|{rep}|Deal rule",
            f"{ticket}|Ada|{ticket.number}|{rep}|{ticket_url}",
        ]
    )
