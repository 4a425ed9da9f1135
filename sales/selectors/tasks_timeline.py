"""A customer's tasks on the customer 360 page: the timeline's "tasks" source and the "Tasks" box.

A customer's tasks are those about the customer or about any of the customer's deals, which
only sales can tell (neither customers nor collaboration may know about deals), so both are
registered in SalesConfig.ready()."""

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Min, Q, QuerySet
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from collaboration.models import Task
from collaboration.selectors.tasks import open_condition, task_list_visible
from crm.accounts.models import User
from customers.models import Customer
from customers.registry import TimelineEntry
from sales.models import Deal


def customer_tasks_visible(*, customer: Customer, user: User) -> QuerySet[Task]:
    """The tasks about the customer or about one of the customer's deals that `user` may see."""
    customer_type = ContentType.objects.get_for_model(Customer)
    deal_type = ContentType.objects.get_for_model(Deal)
    return task_list_visible(user=user).filter(
        Q(related_type=customer_type, related_id=customer.pk)
        | Q(
            related_type=deal_type,
            related_id__in=Deal.objects.filter(customer=customer).values("pk"),
        )
    )


def customer_task_summary(*, customer: Customer, user: User) -> tuple[int, datetime | None]:
    """How many of those tasks are open, and when the first of them is due (one query)."""
    summary = (
        customer_tasks_visible(customer=customer, user=user)
        .filter(open_condition())
        .order_by()
        .aggregate(count=Count("pk"), next_due=Min("due_at"))
    )
    return summary["count"], summary["next_due"]


def task_timeline_entries(
    customer: Customer, user: User, before: datetime | None, limit: int
) -> list[TimelineEntry]:
    tasks = customer_tasks_visible(customer=customer, user=user)
    if before is not None:
        tasks = tasks.filter(created_at__lt=before)
    entries = []
    for task in tasks.order_by("-created_at", "-id")[:limit]:
        badges = [task.get_kind_display(), task.get_status_display()]
        if task.due_at:
            due = formats.date_format(timezone.localtime(task.due_at), "SHORT_DATETIME_FORMAT")
            badges.append(_("Due %(when)s") % {"when": due})
        entries.append(
            TimelineEntry(
                at=task.created_at,
                kind="task",
                title=task.title,
                body=task.description,
                url=reverse("collaboration:task_detail", args=[task.pk]),
                actor=str(task.assignee) if task.assignee else "",
                badges=tuple(badges),
                sort_key=f"{task.pk:012d}",
            )
        )
    return entries
