"""Actions that bring people in: a task, a notification, a chat message. Nobody hears of a
record they may not see: a notification skips them (and the run says so), a chat message is not
posted where any member of the room may not see the record, and a task is given only to someone
who may see what it is about."""

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from automation.actions import ActionContext, ActionRefused, ActionType, Plan
from automation.naming import object_of
from automation.placeholders import text_clean, text_fill
from automation.record_types import RecordKind
from collaboration.models import ChatRoom, Notification, Task
from collaboration.selectors.chat import chat_room_accessible, chat_room_members
from collaboration.services.chat import chat_message_post, chat_room_for_record
from collaboration.services.notifications import notification_send
from collaboration.services.tasks import task_create
from crm.accounts.models import Team, User

OWNER = "owner"
MAX_DUE_DAYS = 365
MAX_TITLE_LENGTH = 200
MAX_RECIPIENTS = 200


def _user_id(value, *, name: str) -> int:
    text = str(value or "").strip()
    if not text.isdigit() or not User.objects.filter(pk=int(text), is_active=True).exists():
        raise ValidationError({name: [_("Choose an active user.")]})
    return int(text)


def _may_see(context: ActionContext, user: User) -> bool:
    return context.kind.visible(user=user).filter(pk=context.record.pk).exists()


# Tasks -------------------------------------------------------------------------------------------


def _task_clean(*, params: dict, kind: RecordKind, user) -> dict:
    assignee = str(params.get("assignee") or OWNER)
    try:
        due = int(params.get("due_in_days") if params.get("due_in_days") not in (None, "") else 1)
    except (TypeError, ValueError):
        raise ValidationError({"due_in_days": [_("Give a whole number of days.")]}) from None
    if not 0 <= due <= MAX_DUE_DAYS:
        raise ValidationError(
            {"due_in_days": [_("Give between 0 and %(max)d days.") % {"max": MAX_DUE_DAYS}]}
        )
    priority = str(params.get("priority") or Task.Priority.NORMAL)
    if priority not in Task.Priority.values:
        raise ValidationError({"priority": [_("Choose one of the priorities offered.")]})
    return {
        "title": text_clean(
            params.get("title"), kind=kind, name="title", max_length=MAX_TITLE_LENGTH
        ),
        "description": text_clean(
            params.get("description"), kind=kind, name="description", required=False
        ),
        "assignee": OWNER if assignee == OWNER else _user_id(assignee, name="assignee"),
        "due_in_days": due,
        "priority": priority,
    }


def _assignee_label(params: dict, kind: RecordKind) -> str:
    if params.get("assignee") == OWNER:
        return _("the record's %(owner)s") % {
            "owner": kind.model._meta.get_field(kind.owner_field).verbose_name
        }
    user = object_of(User, params.get("assignee"))
    return user.label if user else _("a user who no longer exists")


def _task_describe(params: dict, kind: RecordKind) -> str:
    return _("Create the task “%(title)s” for %(assignee)s, due in %(days)s days") % {
        "title": params.get("title", ""),
        "assignee": _assignee_label(params, kind),
        "days": params.get("due_in_days", 1),
    }


def _task_plan(context: ActionContext, params: dict) -> Plan:
    if params.get("assignee") == OWNER:
        assignee = context.kind.owner_of(context.record)
        if assignee is None:
            raise ActionRefused(_("The record has nobody to give the task to."))
    else:
        assignee = User.objects.filter(pk=params.get("assignee"), is_active=True).first()
        if assignee is None:
            raise ActionRefused(_("The task's assignee is no longer an active user."))
    if not _may_see(context, assignee):
        raise ActionRefused(
            _("%(user)s may not see this record, so the task is not given to them.")
            % {"user": assignee.label}
        )
    title = text_fill(
        params["title"], kind=context.kind, record=context.record, rule_name=context.rule.name
    )[:MAX_TITLE_LENGTH]
    due_at = timezone.now() + timedelta(days=int(params.get("due_in_days", 1)))

    def perform():
        return task_create(
            actor=context.actor,
            title=title,
            description=text_fill(
                params.get("description", ""),
                kind=context.kind,
                record=context.record,
                rule_name=context.rule.name,
            ),
            assignee=assignee,
            priority=params.get("priority", Task.Priority.NORMAL),
            due_at=due_at,
            related_type=ContentType.objects.get_for_model(context.record),
            related_id=context.record.pk,
        )

    return Plan(
        summary=_("Create the task “%(title)s” for %(assignee)s, due %(due)s")
        % {
            "title": title,
            "assignee": assignee.label,
            "due": timezone.localtime(due_at).strftime("%Y-%m-%d"),
        },
        perform=perform,
    )


CREATE_TASK = ActionType(
    key="create_task",
    label=gettext_lazy("Create a task"),
    params_clean=_task_clean,
    describe=_task_describe,
    plan=_task_plan,
)


# Notifications -----------------------------------------------------------------------------------

TO_OWNER, TO_USERS, TO_TEAM = "owner", "users", "team"


def _notify_clean(*, params: dict, kind: RecordKind, user) -> dict:
    to = str(params.get("to") or TO_OWNER)
    cleaned: dict = {"to": to}
    if to == TO_USERS:
        users = params.get("users") or []
        users = users if isinstance(users, list | tuple) else str(users).split(",")
        ids = sorted({_user_id(item, name="users") for item in users if str(item).strip()})
        if not ids:
            raise ValidationError({"users": [_("Choose whom to notify.")]})
        cleaned["users"] = ids
    elif to == TO_TEAM:
        team = str(params.get("team") or "").strip()
        if not team.isdigit() or not Team.objects.filter(pk=int(team)).exists():
            raise ValidationError({"team": [_("Choose a team.")]})
        cleaned["team"] = int(team)
    elif to != TO_OWNER:
        raise ValidationError({"to": [_("Choose the owner, some users or a team.")]})
    cleaned["message"] = text_clean(params.get("message"), kind=kind, name="message")
    return cleaned


def _recipients_label(params: dict, kind: RecordKind) -> str:
    if params.get("to") == TO_TEAM:
        team = object_of(Team, params.get("team"))
        return _("the team %(team)s") % {"team": team.name if team else "?"}
    if params.get("to") == TO_USERS:
        users = filter(None, (object_of(User, pk) for pk in params.get("users", [])))
        return ", ".join(user.label for user in users) or _("nobody")
    return _("the record's %(owner)s") % {
        "owner": kind.model._meta.get_field(kind.owner_field).verbose_name
    }


def _notify_describe(params: dict, kind: RecordKind) -> str:
    return _("Notify %(recipients)s") % {"recipients": _recipients_label(params, kind)}


def _recipients(context: ActionContext, params: dict) -> list[User]:
    to = params.get("to")
    if to == TO_USERS:
        return list(User.objects.filter(pk__in=params.get("users", []), is_active=True))
    if to == TO_TEAM:
        return list(
            User.objects.filter(
                Q(team_memberships__team_id=params.get("team"))
                | Q(managed_teams__pk=params.get("team")),
                is_active=True,
            )
            .distinct()
            .order_by("pk")[:MAX_RECIPIENTS]
        )
    owner = context.kind.owner_of(context.record)
    return [owner] if owner is not None and owner.is_active else []


def _notify_plan(context: ActionContext, params: dict) -> Plan:
    candidates = _recipients(context, params)
    readers = [user for user in candidates if _may_see(context, user)]
    left_out = [user for user in candidates if user not in readers]
    if not readers:
        if left_out:
            raise ActionRefused(
                _("Nobody to notify: %(users)s may not see this record.")
                % {"users": ", ".join(user.label for user in left_out)}
            )
        raise ActionRefused(_("Nobody to notify."))
    message = text_fill(
        params["message"], kind=context.kind, record=context.record, rule_name=context.rule.name
    )
    summary = _("Notify %(users)s") % {"users": ", ".join(user.label for user in readers)}
    if left_out:
        summary += " " + _("(left out, as they may not see this record: %(users)s)") % {
            "users": ", ".join(user.label for user in left_out)
        }

    def perform():
        for user in readers:
            notification_send(
                recipient=user,
                kind=Notification.Kind.AUTOMATION,
                title=f"{context.rule.name}: {context.record}"[:200],
                body=message,
                url=context.kind.url(context.record),
                related=context.record,
            )

    return Plan(summary=summary, perform=perform)


NOTIFY = ActionType(
    key="notify",
    label=gettext_lazy("Notify users or a team"),
    params_clean=_notify_clean,
    describe=_notify_describe,
    plan=_notify_plan,
)


# Chat --------------------------------------------------------------------------------------------

RECORD_ROOM = "record"


def _chat_clean(*, params: dict, kind: RecordKind, user) -> dict:
    room = str(params.get("room") or RECORD_ROOM).strip()
    if room != RECORD_ROOM:
        found = ChatRoom.objects.filter(
            pk=int(room) if room.isdigit() else 0,
            kind__in=[ChatRoom.Kind.TEAM, ChatRoom.Kind.GROUP],
        ).first()
        if found is None or (user is not None and not chat_room_accessible(user=user, room=found)):
            raise ValidationError({"room": [_("Choose the record's room or a room you are in.")]})
        room = found.pk
    return {"room": room, "message": text_clean(params.get("message"), kind=kind, name="message")}


def _room_label(params: dict) -> str:
    if params.get("room") == RECORD_ROOM:
        return _("the record's discussion")
    room = object_of(ChatRoom, params.get("room"))
    return room.name if room else _("a room that no longer exists")


def _chat_describe(params: dict, kind: RecordKind) -> str:
    return _("Post in %(room)s") % {"room": _room_label(params)}


def _chat_plan(context: ActionContext, params: dict) -> Plan:
    message = text_fill(
        params["message"], kind=context.kind, record=context.record, rule_name=context.rule.name
    )
    body = f"{context.rule.name}: {message}"
    if params.get("room") == RECORD_ROOM:
        # Only those who may see the record may read its room: the visibility rule is the room's.
        return Plan(
            summary=_chat_describe(params, context.kind),
            perform=lambda: chat_message_post(
                author=context.actor,
                room=chat_room_for_record(user=context.actor, record=context.record),
                body=body,
            ),
        )
    room = ChatRoom.objects.filter(pk=params.get("room")).first()
    if room is None:
        raise ActionRefused(_("The chat room chosen no longer exists."))
    if not chat_room_accessible(user=context.actor, room=room):
        raise ActionRefused(
            _("The rule's owner is no longer in the room %(room)s.") % {"room": room.name}
        )
    members = list(chat_room_members(room=room)[: MAX_RECIPIENTS + 1])
    if len(members) > MAX_RECIPIENTS:
        raise ActionRefused(
            _("The room %(room)s is too large to check who may see the record.")
            % {"room": room.name}
        )
    blind = [member for member in members if not _may_see(context, member)]
    if blind:
        raise ActionRefused(
            _("Not posted in %(room)s: %(users)s may not see this record.")
            % {"room": room.name, "users": ", ".join(member.label for member in blind)}
        )
    return Plan(
        summary=_chat_describe(params, context.kind),
        perform=lambda: chat_message_post(author=context.actor, room=room, body=body),
    )


POST_CHAT = ActionType(
    key="post_chat",
    label=gettext_lazy("Post in a chat room"),
    params_clean=_chat_clean,
    describe=_chat_describe,
    plan=_chat_plan,
)
