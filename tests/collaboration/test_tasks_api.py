"""/api/v1/tasks/: create, read, update with a version, complete, filters and visibility."""

from datetime import timedelta

import pytest
import yaml
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from collaboration.models import Task
from tests.collaboration.factories import TaskFactory
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/tasks/"


def task_url(task, action=""):
    return f"{TASKS}{task.pk}/{action + '/' if action else ''}"


def ids(response):
    return sorted(row["id"] for row in response.json()["results"])


def test_create_a_task_about_a_customer(rep_client, rep, team):
    customer = CustomerFactory(owner=rep)

    response = rep_client.post(
        TASKS,
        {
            "title": "Call back",
            "kind": "call",
            "due_at": "2026-12-01T10:00:00+08:00",
            "related_type": "customers.customer",
            "related_id": customer.pk,
        },
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["assignee"] == rep.pk
    assert body["team"] == team.pk
    assert body["version"] == 1
    assert body["related_type"] == "customers.customer"
    assert body["created_by"] == rep.pk
    assert Task.objects.get().related_record == customer


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "X", "related_type": "auth.user", "related_id": 1}, "related_type"),
        ({"title": "X", "related_type": "customers.customer", "related_id": 999999}, "related_id"),
        ({"title": "X", "owner": 1}, "owner"),
        ({"title": "X", "version": 3}, "version"),
        ({"title": "X", "completed_at": "2026-01-01T00:00:00Z"}, "completed_at"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(rep_client, payload, field):
    response = rep_client.post(TASKS, payload, content_type="application/json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Task.objects.exists()


def test_a_task_about_a_deal_of_another_team_is_refused(rep_client, other_team_rep):
    deal = DealFactory(owner=other_team_rep)

    response = rep_client.post(
        TASKS,
        {"title": "Peek", "related_type": "sales.deal", "related_id": deal.pk},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "related_id" in response.json()["error"]["fields"]


def test_the_list_holds_only_visible_tasks_and_another_teams_task_is_404(
    rep_client, rep, team, rep_teammate, other_team_rep, other_team, django_assert_max_num_queries
):
    mine = TaskFactory(assignee=rep, team=team)
    teammates = TaskFactory(assignee=rep_teammate, team=team)
    hidden = TaskFactory(assignee=other_team_rep, team=other_team)

    with django_assert_max_num_queries(10):
        response = rep_client.get(TASKS)

    assert response.status_code == 200
    assert ids(response) == sorted([mine.pk, teammates.pk])
    assert rep_client.get(task_url(hidden)).status_code == 404
    assert (
        rep_client.patch(
            task_url(hidden), {"title": "x", "version": 1}, content_type="application/json"
        ).status_code
        == 404
    )
    assert rep_client.post(task_url(hidden, "complete")).status_code == 404


def test_filters(rep_client, rep, team, rep_teammate):
    now = timezone.now()
    customer = CustomerFactory(owner=rep)
    overdue = TaskFactory(assignee=rep, team=team, due_at=now - timedelta(hours=1))
    about_customer = TaskFactory(
        assignee=rep,
        team=team,
        related_type=ContentType.objects.get_for_model(customer),
        related_id=customer.pk,
    )
    done = TaskFactory(assignee=rep, team=team, status="done", completed_at=now)
    teammates = TaskFactory(assignee=rep_teammate, team=team)

    def query(**params):
        return ids(rep_client.get(TASKS, params))

    assert query(mine="true") == sorted([overdue.pk, about_customer.pk, done.pk])
    assert query(mine="false") == [teammates.pk]
    assert query(overdue="true") == [overdue.pk]
    assert query(status="done") == [done.pk]
    assert query(open="true", mine="true") == sorted([overdue.pk, about_customer.pk])
    assert query(related_type="customers.customer", related_id=customer.pk) == [about_customer.pk]
    assert query(related_type="nope.nothing") == []


def test_an_update_needs_the_version_and_a_stale_one_is_a_409(rep_client, rep, team):
    task = TaskFactory(assignee=rep, team=team, title="Old")

    missing = rep_client.patch(task_url(task), {"title": "New"}, content_type="application/json")
    assert missing.status_code == 400
    assert "version" in missing.json()["error"]["fields"]

    saved = rep_client.patch(
        task_url(task), {"title": "New", "version": 1}, content_type="application/json"
    )
    assert saved.status_code == 200
    assert saved.json()["version"] == 2

    stale = rep_client.patch(
        task_url(task), {"title": "Newer", "version": 1}, content_type="application/json"
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"
    assert "changed by someone else" in stale.json()["error"]["message"]
    task.refresh_from_db()
    assert (task.title, task.version) == ("New", 2)


def test_complete_and_reopen(rep_client, rep, team):
    task = TaskFactory(assignee=rep, team=team)

    done = rep_client.post(task_url(task, "complete"), content_type="application/json")
    assert done.status_code == 200
    assert done.json()["status"] == "done"
    assert done.json()["completed_at"] is not None

    stale = rep_client.post(
        task_url(task, "reopen"), {"version": 1}, content_type="application/json"
    )
    assert stale.status_code == 409

    reopened = rep_client.post(
        task_url(task, "reopen"), {"version": 2}, content_type="application/json"
    )
    assert reopened.status_code == 200
    assert reopened.json()["status"] == "open"


def test_a_rep_cannot_delete_through_the_api_but_a_manager_can(
    rep_client, client_for, manager, rep, team
):
    task = TaskFactory(assignee=rep, team=team)

    assert rep_client.delete(task_url(task)).status_code == 403
    assert client_for(manager).delete(task_url(task)).status_code == 204
    assert not Task.objects.exists()


def test_the_schema_documents_the_endpoints_without_warnings(rep_client, capsys):
    response = rep_client.get("/api/v1/schema/")

    schema = yaml.safe_load(response.content)
    for path in (
        "/api/v1/tasks/",
        "/api/v1/tasks/{id}/",
        "/api/v1/tasks/{id}/complete/",
        "/api/v1/tasks/{id}/reopen/",
    ):
        assert path in schema["paths"], path
    captured = capsys.readouterr()
    assert "Warning" not in captured.err
    assert "Error" not in captured.err
