"""Every action type a rule may use."""

from django.utils.translation import gettext_lazy as _

from automation.actions import ActionType
from automation.actions.fields import ASSIGN_OWNER, UPDATE_FIELD
from automation.actions.outreach import CALL_WEBHOOK, CAMPAIGN_ADD, CAMPAIGN_REMOVE, SEND_EMAIL
from automation.actions.work import CREATE_TASK, NOTIFY, POST_CHAT
from automation.models import RuleAction
from automation.record_types import RecordKind

ACTION_TYPES: dict[str, ActionType] = {
    action_type.key: action_type
    for action_type in (
        UPDATE_FIELD,
        ASSIGN_OWNER,
        CREATE_TASK,
        SEND_EMAIL,
        NOTIFY,
        POST_CHAT,
        CAMPAIGN_ADD,
        CAMPAIGN_REMOVE,
        CALL_WEBHOOK,
    )
}


def action_type_get(key: str) -> ActionType | None:
    return ACTION_TYPES.get(key)


def action_describe(action: RuleAction, kind: RecordKind) -> str:
    """The stored action in a sentence."""
    found = ACTION_TYPES.get(action.action_type)
    if found is None:
        return str(_("This action no longer exists."))
    return str(found.describe(action.params, kind))


def action_types_for(kind: RecordKind) -> list[ActionType]:
    return [item for item in ACTION_TYPES.values() if not item.kinds or kind.key in item.kinds]
