"""Creating, changing, completing and deleting tasks through the services: defaults, the related
record's visibility, optimistic locking and who hears about what."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

import collaboration
from collaboration.models import Notification, Task
from collaboration.services import tasks as services
from crm.accounts.models import User
from crm.concurrency import StaleRecordError
from sales.models import Deal
from tests.accounts.factories import TeamFactory, TeamMembershipFactory, UserFactory
from tests.collaboration.factories import TaskFactory
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory

pytestmark = pytest.mark.django_db


def customer_type():
    return ContentType.objects.get(app_label="customers", model="customer")


def deal_type():
    return ContentType.objects.get_for_model(Deal)


def notifications_of(user, kind=None):
    notifications = Notification.objects.filter(recipient=user)
    return notifications.filter(kind=kind) if kind else notifications


# Creating ----------------------------------------------------------------------------------------


def test_a_new_task_is_the_actors_in_their_first_team_and_nobody_is_notified(rep, team):
    # given a rep in one team
    # when they add a task for themselves
    task = services.task_create(actor=rep, title="Call back Ms Li", kind=Task.Kind.CALL)

    # then it is theirs, filed under their team, at version 1, and they get no notice of it
    assert task.assignee == rep
    assert task.team == team
    assert task.created_by == rep
    assert task.status == Task.Status.OPEN
    assert task.version == 1
    assert not notifications_of(rep).exists()


def test_the_team_defaults_to_the_assignees_first_team(rep, rep_teammate, other_team):
    # given a teammate who also belongs to a second team
    later_team = TeamFactory(name="Zz later")
    TeamMembershipFactory(team=later_team, user=rep_teammate)

    # when the rep gives them a task
    task = services.task_create(actor=rep, title="Send the quote", assignee=rep_teammate)

    # then it is filed under the teammate's first team (the lowest id), not the rep's choice
    assert task.team_id == min(rep_teammate.team_memberships.values_list("team_id", flat=True))


def test_assigning_a_task_to_someone_else_notifies_them_once(rep, rep_teammate):
    # given  # when
    task = services.task_create(actor=rep, title="Prepare the meeting", assignee=rep_teammate)

    # then the teammate has one notification linking to the task
    notices = list(notifications_of(rep_teammate))
    assert [notice.kind for notice in notices] == [Notification.Kind.TASK_ASSIGNED]
    assert "Prepare the meeting" in notices[0].title
    assert notices[0].url == f"/collaboration/tasks/{task.pk}/"
    assert notices[0].related_record == task


def test_a_task_about_a_customer_the_actor_sees_is_linked_to_it(rep):
    # given a customer the rep owns
    customer = CustomerFactory(owner=rep)

    # when
    task = services.task_create(
        actor=rep, title="Call", related_type=customer_type(), related_id=customer.pk
    )

    # then
    assert task.related_record == customer


def test_a_task_about_a_deal_the_actor_sees_is_linked_to_it(rep):
    deal = DealFactory(owner=rep)

    task = services.task_create(
        actor=rep, title="Quote", related_type=deal_type(), related_id=deal.pk
    )

    assert task.related_record == deal


@pytest.mark.parametrize("reachable", ["other team's", "missing"])
def test_a_task_about_a_record_the_actor_cannot_see_is_refused(rep, other_team_rep, reachable):
    # given a customer of another team, or no customer at all
    record_id = CustomerFactory(owner=other_team_rep).pk if reachable != "missing" else 999_999

    # when  # then the error names the field and no task is written
    with pytest.raises(ValidationError) as error:
        services.task_create(
            actor=rep, title="Peek", related_type=customer_type(), related_id=record_id
        )
    assert "related_id" in error.value.message_dict
    assert not Task.objects.exists()


def test_a_task_about_a_kind_of_record_tasks_do_not_link_to_is_refused(rep):
    user_type = ContentType.objects.get_for_model(User)

    with pytest.raises(ValidationError) as error:
        services.task_create(actor=rep, title="Odd", related_type=user_type, related_id=rep.pk)

    assert "related_type" in error.value.message_dict


def test_a_record_type_without_a_record_is_refused(rep):
    with pytest.raises(ValidationError) as error:
        services.task_create(actor=rep, title="Half", related_type=customer_type())

    assert "related_id" in error.value.message_dict


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "Later", "remind_minutes_before": services.MAX_REMIND_MINUTES + 1}, None),
        ({"title": "Odd", "priority": "urgent"}, "priority"),
        ({"title": "Sneaky", "version": 7}, "version"),
    ],
)
def test_bad_values_are_refused_naming_the_field(rep, values, field):
    with pytest.raises(ValidationError) as error:
        services.task_create(actor=rep, **values)

    assert (field or "remind_minutes_before") in error.value.message_dict
    assert not Task.objects.exists()


def test_a_task_for_an_inactive_user_is_refused(rep):
    gone = UserFactory(username="gone", is_active=False)

    with pytest.raises(ValidationError) as error:
        services.task_create(actor=rep, title="Nobody home", assignee=gone)

    assert "assignee" in error.value.message_dict


def test_someone_without_the_permission_cannot_add_a_task(user_without_role):
    with pytest.raises(PermissionDenied):
        services.task_create(actor=user_without_role, title="Nope")


# Changing ----------------------------------------------------------------------------------------


def test_an_update_from_the_current_version_saves_and_moves_the_version_on(rep, team):
    task = TaskFactory(assignee=rep, team=team, title="Old")

    updated = services.task_update(actor=rep, task=task, version=1, title="New")

    assert updated.title == "New"
    assert updated.version == 2
    task.refresh_from_db()
    assert (task.title, task.version) == ("New", 2)


def test_an_update_from_a_stale_version_is_refused_and_changes_nothing(rep, team):
    # given someone else saved the task since the rep opened it
    task = TaskFactory(assignee=rep, team=team, title="Theirs", version=3)

    # when the rep saves their change, made from version 2
    with pytest.raises(StaleRecordError) as error:
        services.task_update(actor=rep, task=task, version=2, title="Mine")

    # then the message says what happened and the task is as the other person left it
    assert "changed by someone else" in str(error.value)
    task.refresh_from_db()
    assert (task.title, task.version) == ("Theirs", 3)


def test_reassigning_notifies_the_new_assignee_and_moves_the_task_to_their_team(
    rep, team, other_team_rep, other_team
):
    task = TaskFactory(assignee=rep, team=team)

    updated = services.task_update(actor=rep, task=task, version=1, assignee=other_team_rep)

    assert updated.team == other_team
    assert notifications_of(other_team_rep, Notification.Kind.TASK_ASSIGNED).count() == 1


def test_setting_the_status_to_done_records_when_and_reopening_clears_it(rep, team):
    task = TaskFactory(assignee=rep, team=team)

    done = services.task_update(actor=rep, task=task, version=1, status=Task.Status.DONE)
    assert done.completed_at is not None

    reopened = services.task_update(actor=rep, task=done, version=2, status=Task.Status.OPEN)
    assert reopened.completed_at is None


def test_complete_and_reopen(rep, team):
    task = TaskFactory(assignee=rep, team=team)

    done = services.task_complete(actor=rep, task=task)
    assert done.status == Task.Status.DONE
    assert done.completed_at is not None
    assert done.version == 2

    # completing it again changes nothing
    again = services.task_complete(actor=rep, task=done)
    assert again.version == 2

    reopened = services.task_reopen(actor=rep, task=again)
    assert reopened.status == Task.Status.OPEN
    assert reopened.completed_at is None
    assert reopened.version == 3


def test_complete_with_a_stale_version_is_refused(rep, team):
    task = TaskFactory(assignee=rep, team=team, version=4)

    with pytest.raises(StaleRecordError):
        services.task_complete(actor=rep, task=task, version=3)

    task.refresh_from_db()
    assert task.status == Task.Status.OPEN


def test_a_rep_cannot_change_a_task_of_another_team(rep, other_team_rep, other_team):
    task = TaskFactory(assignee=other_team_rep, team=other_team)

    with pytest.raises(PermissionDenied):
        services.task_update(actor=rep, task=task, version=1, title="Mine now")
    with pytest.raises(PermissionDenied):
        services.task_complete(actor=rep, task=task)


def test_moving_a_task_to_a_record_the_actor_cannot_see_is_refused(rep, team, other_team_rep):
    task = TaskFactory(assignee=rep, team=team)
    hidden = CustomerFactory(owner=other_team_rep)

    with pytest.raises(ValidationError) as error:
        services.task_update(
            actor=rep, task=task, version=1, related_type=customer_type(), related_id=hidden.pk
        )

    assert "related_id" in error.value.message_dict
    task.refresh_from_db()
    assert task.related_id is None
    assert task.version == 1


def test_changing_the_due_time_re_arms_the_reminder_and_the_overdue_notice(rep, team):
    now = timezone.now()
    task = TaskFactory(
        assignee=rep,
        team=team,
        due_at=now - timedelta(hours=1),
        reminded_at=now - timedelta(hours=2),
        overdue_notified_at=now,
    )

    updated = services.task_update(actor=rep, task=task, version=1, due_at=now + timedelta(days=1))

    assert updated.reminded_at is None
    assert updated.overdue_notified_at is None


def test_changing_something_else_keeps_the_notices_sent(rep, team):
    now = timezone.now()
    task = TaskFactory(assignee=rep, team=team, due_at=now, reminded_at=now)

    updated = services.task_update(actor=rep, task=task, version=1, title="Renamed")

    assert updated.reminded_at == now


# Deleting ----------------------------------------------------------------------------------------


def test_a_rep_may_not_delete_a_task_but_their_manager_may(rep, team, manager):
    task = TaskFactory(assignee=rep, team=team)

    with pytest.raises(PermissionDenied):
        services.task_delete(actor=rep, task=task)

    services.task_delete(actor=manager, task=task)
    assert not Task.objects.exists()


# The app's boundaries ----------------------------------------------------------------------------


def test_collaboration_imports_none_of_the_apps_it_links_to():
    # Tasks, rooms, files and events link to customers, deals and tickets generically, so the app
    # imports none of them; it only adds to the customer page through customers' registry.
    forbidden = {"customers", "sales", "service", "analytics"}
    allowed = {"customers.registry"}
    package = Path(collaboration.__file__).parent
    offenders = []
    for source in package.rglob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            offenders += [
                f"{source.name}: {name}"
                for name in names
                if name.split(".")[0] in forbidden and name not in allowed
            ]
    assert offenders == []
