"""Conditions: a field, an operator and a value, turned into SQL.

A rule's conditions are judged in one query on the record (each condition an annotation), and a
date or schedule rule finds its records with the same conditions as a filter, so a condition
means the same thing wherever it is judged. Relations with many rows (tags, the owner's teams)
are tested with a subquery, so a record is never counted twice and "has none of" is exact."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Case, Model, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
    RuleField,
)
from crm.accounts.field_security import field_access

OPERATOR_LABELS: dict[str, str | Promise] = {
    "eq": gettext_lazy("is"),
    "neq": gettext_lazy("is not"),
    "contains": gettext_lazy("contains"),
    "not_contains": gettext_lazy("does not contain"),
    "gt": gettext_lazy("is more than"),
    "gte": gettext_lazy("is at least"),
    "lt": gettext_lazy("is less than"),
    "lte": gettext_lazy("is at most"),
    "in": gettext_lazy("is one of"),
    "not_in": gettext_lazy("is none of"),
    "has_any": gettext_lazy("has any of"),
    "has_none": gettext_lazy("has none of"),
    "true": gettext_lazy("is yes"),
    "false": gettext_lazy("is no"),
    "before": gettext_lazy("is before"),
    "after": gettext_lazy("is after"),
    "on": gettext_lazy("is on"),
    "within_next_days": gettext_lazy("is within the next N days"),
    "within_last_days": gettext_lazy("was within the last N days"),
    "older_than_days": gettext_lazy("is more than N days ago"),
    "empty": gettext_lazy("is empty"),
    "not_empty": gettext_lazy("is not empty"),
}

OPERATORS_BY_KIND: dict[str, tuple[str, ...]] = {
    TEXT: ("eq", "neq", "contains", "not_contains", "empty", "not_empty"),
    NUMBER: ("eq", "neq", "gt", "gte", "lt", "lte", "empty", "not_empty"),
    CHOICE: ("in", "not_in", "empty", "not_empty"),
    USER: ("in", "not_in", "empty", "not_empty"),
    TEAM: ("in", "not_in", "empty", "not_empty"),
    TAGS: ("has_any", "has_none", "empty", "not_empty"),
    BOOLEAN: ("true", "false"),
    DATE: (
        "on",
        "before",
        "after",
        "within_next_days",
        "within_last_days",
        "older_than_days",
        "empty",
        "not_empty",
    ),
}
NO_VALUE = frozenset({"empty", "not_empty", "true", "false"})
DAY_COUNTS = frozenset({"within_next_days", "within_last_days", "older_than_days"})
MAX_DAYS = 3660
MAX_TEXT = 200


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    value: Any = None


def fields_for(*, kind: RecordKind, user) -> list[RuleField]:
    """The fields `user` may build conditions on: those whose field rule does not hide them."""
    return [rule_field for rule_field in kind.fields.values() if field_visible(rule_field, user)]


def field_visible(rule_field, user) -> bool:
    if rule_field.secured is None or user is None:
        return True
    model, name = rule_field.secured
    return field_access(user=user, model=model).can_see(name)


def _error(message) -> ValidationError:
    return ValidationError({"value": [message]})


def _choice_values(rule_field: RuleField, value) -> list[str]:
    values = value if isinstance(value, list | tuple) else [value]
    values = [str(item).strip() for item in values if str(item).strip()]
    if not values:
        raise _error(_("Choose at least one value."))
    allowed = dict(rule_field.choices()) if rule_field.choices else None
    if allowed is not None:
        unknown = [item for item in values if item not in allowed]
        if unknown:
            raise _error(
                _("%(values)s is not a choice of %(field)s.")
                % {"values": ", ".join(unknown), "field": rule_field.label}
            )
    return values


def _day_count(value) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise _error(_("Give a whole number of days.")) from None
    if not 0 <= days <= MAX_DAYS:
        raise _error(_("Give between 0 and %(max)d days.") % {"max": MAX_DAYS})
    return days


def condition_clean(*, kind: RecordKind, user, field: str, operator: str, value) -> Condition:
    """The condition with its value in stored form, or a ValidationError naming the part
    (field, operator or value) that is wrong."""
    rule_field = kind.fields.get(field)
    if rule_field is None or not field_visible(rule_field, user):
        raise ValidationError(
            {"field": [_("%(field)s is not a field you can test.") % {"field": field}]}
        )
    if operator not in OPERATORS_BY_KIND[rule_field.kind]:
        raise ValidationError(
            {
                "operator": [
                    _("%(operator)s cannot be used on %(field)s.")
                    % {"operator": operator, "field": rule_field.label}
                ]
            }
        )
    if operator in NO_VALUE:
        return Condition(field, operator, None)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _error(_("Give a value to compare with."))
    if rule_field.kind in (CHOICE, USER, TEAM):
        return Condition(field, operator, _choice_values(rule_field, value))
    if rule_field.kind == TAGS:
        names = value if isinstance(value, list | tuple) else str(value).split(",")
        names = sorted({" ".join(str(name).split()).lower() for name in names} - {""})
        if not names:
            raise _error(_("Name at least one tag."))
        return Condition(field, operator, names)
    if rule_field.kind == NUMBER:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise _error(_("Give a number, like 1000 or 12.5.")) from None
        if not number.is_finite():
            raise _error(_("Give a number, like 1000 or 12.5."))
        return Condition(field, operator, str(number))
    if rule_field.kind == DATE:
        if operator in DAY_COUNTS:
            return Condition(field, operator, _day_count(value))
        try:
            return Condition(field, operator, date.fromisoformat(str(value).strip()).isoformat())
        except ValueError:
            raise _error(_("Give a date as YYYY-MM-DD.")) from None
    text = " ".join(str(value).split())
    if len(text) > MAX_TEXT:
        raise _error(_("Keep the value under %(max)d characters.") % {"max": MAX_TEXT})
    return Condition(field, operator, text)


def _today() -> date:
    return timezone.localdate()


def _date_lookup(rule_field: RuleField, operator: str, value, model: type[Model]) -> Q:
    path = rule_field.lookup
    is_datetime = model._meta.get_field(path.split("__")[0]).get_internal_type() == "DateTimeField"
    day = f"{path}__date" if is_datetime else path
    today = _today()
    if operator in DAY_COUNTS:
        days = int(value)
        if operator == "within_next_days":
            return Q(**{f"{day}__gte": today, f"{day}__lte": today + timedelta(days=days)})
        if operator == "within_last_days":
            return Q(**{f"{day}__lte": today, f"{day}__gte": today - timedelta(days=days)})
        return Q(**{f"{day}__lt": today - timedelta(days=days)})
    when = date.fromisoformat(value)
    if rule_field.yearly and operator == "on":
        return Q(**{f"{path}__month": when.month, f"{path}__day": when.day})
    return Q(**{{"on": day, "before": f"{day}__lt", "after": f"{day}__gt"}[operator]: when})


def _direct_q(rule_field: RuleField, operator: str, value, model: type[Model]) -> Q:
    path = rule_field.lookup
    if operator in ("empty", "not_empty"):
        empty = Q(**{f"{path}__isnull": True})
        if rule_field.kind == TEXT or (rule_field.kind == CHOICE and not rule_field.related_model):
            # Text and coded choices store "nothing" as an empty string.
            empty |= Q(**{path: ""})
        return empty if operator == "empty" else ~empty
    if rule_field.kind == BOOLEAN:
        return Q(**{path: operator == "true"})
    if rule_field.kind == DATE:
        return _date_lookup(rule_field, operator, value, model)
    if rule_field.kind == TEXT:
        if operator in ("eq", "neq"):
            test = Q(**{f"{path}__iexact": value})
        else:
            test = Q(**{f"{path}__icontains": value})
        return ~test if operator in ("neq", "not_contains") else test
    if rule_field.kind == NUMBER:
        number = Decimal(value)
        if operator in ("eq", "neq"):
            test = Q(**{path: number})
            return ~test if operator == "neq" else test
        return Q(**{f"{path}__{operator}": number})
    test = Q(**{f"{path}__in": list(value)})
    return ~test if operator == "not_in" else test


def condition_q(*, kind: RecordKind, condition: Condition) -> Q:
    """The records that meet `condition`, as a filter on the record kind's model."""
    rule_field = kind.fields[condition.field]
    if not rule_field.many:
        return _direct_q(rule_field, condition.operator, condition.value, kind.model)
    manager = kind.model._default_manager
    if condition.operator in ("empty", "not_empty"):
        having = manager.filter(**{f"{rule_field.lookup}__isnull": False}).values("pk")
        return ~Q(pk__in=having) if condition.operator == "empty" else Q(pk__in=having)
    having = manager.filter(**{f"{rule_field.lookup}__in": list(condition.value)}).values("pk")
    return ~Q(pk__in=having) if condition.operator in ("not_in", "has_none") else Q(pk__in=having)


def conditions_q(*, kind: RecordKind, conditions: list[Condition], match_any: bool) -> Q:
    if not conditions:
        return Q()
    combined = Q(pk__in=[]) if match_any else Q()
    for condition in conditions:
        test = condition_q(kind=kind, condition=condition)
        combined = combined | test if match_any else combined & test
    return combined


def conditions_judge(
    *, queryset: QuerySet, kind: RecordKind, record_pk: int, conditions: list[Condition]
) -> list[bool] | None:
    """Whether the record (among `queryset`) meets each condition, in one query; None when the
    record is not in `queryset` (gone, or not visible)."""
    annotations = {
        f"condition_{index}": Case(
            When(condition_q(kind=kind, condition=condition), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
        for index, condition in enumerate(conditions)
    }
    row = queryset.filter(pk=record_pk).annotate(**annotations).values("pk", *annotations).first()
    if row is None:
        return None
    return [bool(row[f"condition_{index}"]) for index in range(len(conditions))]


def value_label(kind: RecordKind, condition: Condition) -> str:
    """The value as people read it: choice labels rather than codes."""
    rule_field = kind.fields.get(condition.field)
    value = condition.value
    if rule_field is None or value is None:
        return ""
    if isinstance(value, list):
        labels = dict(rule_field.choices()) if rule_field.choices else {}
        return ", ".join(str(labels.get(item, item)) for item in value)
    if condition.operator in DAY_COUNTS:
        return _("%(days)s days") % {"days": value}
    return str(value)


def condition_describe(kind: RecordKind, condition: Condition) -> str:
    rule_field = kind.fields.get(condition.field)
    label = rule_field.label if rule_field else condition.field
    operator = OPERATOR_LABELS.get(condition.operator, condition.operator)
    value = value_label(kind, condition)
    return f"{label} {operator} {value}".strip()
