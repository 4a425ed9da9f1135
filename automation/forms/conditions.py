"""A condition in two steps: the field, then the operator and the value."""

from django import forms
from django.utils.translation import gettext_lazy as _

from automation.conditions import DAY_COUNTS, NO_VALUE, OPERATOR_LABELS, OPERATORS_BY_KIND
from automation.forms.base import ShownWhen, field_label
from automation.record_types import (
    BOOLEAN,
    CHOICE,
    DATE,
    NUMBER,
    TAGS,
    TEAM,
    USER,
    RuleField,
)


class ConditionFieldForm(forms.Form):
    """The first step of a condition: the field it tests (the operators and value follow)."""

    field = forms.ChoiceField(label=_("Field"))

    def __init__(self, *args, rule_fields: list[RuleField], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [
            ("", "---------"),
            *[(item.key, field_label(item)) for item in rule_fields],
        ]


class ConditionForm(ShownWhen, forms.Form):
    """The operator and the value, with an input suited to the field's kind."""

    operator = forms.ChoiceField(label=_("Operator"))

    def __init__(self, *args, rule_field: RuleField, **kwargs):
        super().__init__(*args, **kwargs)
        self.rule_field = rule_field
        operators = OPERATORS_BY_KIND[rule_field.kind]
        self.fields["operator"].choices = [(op, OPERATOR_LABELS[op]) for op in operators]
        no_value = " ".join(op for op in operators if op in NO_VALUE)
        days = " ".join(op for op in operators if op in DAY_COUNTS)
        self.show_when = {"days": f"operator={days}"}
        self.hide_when = {"value": f"operator={no_value} {days}".rstrip()}
        kind = rule_field.kind
        if kind == BOOLEAN:
            return
        if kind in (CHOICE, USER, TEAM):
            self.fields["value"] = forms.MultipleChoiceField(
                label=_("Values"),
                required=False,
                choices=rule_field.choices() if rule_field.choices else [],
                widget=forms.SelectMultiple(attrs={"size": 6}),
            )
        elif kind == DATE:
            self.fields["value"] = forms.CharField(
                label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
            )
            self.fields["days"] = forms.CharField(
                label=_("Number of days"),
                required=False,
                widget=forms.NumberInput(attrs={"min": 0}),
            )
        elif kind == NUMBER:
            self.fields["value"] = forms.CharField(
                label=_("Value"),
                required=False,
                widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            )
        elif kind == TAGS:
            self.fields["value"] = forms.CharField(
                label=_("Tags"),
                required=False,
                help_text=_("Separate several tags with commas."),
            )
        else:
            self.fields["value"] = forms.CharField(label=_("Value"), required=False)

    def value(self):
        operator = self.cleaned_data.get("operator")
        if operator in NO_VALUE:
            return None
        if operator in DAY_COUNTS:
            return self.cleaned_data.get("days")
        return self.cleaned_data.get("value")

    def service_field_names(self) -> dict[str, str]:
        operator = self.cleaned_data.get("operator") if hasattr(self, "cleaned_data") else ""
        if operator in DAY_COUNTS and "days" in self.fields:
            return {"value": "days"}
        return {}
