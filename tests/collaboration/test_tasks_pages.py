"""The task pages (list with its tabs, new, detail, edit, complete, reopen, delete), as a
signed-in user sees them."""

from datetime import datetime, time, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from collaboration.models import Task
from sales.models import Deal
from tests.collaboration.factories import TaskFactory
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
LIST_URL = "/collaboration/tasks/"
NEW_URL = "/collaboration/tasks/new/"


def detail_url(task):
    return f"/collaboration/tasks/{task.pk}/"


def titles(response):
    return [task.title for task in response.context["tasks"]]


# The list ----------------------------------------------------------------------------------------


def test_the_list_opens_on_the_users_own_open_tasks(
    rep_client, rep, team, rep_teammate, other_team_rep, other_team
):
    # given tasks of the rep (one open, one done), of a teammate and of another team
    TaskFactory(assignee=rep, team=team, title="Mine open")
    TaskFactory(
        assignee=rep, team=team, title="Mine done", status="done", completed_at=timezone.now()
    )
    TaskFactory(assignee=rep_teammate, team=team, title="Teammate's")
    TaskFactory(assignee=other_team_rep, team=other_team, title="Other team's")

    # when
    response = rep_client.get(LIST_URL)

    # then
    assert response.status_code == 200
    assert titles(response) == ["Mine open"]


@pytest.mark.parametrize(
    ("tab", "expected"),
    [
        ("today", ["Late this morning", "Later today"]),
        ("overdue", ["Yesterday's", "Late this morning"]),
        ("upcoming", ["Next week"]),
        ("team", ["Yesterday's", "Late this morning", "Later today", "Next week", "Teammate's"]),
    ],
)
def test_the_tabs(rep_client, rep, team, rep_teammate, other_team_rep, other_team, tab, expected):
    # given the rep's tasks around today, in the current time zone
    now = timezone.now()
    today = timezone.localdate(now)
    start = timezone.make_aware(datetime.combine(today, time.min))
    end = start + timedelta(days=1)
    TaskFactory(assignee=rep, team=team, title="Yesterday's", due_at=start - timedelta(hours=2))
    TaskFactory(
        assignee=rep, team=team, title="Late this morning", due_at=start + (now - start) / 2
    )
    TaskFactory(assignee=rep, team=team, title="Later today", due_at=now + (end - now) / 2)
    TaskFactory(assignee=rep, team=team, title="Next week", due_at=now + timedelta(days=7))
    TaskFactory(assignee=rep_teammate, team=team, title="Teammate's")
    TaskFactory(assignee=other_team_rep, team=other_team, title="Other team's")

    # when
    response = rep_client.get(LIST_URL, {"tab": tab})

    # then
    assert titles(response) == expected


def test_all_lists_every_task_the_user_may_see_whatever_its_status(
    rep_client, rep, team, other_team_rep, other_team
):
    TaskFactory(assignee=rep, team=team, title="Open")
    TaskFactory(assignee=rep, team=team, title="Cancelled", status="cancelled")
    TaskFactory(assignee=other_team_rep, team=other_team, title="Hidden")

    response = rep_client.get(LIST_URL, {"tab": "all"})

    assert sorted(titles(response)) == ["Cancelled", "Open"]


def test_the_filters_narrow_the_tab(rep_client, rep, team):
    TaskFactory(assignee=rep, team=team, title="Call Ms Li", priority="high")
    TaskFactory(assignee=rep, team=team, title="Call Mr Wang", priority="low")
    TaskFactory(assignee=rep, team=team, title="Email Ms Li", priority="high")

    response = rep_client.get(LIST_URL, {"q": "call", "priority": "high"})

    assert titles(response) == ["Call Ms Li"]


def test_bad_filter_values_show_an_error_instead_of_failing(rep_client, rep, team):
    TaskFactory(assignee=rep, team=team, title="Call")

    response = rep_client.get(LIST_URL, {"due_from": "not a date", "tab": "nonsense"})

    assert response.status_code == 200
    assert response.context["tab"] == "mine"
    due_from = next(field for field in response.context["filters"] if field.name == "due_from")
    assert due_from.errors


def test_the_list_is_paged_and_its_queries_bounded(
    client_for, rep, team, django_assert_max_num_queries
):
    # given more tasks than a page holds, about customers and deals
    customer = CustomerFactory(owner=rep)
    deal = DealFactory(owner=rep, customer=customer)
    customer_type = ContentType.objects.get(app_label="customers", model="customer")
    deal_type = ContentType.objects.get_for_model(Deal)
    TaskFactory.create_batch(
        30, assignee=rep, team=team, related_type=customer_type, related_id=customer.pk
    )
    TaskFactory.create_batch(
        30, assignee=rep, team=team, related_type=deal_type, related_id=deal.pk
    )
    client = client_for(rep)
    client.get(LIST_URL)  # warm the content type cache

    # when
    with django_assert_max_num_queries(14):
        first = client.get(LIST_URL)
    second = client.get(LIST_URL, {"page": 2})

    # then
    assert len(first.context["tasks"]) == 50
    assert len(second.context["tasks"]) == 10
    body = first.content.decode()
    assert customer.name in body
    assert f"/customers/{customer.pk}/" in body


def test_someone_without_the_task_permission_gets_403(client_for, user_without_role):
    response = client_for(user_without_role).get(LIST_URL)

    assert response.status_code == 403


# New ---------------------------------------------------------------------------------------------


def test_the_new_task_form_is_filled_in_from_a_customer_page(rep_client, rep):
    customer = CustomerFactory(owner=rep, name="Li Na")

    response = rep_client.get(
        NEW_URL, {"related_type": "customers.customer", "related_id": customer.pk}
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form["related_type"].value() == "customers.customer"
    assert form["related_id"].value() == customer.pk
    assert "Li Na" in response.content.decode()


def test_adding_a_task_about_a_deal_goes_back_to_the_page_that_asked(rep_client, rep, team):
    deal = DealFactory(owner=rep)

    response = rep_client.post(
        NEW_URL,
        {
            "title": "Send the quote",
            "kind": "quote",
            "priority": "high",
            "due_at": "2026-12-01T10:00",
            "remind_minutes_before": "60",
            "assignee": "",
            "related_type": "sales.deal",
            "related_id": str(deal.pk),
            "description": "With the discount",
            "next": f"/sales/deals/{deal.pk}/",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"/sales/deals/{deal.pk}/"
    task = Task.objects.get()
    assert (task.title, task.kind, task.priority, task.assignee, task.team) == (
        "Send the quote",
        "quote",
        "high",
        rep,
        team,
    )
    assert task.related_record == deal
    assert task.remind_minutes_before == 60


def test_an_outside_next_address_is_ignored(rep_client):
    response = rep_client.post(
        NEW_URL,
        {
            "title": "Call",
            "kind": "call",
            "priority": "normal",
            "remind_minutes_before": "30",
            "next": "https://evil.example.com/",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == detail_url(Task.objects.get())


def test_a_task_about_a_customer_of_another_team_is_refused_on_the_form(rep_client, other_team_rep):
    hidden = CustomerFactory(owner=other_team_rep)

    response = rep_client.post(
        NEW_URL,
        {
            "title": "Peek",
            "kind": "call",
            "priority": "normal",
            "remind_minutes_before": "30",
            "related_type": "customers.customer",
            "related_id": str(hidden.pk),
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["related_id"] == ["No such record."]
    assert not Task.objects.exists()


def test_a_record_number_without_its_kind_is_refused(rep_client):
    response = rep_client.post(
        NEW_URL,
        {
            "title": "Half",
            "kind": "call",
            "priority": "normal",
            "remind_minutes_before": "30",
            "related_id": "5",
        },
    )

    assert response.status_code == 200
    assert "related_type" in response.context["form"].errors


# Detail and edit ---------------------------------------------------------------------------------


def test_a_task_of_another_team_is_not_found(rep_client, other_team_rep, other_team):
    task = TaskFactory(assignee=other_team_rep, team=other_team)

    for url in (detail_url(task), f"{detail_url(task)}edit/"):
        assert rep_client.get(url).status_code == 404
    assert rep_client.post(f"{detail_url(task)}complete/").status_code == 404


def test_a_teammates_task_is_visible(rep_client, rep_teammate, team):
    task = TaskFactory(assignee=rep_teammate, team=team, title="Theirs")

    response = rep_client.get(detail_url(task))

    assert response.status_code == 200
    assert "Theirs" in response.content.decode()


def edit_data(task, **changes):
    data = {
        "title": task.title,
        "kind": task.kind,
        "status": task.status,
        "priority": task.priority,
        "due_at": "",
        "remind_minutes_before": str(task.remind_minutes_before),
        "assignee": str(task.assignee_id),
        "related_type": "",
        "related_id": "",
        "description": task.description,
        "version": str(task.version),
    }
    return {**data, **changes}


def test_editing_from_the_current_version_saves(rep_client, rep, team):
    task = TaskFactory(assignee=rep, team=team, title="Old")

    page = rep_client.get(f"{detail_url(task)}edit/")
    assert 'name="version" value="1"' in page.content.decode()
    response = rep_client.post(f"{detail_url(task)}edit/", edit_data(task, title="New"))

    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.version) == ("New", 2)


def test_editing_from_a_stale_version_answers_409_and_says_why(rep_client, rep, team):
    # given the task was saved by someone else after the rep opened it
    task = TaskFactory(assignee=rep, team=team, title="Theirs", version=2)

    # when the rep saves their change made from version 1
    response = rep_client.post(
        f"{detail_url(task)}edit/", edit_data(task, title="Mine", version="1")
    )

    # then
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    task.refresh_from_db()
    assert (task.title, task.version) == ("Theirs", 2)


# Complete, reopen, delete ------------------------------------------------------------------------


def test_completing_from_the_list_with_htmx_returns_the_row(rep_client, rep, team):
    task = TaskFactory(assignee=rep, team=team, title="Call")

    response = rep_client.post(f"{detail_url(task)}complete/", {"next": LIST_URL}, **HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="task-{task.pk}"')
    assert "Reopen" in body
    task.refresh_from_db()
    assert task.status == Task.Status.DONE
    assert task.completed_at is not None


def test_completing_and_reopening_with_a_plain_form_goes_back(rep_client, rep, team):
    task = TaskFactory(assignee=rep, team=team)

    done = rep_client.post(f"{detail_url(task)}complete/")
    assert done.status_code == 302
    assert done["Location"] == detail_url(task)

    reopened = rep_client.post(f"{detail_url(task)}reopen/", {"next": "/sales/my-day/"})
    assert reopened["Location"] == "/sales/my-day/"
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN


def test_completing_needs_a_post(rep_client, rep, team):
    task = TaskFactory(assignee=rep, team=team)

    assert rep_client.get(f"{detail_url(task)}complete/").status_code == 405


def test_a_rep_cannot_delete_a_task_but_a_manager_can(rep_client, client_for, manager, rep, team):
    task = TaskFactory(assignee=rep, team=team)

    assert rep_client.post(f"{detail_url(task)}delete/").status_code == 403
    manager_client = client_for(manager)
    assert manager_client.get(f"{detail_url(task)}delete/").status_code == 200
    response = manager_client.post(f"{detail_url(task)}delete/")

    assert response.status_code == 302
    assert not Task.objects.exists()
