"""Who gets a new lead or deal: the first active rule, by position, that matches it.

A rule matches every record, or records whose city, province or source is one of its values. It
hands the record to a fixed owner, or round robin to the active members of its team; when the
team has nobody, to its fallback owner. The rule that decided is recorded in `Assignment`.
"""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Model

from crm.accounts.models import Team, User
from sales.models import Assignment, AssignmentRule


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
        if not _matches(rule, attributes):
            continue
        if rule.strategy == AssignmentRule.Strategy.FIXED:
            return AssignmentChoice(rule=rule, owner=rule.owner, team=rule.team)
        with transaction.atomic():
            locked = (
                AssignmentRule.objects.select_for_update().select_related("team").get(pk=rule.pk)
            )
            owner = _round_robin_next(locked)
            if owner is not None:
                locked.last_assigned = owner
                locked.save(update_fields=["last_assigned", "updated_at"])
                return AssignmentChoice(rule=locked, owner=owner, team=locked.team)
        return AssignmentChoice(rule=rule, owner=rule.fallback_owner, team=rule.team)
    return None


def assignment_record(*, record: Model, choice: AssignmentChoice) -> Assignment:
    return Assignment.objects.create(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        rule=choice.rule,
        assigned_to=choice.owner,
    )
