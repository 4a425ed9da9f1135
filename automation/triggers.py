"""Triggers: which events set a rule off, what narrows each, and when the rules that wait on a
date or a schedule next look for records."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from automation.conditions import Condition, condition_clean
from automation.models import Rule
from automation.naming import object_of
from automation.record_types import (
    BOOLEAN,
    CHOICE,
    DATE,
    NUMBER,
    TAGS,
    TEAM,
    TEXT,
    USER,
    RecordKind,
)
from sales.models import Stage

Trigger = Rule.Trigger

# Which record kinds each trigger applies to; the others apply to all.
TRIGGER_KINDS = {
    Trigger.STAGE_CHANGED: ("deal",),
    Trigger.SLA_BREACHED: ("ticket",),
    Trigger.SURVEY_ANSWERED: ("ticket",),
}
TIME_TRIGGERS = (Trigger.DATE_REACHED, Trigger.SCHEDULE)
SLA_TARGETS = ("first_response", "resolution")
FREQUENCIES = ("hourly", "daily", "weekly")
DEFAULT_TIME = "08:00"
CUSTOM_ATTRIBUTE = "custom_attribute"
ATTRIBUTE_NAME = re.compile(r"^[\w .-]{1,60}$")
MAX_DAYS = 3660


@dataclass(frozen=True)
class Route:
    """An event that sets off rules with `trigger` on records of `kind`; `target` finds the
    record from the event's (a survey's ticket)."""

    trigger: str
    kind: str
    target: Callable[[Model], Model | None]


def _itself(record: Model) -> Model:
    return record


EVENT_ROUTES: dict[str, tuple[Route, ...]] = {
    "customer.created": (Route(Trigger.CREATED, "customer", _itself),),
    "customer.updated": (
        Route(Trigger.UPDATED, "customer", _itself),
        Route(Trigger.FIELD_CHANGED, "customer", _itself),
    ),
    "deal.created": (Route(Trigger.CREATED, "deal", _itself),),
    "deal.updated": (
        Route(Trigger.UPDATED, "deal", _itself),
        Route(Trigger.FIELD_CHANGED, "deal", _itself),
    ),
    "deal.stage_changed": (Route(Trigger.STAGE_CHANGED, "deal", _itself),),
    "ticket.created": (Route(Trigger.CREATED, "ticket", _itself),),
    "ticket.updated": (
        Route(Trigger.UPDATED, "ticket", _itself),
        Route(Trigger.FIELD_CHANGED, "ticket", _itself),
    ),
    "ticket.sla_breached": (Route(Trigger.SLA_BREACHED, "ticket", _itself),),
    "survey.answered": (
        Route(Trigger.SURVEY_ANSWERED, "ticket", lambda survey: getattr(survey, "ticket", None)),
    ),
}

# The operator a field change "to a value" is tested with, by the kind of field.
_CHANGED_TO_OPERATOR = {
    CHOICE: "in",
    USER: "in",
    TEAM: "in",
    TAGS: "has_any",
    TEXT: "eq",
    NUMBER: "eq",
    DATE: "on",
}


def triggers_for(kind: RecordKind) -> list[tuple[str, str]]:
    """The triggers a rule on `kind` may wait for, as (value, label)."""
    return [
        (value, label)
        for value, label in Trigger.choices
        if kind.key in TRIGGER_KINDS.get(value, (kind.key,))
    ]


def _error(name: str, message) -> ValidationError:
    return ValidationError({f"trigger_config.{name}": [message]})


def _time_clean(value) -> str:
    text = str(value or DEFAULT_TIME).strip()
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        raise _error("time", _("Give a time of day as HH:MM, like 08:30.")) from None
    return parsed.strftime("%H:%M")


def _int_clean(name: str, value, *, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _error(name, _("Give a whole number.")) from None
    if not low <= number <= high:
        raise _error(
            name, _("Give a number from %(low)d to %(high)d.") % {"low": low, "high": high}
        )
    return number


def changed_field_keys(kind: RecordKind) -> list[str]:
    """The fields whose change a rule may wait for: the record's own (not its customer's)."""
    own = {model_field.name for model_field in kind.model._meta.get_fields()}
    return [key for key in kind.fields if key in own]


def trigger_config_clean(*, trigger: str, kind: RecordKind, config: dict | None, user) -> dict:
    """The trigger's settings in stored form, or a ValidationError naming the setting."""
    config = dict(config or {})
    if trigger not in Trigger.values:
        raise ValidationError({"trigger": [_("Choose one of the triggers offered.")]})
    allowed_kinds = TRIGGER_KINDS.get(trigger)
    if allowed_kinds and kind.key not in allowed_kinds:
        raise ValidationError(
            {
                "trigger": [
                    _("This trigger is for rules on %(kinds)s only.")
                    % {"kinds": ", ".join(allowed_kinds)}
                ]
            }
        )
    if trigger == Trigger.FIELD_CHANGED:
        field = str(config.get("field") or "")
        if field not in changed_field_keys(kind):
            raise _error("field", _("Choose the field whose change sets the rule off."))
        cleaned = {"field": field}
        value = config.get("value")
        if value not in (None, "", []):
            condition = changed_to_condition(kind=kind, field=field, value=value, user=user)
            # A yes/no field's "changes to" lives in the operator; store it as a boolean.
            cleaned["value"] = (
                condition.operator == "true"
                if kind.fields[field].kind == BOOLEAN
                else condition.value
            )
        return cleaned
    if trigger == Trigger.STAGE_CHANGED:
        stage = str(config.get("stage") or "").strip()
        if not stage:
            return {}
        if not stage.isdigit() or not Stage.objects.filter(pk=int(stage)).exists():
            raise _error("stage", _("No such stage."))
        return {"stage": int(stage)}
    if trigger == Trigger.SLA_BREACHED:
        target = str(config.get("target") or "")
        if target and target not in SLA_TARGETS:
            raise _error("target", _("Choose the first response or the resolution target."))
        return {"target": target} if target else {}
    if trigger == Trigger.DATE_REACHED:
        field = str(config.get("field") or "")
        cleaned: dict = {}
        if field == CUSTOM_ATTRIBUTE and kind.key == "customer":
            attribute = str(config.get("attribute") or "").strip()
            if not ATTRIBUTE_NAME.match(attribute):
                raise _error("attribute", _("Name the custom attribute that holds the date."))
            cleaned = {"field": field, "attribute": attribute}
        elif field in {rule_field.key for rule_field in kind.date_fields()}:
            cleaned = {"field": field}
        else:
            raise _error("field", _("Choose the date the rule waits for."))
        direction = str(config.get("direction") or "before")
        if direction not in ("before", "after"):
            raise _error("direction", _("Choose before or after the date."))
        return {
            **cleaned,
            "days": _int_clean("days", config.get("days", 0), low=0, high=MAX_DAYS),
            "direction": direction,
            "time": _time_clean(config.get("time")),
        }
    if trigger == Trigger.SCHEDULE:
        frequency = str(config.get("frequency") or "")
        if frequency not in FREQUENCIES:
            raise _error("frequency", _("Choose hourly, daily or weekly."))
        cleaned = {"frequency": frequency, "time": _time_clean(config.get("time"))}
        if frequency == "weekly":
            cleaned["weekday"] = _int_clean("weekday", config.get("weekday", 0), low=0, high=6)
        return cleaned
    return {}


def changed_to_condition(*, kind: RecordKind, field: str, value, user) -> Condition:
    """ "Changed to `value`" as the condition the record must meet when the rule runs."""
    rule_field = kind.fields[field]
    if rule_field.kind == BOOLEAN:
        truth = str(value).strip().lower() in ("1", "true", "yes", "on")
        return Condition(field, "true" if truth else "false", None)
    try:
        return condition_clean(
            kind=kind,
            user=user,
            field=field,
            operator=_CHANGED_TO_OPERATOR[rule_field.kind],
            value=value,
        )
    except ValidationError as exc:
        raise _error("value", " ".join(exc.messages)) from None


def trigger_conditions(rule: Rule, kind: RecordKind) -> list[Condition]:
    """Conditions the trigger adds to the rule's own (a field changed *to* a value)."""
    config = rule.trigger_config or {}
    if rule.trigger == Trigger.FIELD_CHANGED and "value" in config:
        rule_field = kind.fields.get(config.get("field"))
        if rule_field is None:
            return []
        if rule_field.kind == BOOLEAN:
            return [Condition(rule_field.key, "true" if config["value"] else "false")]
        return [Condition(rule_field.key, _CHANGED_TO_OPERATOR[rule_field.kind], config["value"])]
    return []


def trigger_matches_event(rule: Rule, extra: dict) -> bool:
    """Whether the event's details fit the rule's trigger settings."""
    config = rule.trigger_config or {}
    if rule.trigger == Trigger.FIELD_CHANGED:
        changed = {name.removesuffix("_id") for name in extra.get("changed_fields", [])}
        return config.get("field") in changed
    if rule.trigger == Trigger.STAGE_CHANGED and config.get("stage"):
        return (extra.get("to_stage") or {}).get("id") == config["stage"]
    if rule.trigger == Trigger.SLA_BREACHED and config.get("target"):
        return extra.get("target") == config["target"]
    return True


# Dates and schedules -----------------------------------------------------------------------------


def _at(day: date, clock: str) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.fromisoformat(clock)))


def next_slot(rule: Rule, *, after: datetime) -> datetime | None:
    """The first moment after `after` at which a date or schedule rule looks for records."""
    if rule.trigger not in TIME_TRIGGERS:
        return None
    config = rule.trigger_config or {}
    clock = config.get("time") or DEFAULT_TIME
    local = timezone.localtime(after)
    frequency = config.get("frequency", "daily") if rule.trigger == Trigger.SCHEDULE else "daily"
    if frequency == "hourly":
        minute = time.fromisoformat(clock).minute
        slot = local.replace(minute=minute, second=0, microsecond=0)
        return slot if slot > local else slot + timedelta(hours=1)
    slot = _at(local.date(), clock)
    if frequency == "weekly":
        slot += timedelta(days=(int(config.get("weekday", 0)) - slot.weekday()) % 7)
        return slot if slot > local else slot + timedelta(days=7)
    return slot if slot > local else _at(local.date() + timedelta(days=1), clock)


def date_target(rule: Rule, *, slot: datetime) -> date:
    """The day a date rule's records must have in its field for the pass at `slot`: with "30
    days before", the records whose date is 30 days ahead."""
    config = rule.trigger_config or {}
    days = int(config.get("days", 0))
    today = timezone.localtime(slot).date()
    return today + timedelta(days=days if config.get("direction") != "after" else -days)


def date_filter(rule: Rule, kind: RecordKind, *, day: date) -> Q:
    """The records whose date field falls on `day` (a birthday on its month and day)."""
    config = rule.trigger_config or {}
    if config.get("field") == CUSTOM_ATTRIBUTE:
        return Q(**{f"custom_attributes__{config['attribute']}__startswith": day.isoformat()})
    rule_field = kind.fields[config["field"]]
    path = rule_field.lookup
    if rule_field.yearly:
        return Q(**{f"{path}__month": day.month, f"{path}__day": day.day})
    internal = kind.model._meta.get_field(path.split("__")[0]).get_internal_type()
    return Q(**{f"{path}__date" if internal == "DateTimeField" else path: day})


def trigger_describe(rule: Rule, kind: RecordKind) -> str:
    """The trigger in a sentence, for the rule list and page."""
    config = rule.trigger_config or {}
    label = str(Trigger(rule.trigger).label)
    if rule.trigger == Trigger.FIELD_CHANGED:
        rule_field = kind.fields.get(config.get("field"))
        name = rule_field.label if rule_field else config.get("field")
        if "value" in config:
            value = config["value"]
            if rule_field and rule_field.choices and isinstance(value, list):
                labels = dict(rule_field.choices())
                value = ", ".join(str(labels.get(item, item)) for item in value)
            return _("%(field)s changes to %(value)s") % {"field": name, "value": value}
        return _("%(field)s changes") % {"field": name}
    if rule.trigger == Trigger.STAGE_CHANGED and config.get("stage"):
        stage = object_of(Stage, config["stage"])
        return _("A deal moves to %(stage)s") % {"stage": stage.name if stage else "?"}
    if rule.trigger == Trigger.SLA_BREACHED and config.get("target"):
        return _("A ticket misses its %(target)s target") % {
            "target": _("first response")
            if config["target"] == "first_response"
            else _("resolution")
        }
    if rule.trigger == Trigger.DATE_REACHED:
        if config.get("field") == CUSTOM_ATTRIBUTE:
            name = config.get("attribute")
        else:
            rule_field = kind.fields.get(config.get("field"))
            name = rule_field.label if rule_field else config.get("field")
        template = (
            _("%(days)s days before %(field)s, at %(time)s")
            if config.get("direction") != "after"
            else _("%(days)s days after %(field)s, at %(time)s")
        )
        return template % {
            "days": config.get("days", 0),
            "field": name,
            "time": config.get("time", DEFAULT_TIME),
        }
    if rule.trigger == Trigger.SCHEDULE:
        frequency = config.get("frequency")
        if frequency == "hourly":
            return _("Every hour at minute %(minute)s") % {"minute": config.get("time", "")[3:]}
        if frequency == "weekly":
            return _("Every %(weekday)s at %(time)s") % {
                "weekday": WEEKDAYS[int(config.get("weekday", 0))],
                "time": config.get("time"),
            }
        return _("Every day at %(time)s") % {"time": config.get("time")}
    return label


WEEKDAYS = (
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
)
