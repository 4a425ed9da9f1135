"""The rep's "My day" page, the home page's "My open tasks" panel, and a customer's tasks on the
customer 360 page (the "tasks" timeline source and the "Tasks" box)."""

from datetime import date, datetime, time, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from collaboration.models import Task
from customers.selectors.timeline import customer_timeline
from customers.services.merge import customer_merge
from sales.models import Deal, Stage
from sales.selectors.myday import month_range
from tests.collaboration.factories import TaskFactory
from tests.customers.factories import CustomerFactory, InteractionFactory
from tests.sales.factories import DealFactory

pytestmark = pytest.mark.django_db

MY_DAY = "/sales/my-day/"


def customer_type():
    return ContentType.objects.get(app_label="customers", model="customer")


def deal_type():
    return ContentType.objects.get_for_model(Deal)


def end_of_today():
    tomorrow = timezone.localdate() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(tomorrow, time.min))


def open_stage():
    return Stage.objects.filter(pipeline__is_default=True, kind=Stage.Kind.OPEN).first()


def won_stage():
    return Stage.objects.get(pipeline__is_default=True, kind=Stage.Kind.WON)


# My day ------------------------------------------------------------------------------------------


def test_my_day_lists_the_reps_overdue_and_todays_tasks(rep_client, rep, team, rep_teammate):
    # given the rep's tasks: late, later today, tomorrow, done; and a teammate's task due today
    now = timezone.now()
    end = end_of_today()
    TaskFactory(assignee=rep, team=team, title="Late", due_at=now - timedelta(days=2))
    TaskFactory(assignee=rep, team=team, title="Later today", due_at=now + (end - now) / 2)
    TaskFactory(assignee=rep, team=team, title="Tomorrow", due_at=end + timedelta(hours=2))
    TaskFactory(
        assignee=rep,
        team=team,
        title="Done",
        due_at=now - timedelta(hours=1),
        status=Task.Status.DONE,
        completed_at=now,
    )
    TaskFactory(assignee=rep_teammate, team=team, title="Teammate's", due_at=now)

    # when
    response = rep_client.get(MY_DAY)

    # then
    assert response.status_code == 200
    tasks = response.context["tasks"]
    assert [task.title for task in tasks.overdue] == ["Late"]
    assert [task.title for task in tasks.today] == ["Later today"]
    assert not tasks.has_more
    body = response.content.decode()
    assert "Tomorrow" not in body
    assert "Teammate&#x27;s" not in body


def test_my_day_lists_the_open_deals_the_rep_owns_closing_this_month(rep_client, rep, rep_teammate):
    # given deals closing this month (open, owned by the rep or not, won), and next month
    first, last = month_range(timezone.localdate())
    DealFactory(owner=rep, name="This month", expected_close_date=last, stage=open_stage())
    DealFactory(owner=rep, name="Sooner", expected_close_date=first, stage=open_stage())
    DealFactory(owner=rep, name="Next month", expected_close_date=last + timedelta(days=1))
    DealFactory(owner=rep, name="Won", expected_close_date=first, stage=won_stage())
    DealFactory(owner=rep_teammate, name="Teammate's", expected_close_date=first)

    response = rep_client.get(MY_DAY)

    assert [deal.name for deal in response.context["deals"]] == ["Sooner", "This month"]


def test_my_day_shows_the_latest_ten_contacts_with_the_reps_customers(
    rep_client, rep, rep_teammate
):
    mine = CustomerFactory(owner=rep, name="Mine")
    teammates = CustomerFactory(owner=rep_teammate, name="Teammate's customer")
    now = timezone.now()
    for hours in range(12):
        InteractionFactory(
            customer=mine, subject=f"Call {hours}", occurred_at=now - timedelta(hours=hours)
        )
    InteractionFactory(customer=teammates, subject="Not mine", occurred_at=now)

    response = rep_client.get(MY_DAY)

    assert [i.subject for i in response.context["activity"]] == [f"Call {h}" for h in range(10)]


def test_my_days_queries_are_bounded(client_for, rep, team, django_assert_max_num_queries):
    # given plenty of everything
    customer = CustomerFactory(owner=rep)
    deal = DealFactory(
        owner=rep, customer=customer, expected_close_date=timezone.localdate(), stage=open_stage()
    )
    now = timezone.now()
    TaskFactory.create_batch(
        20,
        assignee=rep,
        team=team,
        due_at=now - timedelta(hours=1),
        related_type=customer_type(),
        related_id=customer.pk,
    )
    TaskFactory.create_batch(
        20,
        assignee=rep,
        team=team,
        due_at=now - timedelta(hours=2),
        related_type=deal_type(),
        related_id=deal.pk,
    )
    DealFactory.create_batch(15, owner=rep, expected_close_date=timezone.localdate())
    InteractionFactory.create_batch(15, customer=customer)
    client = client_for(rep)
    client.get(MY_DAY)

    # when  # then
    with django_assert_max_num_queries(14):
        response = client.get(MY_DAY)
    assert len(response.context["tasks"].overdue) == 40


def test_my_day_offers_no_deals_or_contacts_to_someone_without_those_permissions(client_for, rep):
    rep.groups.clear()
    rep.user_permissions.add(Permission.objects.get(codename="view_task"))

    response = client_for(rep).get(MY_DAY)

    assert response.status_code == 200
    assert response.context["deals"] is None
    assert response.context["activity"] is None


def test_completing_a_task_from_my_day_comes_back_to_it(rep_client, rep, team):
    task = TaskFactory(assignee=rep, team=team, due_at=timezone.now() - timedelta(hours=1))

    page = rep_client.get(MY_DAY)
    assert f"/collaboration/tasks/{task.pk}/complete/" in page.content.decode()
    response = rep_client.post(f"/collaboration/tasks/{task.pk}/complete/", {"next": MY_DAY})

    assert response["Location"] == MY_DAY
    task.refresh_from_db()
    assert task.status == Task.Status.DONE


# Home panel --------------------------------------------------------------------------------------


def test_the_home_page_counts_the_reps_open_tasks(rep_client, rep, team, rep_teammate):
    TaskFactory.create_batch(3, assignee=rep, team=team)
    TaskFactory(assignee=rep, team=team, status=Task.Status.CANCELLED)
    TaskFactory(assignee=rep_teammate, team=team)

    response = rep_client.get("/")

    panel = next(p for p in response.context["panels"] if p.title == "My open tasks")
    assert panel.figure == "3"
    assert panel.url == "/collaboration/tasks/"


# The customer 360 page ---------------------------------------------------------------------------


def test_the_timeline_shows_the_tasks_about_the_customer_and_its_deals(
    rep, team, other_team_rep, other_team
):
    # given tasks about the customer, about one of its deals, about another customer, and a
    # task about the customer that the rep may not see
    customer = CustomerFactory(owner=rep)
    deal = DealFactory(owner=rep, customer=customer)
    elsewhere = CustomerFactory(owner=rep)
    now = timezone.now()

    def task(title, related_type, related_id, days_ago, **kwargs):
        made = TaskFactory(title=title, related_type=related_type, related_id=related_id, **kwargs)
        Task.objects.filter(pk=made.pk).update(created_at=now - timedelta(days=days_ago))

    task("About the customer", customer_type(), customer.pk, 2, assignee=rep, team=team)
    task("About the deal", deal_type(), deal.pk, 1, assignee=rep, team=team)
    task("About someone else", customer_type(), elsewhere.pk, 0, assignee=rep, team=team)
    task(
        "Hidden",
        customer_type(),
        customer.pk,
        0,
        assignee=other_team_rep,
        team=other_team,
    )

    # when
    page = customer_timeline(customer=customer, user=rep)

    # then newest first, by when the task was created
    entries = [entry for entry in page.entries if entry.kind == "task"]
    assert [entry.title for entry in entries] == ["About the deal", "About the customer"]
    assert entries[0].url.startswith("/collaboration/tasks/")


def test_the_timeline_pages_through_tasks(rep, team):
    customer = CustomerFactory(owner=rep)
    now = timezone.now()
    for number in range(5):
        made = TaskFactory(
            title=f"Task {number}",
            assignee=rep,
            team=team,
            related_type=customer_type(),
            related_id=customer.pk,
        )
        Task.objects.filter(pk=made.pk).update(created_at=now - timedelta(hours=number))

    first = customer_timeline(customer=customer, user=rep, limit=3)
    second = customer_timeline(customer=customer, user=rep, before=first.next_cursor, limit=3)

    titles = [entry.title for entry in first.entries + second.entries if entry.kind == "task"]
    assert titles == [f"Task {number}" for number in range(5)]


def test_the_customer_page_has_a_tasks_box_with_a_link_to_a_new_task(rep_client, rep, team):
    customer = CustomerFactory(owner=rep)
    TaskFactory(
        assignee=rep,
        team=team,
        title="Call back",
        due_at=timezone.now() + timedelta(days=1),
        related_type=customer_type(),
        related_id=customer.pk,
    )

    response = rep_client.get(f"/customers/{customer.pk}/")

    body = response.content.decode()
    assert '<dt class="col-6">Open tasks</dt><dd class="col-6">1</dd>' in body
    assert "Next due" in body
    assert (
        f"/collaboration/tasks/new/?related_type=customers.customer&amp;related_id={customer.pk}"
        in body
    )


def test_month_range():
    assert month_range(date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_range(date(2026, 12, 31)) == (date(2026, 12, 1), date(2026, 12, 31))


def test_merging_a_customer_moves_its_tasks_to_the_customer_kept(manager, rep, team):
    kept = CustomerFactory(owner=rep, team=team)
    merged = CustomerFactory(owner=rep, team=team)
    task = TaskFactory(assignee=rep, team=team, related_type=customer_type(), related_id=merged.pk)

    merge = customer_merge(actor=manager, kept=kept, merged=merged)

    task.refresh_from_db()
    assert task.related_id == kept.pk
    assert task.version == 2
    assert merge.moved_rows["tasks"] == 1
