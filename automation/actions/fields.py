"""Actions that change the record itself: set a field, hand it to an assignment rule's pick.
Both go through the record's own service, so its checks, history and events apply (and a rule
that changes a record can set off the rules that wait for that change)."""

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from automation.actions import ActionContext, ActionRefused, ActionType, Plan
from automation.naming import object_of, record_name
from automation.record_types import TEXT, RecordKind, SettableField
from crm.accounts.field_security import field_access
from crm.accounts.models import User
from customers.models import Customer
from customers.services.customers import customer_update
from sales.models import AssignmentRule, Deal
from sales.services.assignment import assignment_record, assignment_rule_pick
from sales.services.deals import deal_move_stage, deal_update
from service.models import Ticket
from service.services.tickets import ticket_change_status, ticket_update

MAX_VALUE_LENGTH = 200


def _settable_writable(settable: SettableField, user) -> bool:
    if settable.secured is None or user is None:
        return True
    model, name = settable.secured
    return field_access(user=user, model=model).can_write(name)


def settable_fields_for(*, kind: RecordKind, user) -> list[SettableField]:
    """The fields `user` may have a rule set: those their field rules let them change."""
    return [item for item in kind.settable.values() if _settable_writable(item, user)]


def _update_clean(*, params: dict, kind: RecordKind, user) -> dict:
    field = str(params.get("field") or "")
    settable = kind.settable.get(field)
    if settable is None or not _settable_writable(settable, user):
        raise ValidationError({"field": [_("Choose a field the rule may set.")]})
    value = params.get("value")
    text = " ".join(str(value if value is not None else "").split())
    if settable.kind == TEXT:
        if field in ("add_tag", "remove_tag"):
            text = text.lower()
        if not text and field in ("add_tag", "remove_tag"):
            raise ValidationError({"value": [_("Name the tag.")]})
        if len(text) > MAX_VALUE_LENGTH:
            raise ValidationError(
                {"value": [_("Keep it under %(max)d characters.") % {"max": MAX_VALUE_LENGTH}]}
            )
        return {"field": field, "value": text}
    if not text and settable.related_model is not None:
        # Clearing an owner, a team or a category is a value too.
        return {"field": field, "value": ""}
    if text not in dict(settable.choices()):
        raise ValidationError(
            {
                "value": [
                    _("%(value)s is not a choice of %(field)s.")
                    % {"value": text or "—", "field": settable.label}
                ]
            }
        )
    return {"field": field, "value": text}


def _value_label(settable: SettableField, value: str) -> str:
    if not value:
        return _("nobody") if settable.related_model is User else _("nothing")
    labels = dict(settable.choices()) if settable.choices else {}
    if value in labels:
        return str(labels[value])
    # An inactive user (or a record gone) is not among the choices offered.
    found = object_of(settable.related_model, value) if settable.related_model else None
    return record_name(found) if found is not None else value


def _update_describe(params: dict, kind: RecordKind) -> str:
    settable = kind.settable.get(params.get("field"))
    if settable is None:
        return _("Set a field that no longer exists")
    value = _value_label(settable, params.get("value", ""))
    if settable.key == "add_tag":
        return _("Add the tag “%(tag)s”") % {"tag": value}
    if settable.key == "remove_tag":
        return _("Remove the tag “%(tag)s”") % {"tag": value}
    return _("Set %(field)s to %(value)s") % {"field": settable.label, "value": value}


def _resolved(settable: SettableField, value: str):
    if settable.related_model is None:
        return value
    if not value:
        return None
    found = settable.related_model._default_manager.filter(pk=value).first()
    if found is None:
        raise ActionRefused(
            _("The %(field)s chosen in the rule no longer exists.") % {"field": settable.label}
        )
    return found


def _tag_names(record: Model) -> list[str]:
    return sorted(record.tags.values_list("name", flat=True))


def _apply(context: ActionContext, field: str, value) -> None:
    """Write `field` through the record's service, as the rule's owner."""
    record, actor = context.record, context.actor
    if isinstance(record, Customer):
        if field in ("add_tag", "remove_tag"):
            names = set(_tag_names(record))
            names = names | {value} if field == "add_tag" else names - {value}
            customer_update(actor=actor, customer=record, tags=sorted(names))
        else:
            customer_update(actor=actor, customer=record, **{field: value})
    elif isinstance(record, Deal):
        if field == "stage":
            deal_move_stage(actor=actor, deal=record, stage=value, version=record.version)
        else:
            deal_update(actor=actor, deal=record, version=record.version, **{field: value})
    elif isinstance(record, Ticket):
        if field == "status":
            ticket_change_status(actor=actor, ticket=record, status=value, version=record.version)
        elif field in ("add_tag", "remove_tag"):
            names = set(_tag_names(record))
            names = names | {value} if field == "add_tag" else names - {value}
            ticket_update(actor=actor, ticket=record, version=record.version, tags=sorted(names))
        else:
            ticket_update(actor=actor, ticket=record, version=record.version, **{field: value})


def _update_plan(context: ActionContext, params: dict) -> Plan:
    settable = context.kind.settable.get(params.get("field"))
    if settable is None:
        raise ActionRefused(_("The rule sets a field that no longer exists."))
    if not _settable_writable(settable, context.actor):
        raise ActionRefused(
            _("The rule's owner may not change %(field)s.") % {"field": settable.label}
        )
    field, raw = settable.key, params.get("value", "")
    summary = _update_describe(params, context.kind)
    if field in ("add_tag", "remove_tag"):
        has_tag = raw in _tag_names(context.record)
        if has_tag == (field == "add_tag"):
            return Plan(summary=_("%(action)s: already so") % {"action": summary})
        return Plan(summary=summary, perform=lambda: _apply(context, field, raw))
    value = _resolved(settable, raw)
    current = getattr(context.record, field)
    if current == value:
        return Plan(summary=_("%(action)s: already so") % {"action": summary})
    current_label = _value_label(
        settable, str(getattr(current, "pk", current) if current is not None else "")
    )
    return Plan(
        summary=_("%(action)s (now %(current)s)") % {"action": summary, "current": current_label},
        perform=lambda: _apply(context, field, value),
    )


UPDATE_FIELD = ActionType(
    key="update_field",
    label=gettext_lazy("Update a field"),
    params_clean=_update_clean,
    describe=_update_describe,
    plan=_update_plan,
)


# Assignment --------------------------------------------------------------------------------------


def _assign_clean(*, params: dict, kind: RecordKind, user) -> dict:
    rule_id = str(params.get("assignment_rule") or "").strip()
    if not rule_id.isdigit() or not AssignmentRule.objects.filter(pk=int(rule_id)).exists():
        raise ValidationError({"assignment_rule": [_("Choose one of the assignment rules.")]})
    return {"assignment_rule": int(rule_id)}


def _assignment_rule(params: dict) -> AssignmentRule | None:
    return (
        AssignmentRule.objects.select_related("team", "owner", "fallback_owner")
        .filter(pk=params.get("assignment_rule"))
        .first()
    )


def _assign_describe(params: dict, kind: RecordKind) -> str:
    rule = object_of(AssignmentRule, params.get("assignment_rule"))
    if rule is None:
        return _("Assign by an assignment rule that no longer exists")
    return _("Assign the %(owner)s by the assignment rule “%(rule)s”") % {
        "owner": kind.model._meta.get_field(kind.owner_field).verbose_name,
        "rule": rule.name,
    }


def _assign(context: ActionContext, rule: AssignmentRule) -> None:
    choice = assignment_rule_pick(rule=rule, advance=True)
    if choice.owner is None:
        raise ActionRefused(
            _("The assignment rule “%(rule)s” has nobody to give it to.") % {"rule": rule.name}
        )
    _apply(context, context.kind.owner_field, choice.owner)
    assignment_record(record=context.record, choice=choice)


def _assign_plan(context: ActionContext, params: dict) -> Plan:
    rule = _assignment_rule(params)
    if rule is None:
        raise ActionRefused(_("The assignment rule chosen no longer exists."))
    if not rule.is_active:
        raise ActionRefused(
            _("The assignment rule “%(rule)s” is switched off.") % {"rule": rule.name}
        )
    choice = assignment_rule_pick(rule=rule, advance=False)
    if choice.owner is None:
        raise ActionRefused(
            _("The assignment rule “%(rule)s” has nobody to give it to.") % {"rule": rule.name}
        )
    return Plan(
        summary=_("%(action)s: next is %(owner)s")
        % {"action": _assign_describe(params, context.kind), "owner": choice.owner.label},
        perform=lambda: _assign(context, rule),
    )


ASSIGN_OWNER = ActionType(
    key="assign_owner",
    label=gettext_lazy("Assign the owner by an assignment rule"),
    params_clean=_assign_clean,
    describe=_assign_describe,
    plan=_assign_plan,
)
