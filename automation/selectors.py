"""Reading rules and their runs, and testing a rule on a record without doing anything."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Model, OuterRef, QuerySet, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from automation.actions import ActionContext, ActionRefused
from automation.actions.catalogue import action_describe, action_type_get, action_types_for
from automation.actions.fields import settable_fields_for
from automation.conditions import (
    OPERATOR_LABELS,
    OPERATORS_BY_KIND,
    Condition,
    condition_describe,
    conditions_judge,
    fields_for,
)
from automation.models import Rule, RuleAction, RuleCondition, RuleRun
from automation.naming import names_preload, names_remembered
from automation.placeholders import placeholder_labels
from automation.record_types import RECORD_KINDS, record_kind
from automation.triggers import (
    CUSTOM_ATTRIBUTE,
    changed_field_keys,
    trigger_conditions,
    trigger_describe,
    triggers_for,
)
from collaboration.models import ChatRoom
from crm.accounts.models import Team, User
from crm.accounts.selectors import user_is_admin
from crm.webhooks.models import WebhookSubscription
from sales.models import AssignmentRule, Campaign, Stage

FAILED_RECENTLY_DAYS = 7


def rule_list_visible(*, user: User) -> QuerySet[Rule]:
    """The rules `user` may read: an admin all of them, a manager their own."""
    if not user.is_authenticated or not user.has_perm("automation.view_rule"):
        return Rule.objects.none()
    rules = Rule.objects.select_related("owner")
    return rules if user_is_admin(user) else rules.filter(owner=user)


def _count_of(queryset) -> Subquery:
    """A per-rule count as a subquery: joining runs and actions at once would multiply rows."""
    return Coalesce(
        Subquery(
            queryset.filter(rule=OuterRef("pk"))
            .order_by()
            .values("rule")
            .annotate(count=Count("pk"))
            .values("count")[:1]
        ),
        0,
    )


def rule_list_with_counts(*, user: User) -> QuerySet[Rule]:
    last_run = RuleRun.objects.filter(rule=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        rule_list_visible(user=user)
        .annotate(
            action_count=_count_of(RuleAction.objects.all()),
            failed_run_count=_count_of(RuleRun.objects.filter(status=RuleRun.Status.FAILED)),
            last_run_created_at=Subquery(last_run.values("created_at")[:1]),
        )
        .prefetch_related("actions")
        .order_by("name", "pk")
    )


def rule_get_visible(*, user: User, pk: int) -> Rule:
    return rule_list_visible(user=user).get(pk=pk)


def rule_conditions(rule: Rule) -> list[RuleCondition]:
    return list(rule.conditions.order_by("position", "pk"))


def rule_actions(rule: Rule) -> list[RuleAction]:
    return list(rule.actions.order_by("position", "pk"))


def rule_condition_get_visible(*, user: User, pk: int) -> RuleCondition:
    return RuleCondition.objects.select_related("rule__owner").get(
        pk=pk, rule__in=rule_list_visible(user=user)
    )


def rule_action_get_visible(*, user: User, pk: int) -> RuleAction:
    return RuleAction.objects.select_related("rule__owner").get(
        pk=pk, rule__in=rule_list_visible(user=user)
    )


def rule_runs_visible(*, user: User, rule: Rule | None = None) -> QuerySet[RuleRun]:
    runs = RuleRun.objects.filter(rule__in=rule_list_visible(user=user)).select_related("rule")
    return runs.filter(rule=rule) if rule is not None else runs


def run_get_visible(*, user: User, pk: int) -> RuleRun:
    return rule_runs_visible(user=user).get(pk=pk)


def rule_record_get(*, rule: Rule, user: User, pk) -> Model | None:
    """A record of the rule's kind that both `user` and the rule's owner may see."""
    kind = record_kind(rule.record_type)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    record = kind.visible(user=user).filter(pk=pk).first()
    if record is None or rule.owner is None:
        return None
    return record if kind.visible(user=rule.owner).filter(pk=pk).exists() else None


def rule_own_conditions(rule: Rule) -> list[Condition]:
    return [Condition(item.field, item.operator, item.value) for item in rule_conditions(rule)]


def rule_conditions_judge(*, rule: Rule, record_pk: int) -> tuple[list[dict], bool] | None:
    """Each condition's result on the record (the rule's own, then those its trigger adds, as
    "changes to VIP"), and whether the rule's conditions are met: all or any of its own, as the
    rule says, and all of the trigger's. None when the rule's owner may not see the record."""
    kind = record_kind(rule.record_type)
    own = rule_own_conditions(rule)
    implied = trigger_conditions(rule, kind)
    judged = conditions_judge(
        queryset=kind.visible(user=rule.owner),
        kind=kind,
        record_pk=record_pk,
        conditions=own + implied,
    )
    if judged is None:
        return None
    own_results, implied_results = judged[: len(own)], judged[len(own) :]
    if not own_results:
        own_met = True
    elif rule.match == Rule.Match.ANY:
        own_met = any(own_results)
    else:
        own_met = all(own_results)
    results = [
        {"condition": condition_describe(kind, condition), "met": met}
        for condition, met in zip(own + implied, judged, strict=True)
    ]
    return results, own_met and all(implied_results)


@dataclass
class DryRun:
    record: Model
    conditions: list[dict] = field(default_factory=list)
    conditions_met: bool = False
    actions: list[dict] = field(default_factory=list)
    problem: str = ""


def rule_test(*, rule: Rule, record: Model) -> DryRun:
    """What the rule would do to `record` now, without doing it: each condition's result, and
    what each action would do or why it could not."""
    kind = record_kind(rule.record_type)
    result = DryRun(record=record)
    if rule.owner is None or not rule.owner.is_active:
        result.problem = _("The rule has no active owner to act as.")
        return result
    judgement = rule_conditions_judge(rule=rule, record_pk=record.pk)
    if judgement is None:
        result.problem = _("The rule's owner may not see this record.")
        return result
    result.conditions, result.conditions_met = judgement
    context = ActionContext(rule=rule, kind=kind, record=record, actor=rule.owner)
    for action in rule_actions(rule):
        action_type = action_type_get(action.action_type)
        entry = {"action": action_describe(action, kind), "would": "", "problem": ""}
        if action_type is None:
            entry["problem"] = entry.pop("action")
            entry["action"] = action.action_type
            result.actions.append(entry)
            continue
        try:
            plan = action_type.plan(context, action.params)
        except ActionRefused as refusal:
            entry["problem"] = str(refusal)
        else:
            entry["would"] = plan.summary
            entry["nothing_to_do"] = plan.perform is None
        result.actions.append(entry)
    return result


# The records an action's settings name, by setting.
ACTION_REFERENCES: dict[str, type[Model]] = {
    "assignment_rule": AssignmentRule,
    "assignee": User,
    "users": User,
    "team": Team,
    "room": ChatRoom,
    "campaign": Campaign,
    "subscription": WebhookSubscription,
}


def rules_names_preload(rules: Iterable[Rule]) -> None:
    """Within `naming.names_remembered`, fetch the records these rules' triggers and actions
    name, a query per kind of record, so describing the rules queries no more. The rules' actions
    should be prefetched."""
    wanted: dict[type[Model], set] = defaultdict(set)
    for rule in rules:
        if rule.trigger == Rule.Trigger.STAGE_CHANGED and rule.trigger_config.get("stage"):
            wanted[Stage].add(rule.trigger_config["stage"])
        kind = record_kind(rule.record_type)
        for action in rule.actions.all():
            for name, model in ACTION_REFERENCES.items():
                value = action.params.get(name)
                wanted[model].update(value if isinstance(value, list) else [value])
            settable = kind.settable.get(action.params.get("field"))
            if settable is not None and settable.related_model is not None:
                wanted[settable.related_model].add(action.params.get("value"))
    for model, pks in wanted.items():
        names_preload(model, pks)


@dataclass
class RuleSummary:
    trigger: str
    conditions: list[tuple[RuleCondition, str]]
    actions: list[tuple[RuleAction, str]]


def rule_summary(rule: Rule) -> RuleSummary:
    """The rule in sentences: its trigger, each condition and each action, with the records
    they name looked up in a query per kind."""
    kind = record_kind(rule.record_type)
    prefetch_related_objects([rule], "conditions", "actions")
    with names_remembered():
        rules_names_preload([rule])
        return RuleSummary(
            trigger=trigger_describe(rule, kind),
            conditions=[
                (item, condition_describe(kind, Condition(item.field, item.operator, item.value)))
                for item in rule.conditions.all()
            ],
            actions=[(item, action_describe(item, kind)) for item in rule.actions.all()],
        )


def _choices_listed(item) -> list[dict] | None:
    if item.choices is None:
        return None
    return [{"value": value, "label": str(label)} for value, label in item.choices()]


def rule_catalogue(*, user) -> list[dict]:
    """What `user` may build rules from, per record type: triggers, the fields they may test and
    set (their field rules apply), the action types and the placeholders of texts."""
    catalogue = []
    with names_remembered():
        for kind in RECORD_KINDS.values():
            date_fields = [item.key for item in kind.date_fields()]
            if kind.key == Rule.RecordType.CUSTOMER:
                date_fields.append(CUSTOM_ATTRIBUTE)
            catalogue.append(
                {
                    "key": kind.key,
                    "label": str(kind.label),
                    "triggers": [
                        {"key": value, "label": str(label)} for value, label in triggers_for(kind)
                    ],
                    "changeable_fields": changed_field_keys(kind),
                    "date_fields": date_fields,
                    "condition_fields": [
                        {
                            "key": item.key,
                            "label": str(item.label),
                            "kind": item.kind,
                            "operators": [
                                {"key": operator, "label": str(OPERATOR_LABELS[operator])}
                                for operator in OPERATORS_BY_KIND[item.kind]
                            ],
                            "choices": _choices_listed(item),
                        }
                        for item in fields_for(kind=kind, user=user)
                    ],
                    "settable_fields": [
                        {
                            "key": item.key,
                            "label": str(item.label),
                            "kind": item.kind,
                            "choices": _choices_listed(item),
                        }
                        for item in settable_fields_for(kind=kind, user=user)
                    ],
                    "action_types": [
                        {"key": item.key, "label": str(item.label)}
                        for item in action_types_for(kind)
                    ],
                    "placeholders": [
                        {"name": name, "label": str(label)}
                        for name, label in placeholder_labels(kind).items()
                    ],
                }
            )
    return catalogue
