"""The rep's "My day" page (their tasks due today or late, the deals they should close this month,
the latest contacts with their customers), the home page's "My open tasks" panel and the "Tasks"
box on a customer's page."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from collaboration.selectors.tasks import task_count_open_assigned
from crm.home import HomeEntry, HomeList, HomePanel
from customers.models import Customer
from customers.registry import ProfilePanel
from sales.selectors import myday as selectors
from sales.selectors.tasks_timeline import customer_task_summary

# How many lines each of the home page's lists shows.
HOME_LIST_LIMIT = 5


@login_required
@permission_required("collaboration.view_task", raise_exception=True)
def my_day(request: HttpRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    deals = None
    if user.has_perm("sales.view_deal"):
        deals = list(selectors.deals_closing_this_month(user=user, today=timezone.localdate(now)))
    activity = None
    if user.has_perm("customers.view_interaction"):
        activity = list(selectors.customer_activity_recent(user=user))
    return render(
        request,
        "sales/my_day.html",
        {
            "tasks": selectors.my_day_tasks(user=user, now=now),
            "deals": deals,
            "activity": activity,
            "now": now,
        },
    )


def my_open_tasks_panel(request: HttpRequest) -> HomePanel | None:
    if not request.user.has_perm("collaboration.view_task"):
        return None
    return HomePanel(
        title=_("My open tasks"),
        figure=str(task_count_open_assigned(user=request.user)),
        caption=_("open tasks assigned to you"),
        url=reverse("collaboration:task_list"),
    )


def my_tasks_today_panel(request: HttpRequest) -> HomeList | None:
    """The home page's list of the user's tasks that are late or due today, late ones first."""
    if not request.user.has_perm("collaboration.view_task"):
        return None
    now = timezone.now()
    tasks = selectors.my_day_tasks(user=request.user, now=now, limit=HOME_LIST_LIMIT)
    return HomeList(
        title=_("Today's tasks"),
        url=reverse("sales:my_day"),
        link_label=_("Open my day"),
        entries=tuple(
            HomeEntry(
                label=task.title,
                url=reverse("collaboration:task_detail", args=[task.pk]),
                note=formats.date_format(timezone.localtime(task.due_at), "SHORT_DATETIME_FORMAT"),
                urgent=task.due_at < now,
            )
            for task in [*tasks.overdue, *tasks.today]
        ),
        empty=_("Nothing due today."),
    )


def my_customers_contacts_panel(request: HttpRequest) -> HomeList | None:
    """The home page's list of the latest contacts with the user's customers."""
    if not request.user.has_perm("customers.view_interaction"):
        return None
    interactions = selectors.customer_activity_recent(user=request.user, limit=HOME_LIST_LIMIT)
    return HomeList(
        title=_("Recent activity"),
        url=reverse("sales:my_day"),
        link_label=_("Open my day"),
        entries=tuple(
            HomeEntry(
                label=interaction.customer.name,
                url=reverse("customers:customer_detail", args=[interaction.customer_id]),
                note=" · ".join(
                    part
                    for part in (
                        interaction.get_channel_display(),
                        interaction.subject,
                        formats.date_format(
                            timezone.localtime(interaction.occurred_at), "SHORT_DATE_FORMAT"
                        ),
                    )
                    if part
                ),
            )
            for interaction in interactions
        ),
        empty=_("No contacts with your customers yet."),
    )


def customer_tasks_panel(customer: Customer, user) -> ProfilePanel | None:
    """The "Tasks" box on the customer's page: open tasks about them or their deals."""
    if not user.has_perm("collaboration.view_task"):
        return None
    count, next_due = customer_task_summary(customer=customer, user=user)
    rows = [(_("Open tasks"), str(count))]
    if next_due is not None:
        due = formats.date_format(timezone.localtime(next_due), "SHORT_DATETIME_FORMAT")
        rows.append((_("Next due"), due))
    if user.has_perm("collaboration.add_task"):
        query = urlencode(
            {
                "related_type": "customers.customer",
                "related_id": customer.pk,
                "next": reverse("customers:customer_detail", args=[customer.pk]),
            }
        )
        url = f"{reverse('collaboration:task_create')}?{query}"
        rows.append(("", format_html('<a href="{}">{}</a>', url, _("New task"))))
    query = urlencode(
        {"tab": "all", "related_type": "customers.customer", "related_id": customer.pk}
    )
    return ProfilePanel(
        title=_("Tasks"), rows=rows, url=f"{reverse('collaboration:task_list')}?{query}"
    )


urlpatterns = [
    path("my-day/", my_day, name="my_day"),
]
