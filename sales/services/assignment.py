"""Who gets a new lead or deal: the first active rule, by position, that matches it.

A rule matches every record, or records whose city, province or source is one of its values. It
hands the record to a fixed owner, or round robin to the active members of its team; when the
team has nobody (or the fixed owner has left), to its fallback owner. The rule that decided is
recorded in `Assignment`.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Model
from django.utils.translation import gettext as _

from crm.accounts.models import Team, User
from sales.models import Assignment, AssignmentRule

ASSIGNMENT_RULE_EDITABLE_FIELDS = (
    "name",
    "is_active",
    "applies_to",
    "match",
    "match_values",
    "strategy",
    "team",
    "owner",
    "fallback_owner",
)


@dataclass(frozen=True)
class AssignmentChoice:
    rule: AssignmentRule
    owner: User | None
    team: Team | None


def _values(rule: AssignmentRule) -> set[str]:
    return {value.strip().casefold() for value in rule.match_values.split(",") if value.strip()}


def _matches(rule: AssignmentRule, attributes: dict[str, str]) -> bool:
    if rule.match == AssignmentRule.Match.ANY:
        return True
    value = (attributes.get(rule.match) or "").strip().casefold()
    return bool(value) and value in _values(rule)


def _round_robin_next(rule: AssignmentRule) -> User | None:
    members = list(rule.team.members.filter(is_active=True).order_by("pk"))
    if not members:
        return None
    after = [
        member for member in members if rule.last_assigned_id and member.pk > rule.last_assigned_id
    ]
    return after[0] if after else members[0]


def assignment_choose(*, applies_to: str, attributes: dict[str, str]) -> AssignmentChoice | None:
    """Pick the owner for a new record; `applies_to` is "leads" or "deals", `attributes` holds
    its city, province and source. Round robin advances, so call this once per record."""
    rules = AssignmentRule.objects.filter(
        is_active=True, applies_to__in=[applies_to, AssignmentRule.AppliesTo.BOTH]
    ).select_related("team", "owner", "fallback_owner")
    for rule in rules:
        if _matches(rule, attributes):
            return assignment_rule_pick(rule=rule, advance=True)
    return None


def assignment_rule_pick(*, rule: AssignmentRule, advance: bool) -> AssignmentChoice:
    """Whom this rule gives its next record to. With `advance`, round robin moves on to the next
    member (call it once per record); without, it only says who would be next."""
    if rule.strategy == AssignmentRule.Strategy.FIXED:
        owner = rule.owner if rule.owner and rule.owner.is_active else rule.fallback_owner
        return AssignmentChoice(rule=rule, owner=owner, team=rule.team)
    if not advance:
        owner = _round_robin_next(rule) if rule.team_id else None
        return AssignmentChoice(rule=rule, owner=owner or rule.fallback_owner, team=rule.team)
    with transaction.atomic():
        # Only the rule's row: PostgreSQL cannot lock the nullable side of the team join.
        locked = (
            AssignmentRule.objects.select_for_update(of=("self",))
            .select_related("team")
            .get(pk=rule.pk)
        )
        owner = _round_robin_next(locked)
        if owner is not None:
            locked.last_assigned = owner
            locked.save(update_fields=["last_assigned", "updated_at"])
            return AssignmentChoice(rule=locked, owner=owner, team=locked.team)
    return AssignmentChoice(rule=rule, owner=rule.fallback_owner, team=rule.team)


def assignment_record(*, record: Model, choice: AssignmentChoice) -> Assignment:
    return Assignment.objects.create(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        rule=choice.rule,
        assigned_to=choice.owner,
    )


# Rules -------------------------------------------------------------------------------------------


def _require(actor: User | None, permission: str) -> None:
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied


def _rule_check(rule: AssignmentRule) -> None:
    """The rule's own requirements, each named on its field (the database refuses them too,
    but with a message nobody could act on)."""
    errors: dict[str, str] = {}
    rule.name = rule.name.strip()
    rule.match_values = ", ".join(
        value.strip() for value in rule.match_values.split(",") if value.strip()
    )
    if rule.match != AssignmentRule.Match.ANY and not rule.match_values:
        errors["match_values"] = _("List the values to match, separated by commas.")
    if rule.match == AssignmentRule.Match.ANY:
        rule.match_values = ""
    if rule.strategy == AssignmentRule.Strategy.ROUND_ROBIN and rule.team_id is None:
        errors["team"] = _("Round robin shares records among a team's members: choose the team.")
    if rule.strategy == AssignmentRule.Strategy.FIXED and rule.owner_id is None:
        errors["owner"] = _("Choose who always gets the records of this rule.")
    if errors:
        raise ValidationError(errors)
    rule.full_clean(exclude=["position", "last_assigned"])


def _refuse_unknown(values: dict[str, Any]) -> None:
    unknown = set(values) - set(ASSIGNMENT_RULE_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be set here.") for name in sorted(unknown)}
        )


def assignment_rule_create(*, actor: User | None, **values) -> AssignmentRule:
    """A new rule, tried after every existing one."""
    _require(actor, "sales.add_assignmentrule")
    _refuse_unknown(values)
    rule = AssignmentRule(**values)
    _rule_check(rule)
    last = AssignmentRule.objects.aggregate(last=Max("position"))["last"]
    rule.position = 0 if last is None else last + 1
    rule.save()
    return rule


def assignment_rule_update(*, actor: User | None, rule: AssignmentRule, **values) -> AssignmentRule:
    _require(actor, "sales.change_assignmentrule")
    _refuse_unknown(values)
    previous_team_id = rule.team_id
    for name, value in values.items():
        setattr(rule, name, value)
    _rule_check(rule)
    if rule.team_id != previous_team_id:
        # The turn belongs to the old team's order; a new team starts from its first member.
        rule.last_assigned = None
    rule.save()
    return rule


def assignment_rule_delete(*, actor: User | None, rule: AssignmentRule) -> None:
    """Delete a rule; the assignments it made stay, without their rule."""
    _require(actor, "sales.delete_assignmentrule")
    rule.delete()


def assignment_rule_move(*, actor: User | None, rule: AssignmentRule, direction: str) -> None:
    """Swap the rule with the one before ("up") or after ("down") it; at either end, nothing.

    Positions are renumbered 0, 1, 2... on the way, so rules that shared a position get one
    each and the order shown is the order tried."""
    _require(actor, "sales.change_assignmentrule")
    if direction not in ("up", "down"):
        raise ValidationError({"direction": _("Move a rule “up” or “down”.")})
    with transaction.atomic():
        rules = list(AssignmentRule.objects.select_for_update().order_by("position", "pk"))
        index = next((i for i, each in enumerate(rules) if each.pk == rule.pk), None)
        if index is None:
            return
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(rules):
            rules[index], rules[other] = rules[other], rules[index]
        changed = []
        for position, each in enumerate(rules):
            if each.position != position:
                each.position = position
                changed.append(each)
        AssignmentRule.objects.bulk_update(changed, ["position"])
