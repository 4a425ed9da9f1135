"""Building rules: the one path the rule pages, the API and the admin take, so a rule is checked
the same way wherever it is made. Every change is kept in the rule's history (crm.audit)."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from automation.actions.catalogue import action_type_get, action_types_for
from automation.conditions import condition_clean
from automation.models import Rule, RuleAction, RuleCondition
from automation.record_types import RECORD_KINDS, record_kind
from automation.triggers import TIME_TRIGGERS, next_slot, trigger_config_clean
from crm.accounts.models import User
from crm.accounts.selectors import user_is_admin

RULE_EDITABLE_FIELDS = (
    "name",
    "description",
    "record_type",
    "trigger",
    "trigger_config",
    "match",
    "is_enabled",
)
MAX_CONDITIONS = 30
MAX_ACTIONS = 20


def _require(actor: User | None, permission: str, rule: Rule | None = None) -> None:
    """No actor is the system itself (the demo, a test). Others need the permission, and may
    change only their own rules unless they are admins."""
    if actor is None:
        return
    if not actor.has_perm(permission):
        raise PermissionDenied
    if rule is not None and rule.owner_id != actor.pk and not user_is_admin(actor):
        raise PermissionDenied


def _refuse_unknown(values: dict[str, Any]) -> None:
    unknown = set(values) - set(RULE_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be set here.")] for name in unknown})


def _clean_rule(rule: Rule, *, user) -> None:
    errors: dict[str, list] = {}
    rule.name = " ".join((rule.name or "").split())
    if not rule.name:
        errors["name"] = [_("Give the rule a name.")]
    if rule.record_type not in RECORD_KINDS:
        errors["record_type"] = [_("Choose customers, deals or tickets.")]
    if rule.match not in Rule.Match.values:
        errors["match"] = [_("Choose all or any.")]
    if errors:
        raise ValidationError(errors)
    rule.trigger_config = trigger_config_clean(
        trigger=rule.trigger,
        kind=record_kind(rule.record_type),
        config=rule.trigger_config,
        user=user,
    )
    rule.full_clean(exclude=["owner", "trigger_config"])


def _schedule(rule: Rule) -> None:
    rule.next_run_at = (
        next_slot(rule, after=timezone.now())
        if rule.is_enabled and rule.trigger in TIME_TRIGGERS
        else None
    )


def _prefixed(error: ValidationError, prefix: str) -> ValidationError:
    if hasattr(error, "error_dict"):
        return ValidationError(
            {f"{prefix}.{name}": messages for name, messages in error.message_dict.items()}
        )
    return ValidationError({prefix: error.messages})


def conditions_build(*, rule: Rule, conditions: list[dict], user) -> list[RuleCondition]:
    if len(conditions) > MAX_CONDITIONS:
        raise ValidationError(
            {"conditions": [_("At most %(max)d conditions.") % {"max": MAX_CONDITIONS}]}
        )
    kind = record_kind(rule.record_type)
    built = []
    for index, item in enumerate(conditions):
        item = item if isinstance(item, dict) else {}
        try:
            condition = condition_clean(
                kind=kind,
                user=user,
                field=str(item.get("field") or ""),
                operator=str(item.get("operator") or ""),
                value=item.get("value"),
            )
        except ValidationError as exc:
            raise _prefixed(exc, f"conditions.{index}") from None
        built.append(
            RuleCondition(
                rule=rule,
                position=index,
                field=condition.field,
                operator=condition.operator,
                value=condition.value,
            )
        )
    return built


def action_params_clean(*, rule: Rule, action_type: str, params: dict | None, user) -> dict:
    kind = record_kind(rule.record_type)
    found = action_type_get(action_type)
    if found is None or found not in action_types_for(kind):
        raise ValidationError({"action_type": [_("Choose one of the actions offered.")]})
    if params is not None and not isinstance(params, dict):
        raise ValidationError({"params": [_("Expected an object.")]})
    return found.params_clean(params=params or {}, kind=kind, user=user)


def actions_build(*, rule: Rule, actions: list[dict], user) -> list[RuleAction]:
    if len(actions) > MAX_ACTIONS:
        raise ValidationError({"actions": [_("At most %(max)d actions.") % {"max": MAX_ACTIONS}]})
    built = []
    for index, item in enumerate(actions):
        item = item if isinstance(item, dict) else {}
        action_type = str(item.get("action_type") or "")
        try:
            params = action_params_clean(
                rule=rule, action_type=action_type, params=item.get("params"), user=user
            )
        except ValidationError as exc:
            raise _prefixed(exc, f"actions.{index}") from None
        built.append(RuleAction(rule=rule, position=index, action_type=action_type, params=params))
    return built


def _replace(rule: Rule, conditions: list[RuleCondition] | None, actions: list[RuleAction] | None):
    # Row by row, not in bulk: each condition and action keeps its history.
    if conditions is not None:
        for old in rule.conditions.all():
            old.delete()
        for condition in conditions:
            condition.save()
    if actions is not None:
        for old in rule.actions.all():
            old.delete()
        for action in actions:
            action.save()


def rule_create(
    *,
    actor: User | None,
    conditions: list[dict] | None = None,
    actions: list[dict] | None = None,
    owner: User | None = None,
    **values,
) -> Rule:
    """A rule owned by `actor` (its actions are done as them), with its conditions and actions."""
    _require(actor, "automation.add_rule")
    _refuse_unknown(values)
    rule = Rule(**values, owner=owner or actor)
    _clean_rule(rule, user=actor)
    built_conditions = conditions_build(rule=rule, conditions=conditions or [], user=actor)
    built_actions = actions_build(rule=rule, actions=actions or [], user=actor)
    _schedule(rule)
    with transaction.atomic():
        rule.save()
        _replace(rule, built_conditions, built_actions)
    return rule


def rule_update(
    *,
    actor: User | None,
    rule: Rule,
    conditions: list[dict] | None = None,
    actions: list[dict] | None = None,
    **values,
) -> Rule:
    """Change the rule; `conditions` and `actions`, when given, replace the rule's. The record
    type changes only with new conditions and actions, which must fit it."""
    _require(actor, "automation.change_rule", rule)
    _refuse_unknown(values)
    if (
        "record_type" in values
        and values["record_type"] != rule.record_type
        and (conditions is None or actions is None)
        and (rule.conditions.exists() or rule.actions.exists())
    ):
        raise ValidationError(
            {
                "record_type": [
                    _(
                        "The conditions and actions are for another kind of record; "
                        "make a new rule instead."
                    )
                ]
            }
        )
    for name, value in values.items():
        setattr(rule, name, value)
    _clean_rule(rule, user=actor)
    built_conditions = (
        conditions_build(rule=rule, conditions=conditions, user=actor)
        if conditions is not None
        else None
    )
    built_actions = (
        actions_build(rule=rule, actions=actions, user=actor) if actions is not None else None
    )
    _schedule(rule)
    with transaction.atomic():
        rule.save()
        _replace(rule, built_conditions, built_actions)
    return rule


def rule_set_enabled(*, actor: User | None, rule: Rule, enabled: bool) -> Rule:
    _require(actor, "automation.change_rule", rule)
    if rule.is_enabled == enabled:
        return rule
    rule.is_enabled = enabled
    _schedule(rule)
    rule.save(update_fields=["is_enabled", "next_run_at", "updated_at"])
    return rule


def rule_delete(*, actor: User | None, rule: Rule) -> None:
    _require(actor, "automation.delete_rule", rule)
    rule.delete()


def _next_position(queryset) -> int:
    highest = queryset.aggregate(highest=Max("position"))["highest"]
    return 0 if highest is None else highest + 1


def rule_condition_add(
    *, actor: User | None, rule: Rule, field: str, operator: str, value=None
) -> RuleCondition:
    _require(actor, "automation.change_rule", rule)
    if rule.conditions.count() >= MAX_CONDITIONS:
        raise ValidationError(
            {"field": [_("At most %(max)d conditions.") % {"max": MAX_CONDITIONS}]}
        )
    condition = condition_clean(
        kind=record_kind(rule.record_type),
        user=actor,
        field=field,
        operator=operator,
        value=value,
    )
    with transaction.atomic():
        added = RuleCondition.objects.create(
            rule=rule,
            position=_next_position(rule.conditions),
            field=condition.field,
            operator=condition.operator,
            value=condition.value,
        )
        rule.save(update_fields=["updated_at"])
    return added


def rule_condition_delete(*, actor: User | None, condition: RuleCondition) -> None:
    _require(actor, "automation.change_rule", condition.rule)
    condition.delete()


def rule_action_add(
    *, actor: User | None, rule: Rule, action_type: str, params: dict
) -> RuleAction:
    _require(actor, "automation.change_rule", rule)
    if rule.actions.count() >= MAX_ACTIONS:
        raise ValidationError(
            {"action_type": [_("At most %(max)d actions.") % {"max": MAX_ACTIONS}]}
        )
    cleaned = action_params_clean(rule=rule, action_type=action_type, params=params, user=actor)
    with transaction.atomic():
        added = RuleAction.objects.create(
            rule=rule,
            position=_next_position(rule.actions),
            action_type=action_type,
            params=cleaned,
        )
        rule.save(update_fields=["updated_at"])
    return added


def rule_action_update(*, actor: User | None, action: RuleAction, params: dict) -> RuleAction:
    _require(actor, "automation.change_rule", action.rule)
    action.params = action_params_clean(
        rule=action.rule, action_type=action.action_type, params=params, user=actor
    )
    action.save(update_fields=["params"])
    return action


def rule_action_delete(*, actor: User | None, action: RuleAction) -> None:
    _require(actor, "automation.change_rule", action.rule)
    action.delete()


def rule_action_move(*, actor: User | None, action: RuleAction, offset: int) -> None:
    """Move an action one place earlier (-1) or later (+1); actions run in this order."""
    _require(actor, "automation.change_rule", action.rule)
    with transaction.atomic():
        ordered = list(action.rule.actions.select_for_update().order_by("position", "pk"))
        index = next(i for i, item in enumerate(ordered) if item.pk == action.pk)
        target = index + (1 if offset > 0 else -1)
        if not 0 <= target < len(ordered):
            return
        ordered[index], ordered[target] = ordered[target], ordered[index]
        for position, item in enumerate(ordered):
            if item.position != position:
                item.position = position
                item.save(update_fields=["position"])
