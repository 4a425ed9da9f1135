"""The task board: the tasks of one person or team as columns by status.

The open columns hold every open task; the closed ones only those closed lately, so the board
shows what is going on rather than the whole history (the task list has that).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from collaboration.models import Task
from collaboration.selectors.tasks import task_list_visible, tasks_with_related
from crm.accounts.models import User
from crm.accounts.selectors import user_team_ids

BOARD_SCOPES = ("mine", "team")
BOARD_STATUSES = (
    Task.Status.OPEN,
    Task.Status.IN_PROGRESS,
    Task.Status.DONE,
    Task.Status.CANCELLED,
)
BOARD_CARDS_PER_COLUMN = 25
BOARD_RECENT_DAYS = 14

_CARD_ORDER = {
    Task.Status.OPEN: (F("due_at").asc(nulls_last=True), "id"),
    Task.Status.IN_PROGRESS: (F("due_at").asc(nulls_last=True), "id"),
    Task.Status.DONE: ("-completed_at", "-id"),
    Task.Status.CANCELLED: ("-updated_at", "-id"),
}


@dataclass
class BoardColumn:
    status: str
    label: str
    count: int
    cards: list[Task]

    @property
    def has_more(self) -> bool:
        return self.count > len(self.cards)


def _on_board(*, now: datetime) -> Q:
    since = now - timedelta(days=BOARD_RECENT_DAYS)
    return (
        Q(status__in=Task.OPEN_STATUSES)
        | Q(status=Task.Status.DONE, completed_at__gte=since)
        # A cancelled task has no completion time; its last change is when it was cancelled.
        | Q(status=Task.Status.CANCELLED, updated_at__gte=since)
    )


def task_board_tasks(
    *, user: User, scope: str, team_id: int | None = None, now: datetime | None = None
) -> QuerySet[Task]:
    """The tasks on the board that `user` may see: theirs ("mine"), or their teams' ("team",
    one team when `team_id` is given)."""
    tasks = task_list_visible(user=user).filter(_on_board(now=now or timezone.now()))
    if scope == "team":
        team_ids = {team_id} if team_id is not None else user_team_ids(user)
        return tasks.filter(team_id__in=team_ids)
    return tasks.filter(assignee=user)


def task_board_counts(*, tasks: QuerySet[Task]) -> dict[str, int]:
    """How many of `tasks` are in each column, in one grouped query."""
    counts = dict.fromkeys(BOARD_STATUSES, 0)
    rows = tasks.order_by().values("status").annotate(count=Count("id"))
    counts.update({row["status"]: row["count"] for row in rows})
    return counts


def task_board_columns(*, tasks: QuerySet[Task]) -> list[BoardColumn]:
    """The board's columns with their counts and first cards (each card's record attached)."""
    counts = task_board_counts(tasks=tasks)
    cards = {
        status: list(
            tasks.filter(status=status).order_by(*_CARD_ORDER[status])[:BOARD_CARDS_PER_COLUMN]
        )
        if counts[status]
        else []
        for status in BOARD_STATUSES
    }
    tasks_with_related([card for column in cards.values() for card in column])
    return [
        BoardColumn(
            status=status,
            label=Task.Status(status).label,
            count=counts[status],
            cards=cards[status],
        )
        for status in BOARD_STATUSES
    ]
