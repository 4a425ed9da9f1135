"""Reads of the comments on a task: a comment is visible exactly when its task is."""

from django.db.models import QuerySet

from collaboration.models import Task, TaskComment
from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to


def task_comment_list_visible(*, user: User) -> QuerySet[TaskComment]:
    comments = records_visible_to(user=user, queryset=TaskComment.objects.all())
    return comments.select_related("author").order_by("created_at", "id")


def task_comments_for(*, user: User, task: Task) -> QuerySet[TaskComment]:
    """The comments on `task`, oldest first; none when `user` may not see the task."""
    return task_comment_list_visible(user=user).filter(task=task)


def task_comment_get_visible(*, user: User, pk: int) -> TaskComment:
    """The comment if `user` may see its task; TaskComment.DoesNotExist otherwise."""
    return task_comment_list_visible(user=user).select_related("task").get(pk=pk)
