"""Reads of follow-up tasks, every one through the visibility rule (a task is its assignee's).

A task points at its record generically ("customers.customer" 42), so this app needs none of the
apps whose records it links to; `TASK_RELATED_TYPES` names the kinds of record a task may be
about and the page each one opens on.
"""

import functools
from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Model,
    Q,
    QuerySet,
    Value,
    prefetch_related_objects,
)
from django.db.models.functions import Cast
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collaboration.models import Task
from crm.accounts.models import Team, User
from crm.accounts.selectors import (
    records_visible_to,
    user_is_admin,
    user_list_active,
    user_team_ids,
)

# "app_label.model" of each kind of record a task may be about -> the URL name of its page.
TASK_RELATED_TYPES: dict[str, str] = {
    "customers.customer": "customers:customer_detail",
    "sales.deal": "sales:deal_detail",
    "service.ticket": "service:ticket_detail",
}

# A reminder further ahead than four weeks is a second task, not a reminder.
MAX_REMIND_MINUTES = 4 * 7 * 24 * 60

TASK_TABS = ("mine", "today", "overdue", "upcoming", "team", "all")
TASK_TAB_LABELS = {
    "mine": _("My open tasks"),
    "today": _("Due today"),
    "overdue": _("Overdue"),
    "upcoming": _("Upcoming"),
    "team": _("My teams' open tasks"),
    "all": _("All I can see"),
}


# Related records ---------------------------------------------------------------------------------


def content_type_label(content_type: ContentType) -> str:
    return f"{content_type.app_label}.{content_type.model}"


def related_content_type(label: str) -> ContentType | None:
    """The content type of a kind of record tasks may link to ("sales.deal"), when installed."""
    label = (label or "").strip().lower()
    if label not in TASK_RELATED_TYPES:
        return None
    app_label, _dot, model = label.partition(".")
    try:
        content_type = ContentType.objects.get_by_natural_key(app_label, model)
    except ContentType.DoesNotExist:
        return None
    return content_type if content_type.model_class() is not None else None


def related_type_choices() -> list[tuple[str, str]]:
    """The kinds of record a task may be about, as (label, name) for a form's select."""
    choices = []
    for label in TASK_RELATED_TYPES:
        content_type = related_content_type(label)
        if content_type is not None:
            model = content_type.model_class()
            choices.append((label, str(model._meta.verbose_name).capitalize()))
    return choices


def related_record_visible(
    *, user: User | None, content_type: ContentType, record_id: int
) -> Model | None:
    """The record, when it exists and `user` may see it (no user: the system, sees all)."""
    model = content_type.model_class()
    if model is None:
        return None
    records = model._default_manager.filter(pk=record_id)
    if user is not None:
        records = records_visible_to(user=user, queryset=records)
    return records.first()


def related_url(content_type: ContentType | None, record_id: int | None) -> str:
    if content_type is None or record_id is None:
        return ""
    url_name = TASK_RELATED_TYPES.get(content_type_label(content_type))
    if url_name is None:
        return ""
    try:
        return reverse(url_name, args=[record_id])
    except NoReverseMatch:
        return ""


def tasks_with_related(tasks: list[Task]) -> list[Task]:
    """Attach each task's record (`related_record`) and the address of its page
    (`related_link`), one query per kind of record."""
    prefetch_related_objects(tasks, "related_record")
    for task in tasks:
        task.related_link = related_url(task.related_type, task.related_id)
    return tasks


# Time ranges -------------------------------------------------------------------------------------


def start_of_day(day: date) -> datetime:
    """Midnight at the start of `day` in the current time zone (the user's, on a page)."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def today_range(*, now: datetime | None = None) -> tuple[datetime, datetime]:
    today = timezone.localdate(now or timezone.now())
    return start_of_day(today), start_of_day(today + timedelta(days=1))


def open_condition() -> Q:
    return Q(status__in=Task.OPEN_STATUSES)


def overdue_condition(*, now: datetime | None = None) -> Q:
    return open_condition() & Q(due_at__lt=now or timezone.now())


# Lists -------------------------------------------------------------------------------------------


def task_list_visible(*, user: User) -> QuerySet[Task]:
    tasks = records_visible_to(user=user, queryset=Task.objects.all())
    return tasks.select_related("assignee", "team", "related_type", "created_by").order_by(
        F("due_at").asc(nulls_last=True), "id"
    )


def task_get_visible(*, user: User, pk: int) -> Task:
    """The task if `user` may see it; Task.DoesNotExist otherwise."""
    return task_list_visible(user=user).get(pk=pk)


def task_list_tab(*, user: User, tab: str, now: datetime | None = None) -> QuerySet[Task]:
    """The tasks of one tab of the task list. The personal tabs hold the user's open tasks; "team"
    the open tasks of their teams; "all" every task they may see, whatever its status."""
    now = now or timezone.now()
    tasks = task_list_visible(user=user)
    if tab == "all":
        return tasks
    if tab == "team":
        return tasks.filter(open_condition(), team_id__in=user_team_ids(user))
    mine = tasks.filter(open_condition(), assignee=user)
    start, end = today_range(now=now)
    if tab == "today":
        return mine.filter(due_at__gte=start, due_at__lt=end)
    if tab == "overdue":
        return mine.filter(due_at__lt=now)
    if tab == "upcoming":
        return mine.filter(due_at__gte=end)
    return mine


def tasks_for_record(*, record: Model, user: User) -> QuerySet[Task]:
    """The tasks about `record` that `user` may see, open ones first, soonest due first."""
    content_type = ContentType.objects.get_for_model(record)
    return (
        task_list_visible(user=user)
        .filter(related_type=content_type, related_id=record.pk)
        .order_by("completed_at", F("due_at").asc(nulls_last=True), "id")
    )


def task_count_open_assigned(*, user: User) -> int:
    return Task.objects.filter(open_condition(), assignee=user).count()


def tasks_due_today_and_overdue(*, user: User, now: datetime | None = None) -> QuerySet[Task]:
    """The user's open tasks due before the end of today, the overdue ones first."""
    _start, end = today_range(now=now)
    return task_list_visible(user=user).filter(open_condition(), assignee=user, due_at__lt=end)


def task_teams_for(*, user: User) -> QuerySet[Team]:
    """The teams whose tasks `user` may pick to look at: their own (an admin, every team)."""
    teams = Team.objects.order_by("name")
    return teams if user_is_admin(user) else teams.filter(pk__in=user_team_ids(user))


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class TaskFilter(django_filters.FilterSet):
    """The filters the task list page and the API share."""

    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(choices=Task.Status.choices, label=_("Status"))
    priority = django_filters.ChoiceFilter(choices=Task.Priority.choices, label=_("Priority"))
    kind = django_filters.ChoiceFilter(choices=Task.Kind.choices, label=_("Kind"))
    assignee = django_filters.NumberFilter(field_name="assignee_id", label=_("Assignee"))
    team = django_filters.NumberFilter(field_name="team_id", label=_("Team"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("Assigned to me"))
    my_teams = django_filters.BooleanFilter(method="filter_my_teams", label=_("In my teams"))
    open = django_filters.BooleanFilter(method="filter_open", label=_("Open"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"))
    due_today = django_filters.BooleanFilter(method="filter_due_today", label=_("Due today"))
    due_from = django_filters.DateFilter(
        method="filter_due_from", label=_("Due from"), widget=DATE_INPUT
    )
    due_to = django_filters.DateFilter(method="filter_due_to", label=_("Due to"), widget=DATE_INPUT)
    related_type = django_filters.CharFilter(
        method="filter_related_type", label=_("Related record type, e.g. sales.deal")
    )
    related_id = django_filters.NumberFilter(field_name="related_id", label=_("Related record id"))

    class Meta:
        model = Task
        fields = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The page shows assignee and team as selects; their options are read only when the
        # form is drawn, so the API (which takes ids) pays no query for them, and once (a select
        # reads its options twice).
        self.filters["assignee"].extra["widget"] = forms.Select(
            choices=functools.cache(
                lambda: [("", _("Anyone")), *((u.pk, str(u)) for u in user_list_active())]
            )
        )
        self.filters["team"].extra["widget"] = forms.Select(
            choices=functools.cache(
                lambda: [
                    ("", _("Any team")),
                    *((team.pk, team.name) for team in task_teams_for(user=self._user())),
                ]
            )
        )

    def _user(self) -> User:
        return self.request.user

    def filter_search(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))

    def filter_mine(self, queryset, name, value):
        if value is None:
            return queryset
        mine = Q(assignee=self._user())
        return queryset.filter(mine) if value else queryset.exclude(mine)

    def filter_my_teams(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(team_id__in=user_team_ids(self._user()))

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(open_condition()) if value else queryset.exclude(open_condition())

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        condition = overdue_condition()
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_due_today(self, queryset, name, value):
        if not value:
            return queryset
        start, end = today_range()
        return queryset.filter(due_at__gte=start, due_at__lt=end)

    def filter_due_from(self, queryset, name, value):
        return queryset.filter(due_at__gte=start_of_day(value))

    def filter_due_to(self, queryset, name, value):
        # Whole days: a task due any time on `due_to` is in.
        return queryset.filter(due_at__lt=start_of_day(value + timedelta(days=1)))

    def filter_related_type(self, queryset, name, value):
        if not value:
            return queryset
        content_type = related_content_type(value)
        if content_type is None:
            return queryset.none()
        return queryset.filter(related_type=content_type)


# Reminders and overdue notices (read by the services that send them) ----------------------------


def _reminder_time():
    # When the reminder is due: the due time less the lead time the task asks for.
    # Cast: SQLite multiplies a duration by an IntegerField only, not a PositiveIntegerField.
    lead_time = ExpressionWrapper(
        Cast("remind_minutes_before", IntegerField()) * Value(timedelta(minutes=1)),
        output_field=DurationField(),
    )
    return ExpressionWrapper(F("due_at") - lead_time, output_field=DateTimeField())


def tasks_reminder_due(*, now: datetime) -> QuerySet[Task]:
    """Open, assigned tasks whose reminder time has come and whose reminder has not gone out."""
    return (
        Task.objects.filter(
            open_condition(),
            assignee__isnull=False,
            # No reminder is set further ahead, so the (status, due_at) index bounds the scan.
            due_at__lte=now + timedelta(minutes=MAX_REMIND_MINUTES),
            remind_minutes_before__gt=0,
            reminded_at__isnull=True,
        )
        .alias(remind_at=_reminder_time())
        .filter(remind_at__lte=now)
        .select_related("assignee")
    )


def tasks_overdue_unnotified(*, now: datetime) -> QuerySet[Task]:
    """Open, assigned tasks past their due time whose assignee has not been told yet."""
    return Task.objects.filter(
        overdue_condition(now=now),
        assignee__isnull=False,
        overdue_notified_at__isnull=True,
    ).select_related("assignee")
