"""The ticket queues agents work from (mine, my teams', unassigned, breaching soon, all), the
filters and sorts the ticket list offers, and how many tickets each queue holds. Every queue is a
narrowing of `ticket_list_visible`, so no queue shows a ticket its reader may not see."""

from datetime import datetime, timedelta

import django_filters
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.accounts.field_security import field_access
from crm.accounts.models import Team, User
from crm.accounts.selectors import user_team_ids
from service.models import Ticket, TicketCategory
from service.selectors.tickets import ticket_list_visible
from service.services.tickets import PRIORITY_ORDER

QUEUE_MINE = "mine"
QUEUE_TEAM = "team"
QUEUE_UNASSIGNED = "unassigned"
QUEUE_BREACHING = "breaching"
QUEUE_ALL = "all"
QUEUES = {
    QUEUE_MINE: _("My tickets"),
    QUEUE_TEAM: _("My team's"),
    QUEUE_UNASSIGNED: _("Unassigned"),
    QUEUE_BREACHING: _("Breaching soon"),
    QUEUE_ALL: _("All"),
}
DEFAULT_QUEUE = QUEUE_MINE
# How far ahead the "breaching soon" queue looks; tickets already past a due time are in it too.
BREACHING_WINDOW = timedelta(hours=2)

SORT_NEWEST = "newest"
SORT_DUE = "due"
SORT_PRIORITY = "priority"
SORTS = {
    SORT_NEWEST: _("Newest first"),
    SORT_DUE: _("Due soonest first"),
    SORT_PRIORITY: _("Highest priority first"),
}
DEFAULT_SORT = SORT_NEWEST


def breaching_condition(*, now: datetime) -> Q:
    """Open tickets, not paused on the customer, whose first response (not yet given) or
    resolution is due within BREACHING_WINDOW or already overdue."""
    horizon = now + BREACHING_WINDOW
    response_due = Q(first_responded_at__isnull=True, first_response_due_at__lte=horizon)
    resolution_due = Q(resolution_due_at__lte=horizon)
    return Q(status__in=Ticket.OPEN_STATUSES, sla_paused_at__isnull=True) & (
        response_due | resolution_due
    )


def _queue_conditions(*, user: User, now: datetime) -> dict[str, Q]:
    team_ids = user_team_ids(user)
    return {
        QUEUE_MINE: Q(assignee_id=user.pk),
        QUEUE_TEAM: Q(team_id__in=team_ids),
        QUEUE_UNASSIGNED: Q(assignee__isnull=True, team_id__in=team_ids),
        QUEUE_BREACHING: breaching_condition(now=now),
        QUEUE_ALL: Q(),
    }


def ticket_queue(*, user: User, queue: str, now: datetime | None = None) -> QuerySet[Ticket]:
    """The tickets of `queue` that `user` may see; an unknown queue is the default one."""
    conditions = _queue_conditions(user=user, now=now or timezone.now())
    return ticket_list_visible(user=user).filter(conditions.get(queue, conditions[DEFAULT_QUEUE]))


def ticket_queue_counts(*, user: User, now: datetime | None = None) -> dict[str, int]:
    """How many visible tickets each queue holds, counting only open ones except in "all":
    one query."""
    conditions = _queue_conditions(user=user, now=now or timezone.now())
    open_only = Q(status__in=Ticket.OPEN_STATUSES)
    aggregates = {
        key: Count("pk", filter=condition & open_only if key != QUEUE_ALL else condition)
        for key, condition in conditions.items()
    }
    visible = ticket_list_visible(user=user).select_related(None).order_by()
    return visible.aggregate(**aggregates)


def ticket_sorts_visible(*, user: User) -> dict:
    """SORTS without the priority sort when the priority is hidden from `user`."""
    if field_access(user=user, model=Ticket).can_see("priority"):
        return SORTS
    return {key: label for key, label in SORTS.items() if key != SORT_PRIORITY}


def tickets_sorted(*, tickets: QuerySet[Ticket], sort: str) -> QuerySet[Ticket]:
    if sort == SORT_DUE:
        # The next due time: the first response while none was given, else the resolution.
        next_due = Case(
            When(
                first_responded_at__isnull=True,
                first_response_due_at__isnull=False,
                then=F("first_response_due_at"),
            ),
            default=F("resolution_due_at"),
        )
        return tickets.alias(next_due=next_due).order_by(
            F("next_due").asc(nulls_last=True), "-created_at", "-pk"
        )
    if sort == SORT_PRIORITY:
        rank = Case(
            *(
                When(priority=value, then=Value(index))
                for index, value in enumerate(PRIORITY_ORDER)
            ),
            default=Value(0),
            output_field=IntegerField(),
        )
        return tickets.alias(priority_rank=rank).order_by("-priority_rank", "-created_at", "-pk")
    return tickets.order_by("-created_at", "-pk")


class TicketFilter(django_filters.FilterSet):
    """The filters the ticket list offers on top of its queues."""

    q = django_filters.CharFilter(method="filter_text", label=_("Search"))
    status = django_filters.ChoiceFilter(choices=Ticket.Status.choices, label=_("Status"))
    priority = django_filters.ChoiceFilter(choices=Ticket.Priority.choices, label=_("Priority"))
    type = django_filters.ChoiceFilter(choices=Ticket.Type.choices, label=_("Type"))
    channel = django_filters.ChoiceFilter(choices=Ticket.Channel.choices, label=_("Channel"))
    category = django_filters.ModelChoiceFilter(
        queryset=TicketCategory.objects.all(), label=_("Category")
    )
    assignee = django_filters.ModelChoiceFilter(
        queryset=User.objects.filter(is_active=True).order_by("username"), label=_("Assignee")
    )
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.order_by("name"), label=_("Team"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))

    # The fields hidden from the user, set by crm.accounts.field_security.filterset_drop_hidden.
    hidden_fields: frozenset[str] = frozenset()

    class Meta:
        model = Ticket
        fields: list[str] = []

    def filter_text(self, queryset, name, value):
        """A ticket number, or part of the subject (when the user may see it) or the
        customer's name."""
        value = value.strip()
        if not value:
            return queryset
        condition = Q(number__iexact=value) | Q(customer__name__icontains=value)
        if "subject" not in self.hidden_fields:
            condition |= Q(subject__icontains=value)
        return queryset.filter(condition)
