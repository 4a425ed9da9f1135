"""Reads of a rep's "My day" page: their tasks due today or late, the deals they own that should
close this month, and the latest contacts with the customers they own. Each list is one bounded
query through the visibility rule, so the page costs the same however busy the rep is."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from collaboration.models import Task
from collaboration.selectors.tasks import tasks_due_today_and_overdue, tasks_with_related
from crm.accounts.models import User
from customers.models import Interaction
from customers.selectors.records import interaction_list_visible
from sales.models import Deal, Stage
from sales.selectors.deals import deal_list_visible

MY_DAY_TASK_LIMIT = 50
MY_DAY_DEAL_LIMIT = 20
MY_DAY_ACTIVITY_LIMIT = 10


@dataclass(frozen=True)
class MyDayTasks:
    overdue: list[Task]
    today: list[Task]
    # More tasks are due than the page lists; the task list has them all.
    has_more: bool


def my_day_tasks(
    *, user: User, now: datetime | None = None, limit: int = MY_DAY_TASK_LIMIT
) -> MyDayTasks:
    now = now or timezone.now()
    rows = list(tasks_due_today_and_overdue(user=user, now=now)[: limit + 1])
    shown = tasks_with_related(rows[:limit])
    return MyDayTasks(
        overdue=[task for task in shown if task.due_at < now],
        today=[task for task in shown if task.due_at >= now],
        has_more=len(rows) > limit,
    )


def month_range(day: date) -> tuple[date, date]:
    """The first and the last day of `day`'s month."""
    first = day.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    return first, next_month - timedelta(days=1)


def deals_closing_this_month(
    *, user: User, today: date | None = None, limit: int = MY_DAY_DEAL_LIMIT
) -> QuerySet[Deal]:
    """The open deals `user` owns that are expected to close this month, soonest first."""
    first, last = month_range(today or timezone.localdate())
    return (
        deal_list_visible(user=user)
        .filter(
            owner=user,
            stage__kind=Stage.Kind.OPEN,
            expected_close_date__gte=first,
            expected_close_date__lte=last,
        )
        .order_by("expected_close_date", "-amount", "id")[:limit]
    )


def customer_activity_recent(
    *, user: User, limit: int = MY_DAY_ACTIVITY_LIMIT
) -> QuerySet[Interaction]:
    """The latest contacts with the customers `user` owns, whoever handled them."""
    return interaction_list_visible(user=user).filter(customer__owner=user)[:limit]
