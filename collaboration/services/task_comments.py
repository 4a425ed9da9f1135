"""Commenting on a task: the comment, and the notices it sends.

The task's assignee and creator hear of a new comment; someone named in it as @username hears
of it as a mention instead (once, not twice), when they may see the task. The author is never
told about their own comment.
"""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from collaboration.models import Notification, Task, TaskComment
from collaboration.services.notifications import notification_send
from crm.accounts.models import User
from crm.accounts.selectors import record_is_visible_to, user_is_admin

MAX_COMMENT_LENGTH = 5000

# "@name" not preceded by a word character (so "bob@example.com" mentions nobody), ending on a
# character a sentence would not end with, so "@sam." mentions "sam".
MENTION_PATTERN = re.compile(r"(?<![\w@])@([\w.@+-]*[\w+-])")


def mentioned_usernames(body: str) -> set[str]:
    return set(MENTION_PATTERN.findall(body))


def _comment_url(comment: TaskComment) -> str:
    return f"{reverse('collaboration:task_detail', args=[comment.task_id])}#comment-{comment.pk}"


def _notify(comment: TaskComment, *, recipient: User, kind: str) -> None:
    # In the recipient's language, not the author's.
    with translation.override(recipient.language or translation.get_language()):
        values = {"author": comment.author, "title": comment.task.title}
        if kind == Notification.Kind.MENTION:
            title = _("%(author)s mentioned you on %(title)s") % values
        else:
            title = _("%(author)s commented on %(title)s") % values
        notification_send(
            recipient=recipient,
            kind=kind,
            title=title,
            body=comment.body[:1000],
            url=_comment_url(comment),
            related=comment.task,
        )


def _mentioned_users(comment: TaskComment, *, actor: User) -> list[User]:
    names = mentioned_usernames(comment.body)
    if not names:
        return []
    users = User.objects.filter(username__in=names, is_active=True).exclude(pk=actor.pk)
    return [user for user in users if record_is_visible_to(user=user, record=comment.task)]


def task_comment_add(*, actor: User, task: Task, body: str) -> TaskComment:
    """Comment on a task the actor may see, and tell the people it concerns."""
    if not actor.has_perm("collaboration.add_taskcomment"):
        raise PermissionDenied
    if not record_is_visible_to(user=actor, record=task):
        raise PermissionDenied
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write a comment.")})
    if len(body) > MAX_COMMENT_LENGTH:
        raise ValidationError(
            {"body": _("At most %(max)d characters.") % {"max": MAX_COMMENT_LENGTH}}
        )
    comment = TaskComment(task=task, author=actor, body=body)
    with transaction.atomic():
        comment.save()
        mentioned = _mentioned_users(comment, actor=actor)
        for user in mentioned:
            _notify(comment, recipient=user, kind=Notification.Kind.MENTION)
        told = {actor.pk, *(user.pk for user in mentioned)}
        for user in (task.assignee, task.created_by):
            if user is not None and user.is_active and user.pk not in told:
                told.add(user.pk)
                _notify(comment, recipient=user, kind=Notification.Kind.OTHER)
    return comment


def task_comment_delete(*, actor: User, comment: TaskComment) -> None:
    """Delete a comment: its author may, and an admin."""
    if not actor.has_perm("collaboration.delete_taskcomment"):
        raise PermissionDenied
    if comment.author_id != actor.pk and not user_is_admin(actor):
        raise PermissionDenied
    if not record_is_visible_to(user=actor, record=comment.task):
        raise PermissionDenied
    comment.delete()
