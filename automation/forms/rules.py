"""The rule's own form: what it is about, its name, trigger and the trigger's settings."""

from django import forms
from django.utils.translation import gettext_lazy as _

from automation.forms.base import ShownWhen, field_label
from automation.models import Rule
from automation.record_types import (
    BOOLEAN,
    RecordKind,
    RuleField,
)
from automation.triggers import (
    CUSTOM_ATTRIBUTE,
    WEEKDAYS,
    changed_field_keys,
    triggers_for,
)
from sales.models import Stage

Trigger = Rule.Trigger

# The trigger settings each input belongs to (the page shows only the chosen trigger's).
TRIGGER_SETTINGS: dict[str, tuple[str, ...]] = {
    "changed_field": (Trigger.FIELD_CHANGED,),
    "changed_choice": (Trigger.FIELD_CHANGED,),
    "changed_text": (Trigger.FIELD_CHANGED,),
    "stage": (Trigger.STAGE_CHANGED,),
    "target": (Trigger.SLA_BREACHED,),
    "date_field": (Trigger.DATE_REACHED,),
    "attribute": (Trigger.DATE_REACHED,),
    "days": (Trigger.DATE_REACHED,),
    "direction": (Trigger.DATE_REACHED,),
    "time": (Trigger.DATE_REACHED, Trigger.SCHEDULE),
    "frequency": (Trigger.SCHEDULE,),
    "weekday": (Trigger.SCHEDULE,),
}
# Stored settings (trigger_config keys) by the input that holds them, where the names differ.
_CONFIG_KEYS = {"changed_field": "field", "date_field": "field"}
_BOOLEAN_CHOICES = (("true", _("yes")), ("false", _("no")))


class RecordTypeForm(forms.Form):
    """The first step of a new rule: what it is about, which decides its fields."""

    record_type = forms.ChoiceField(
        label=_("The rule is about"), choices=Rule.RecordType.choices, widget=forms.RadioSelect
    )


class RuleForm(ShownWhen, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    trigger = forms.ChoiceField(label=_("When"))
    changed_field = forms.ChoiceField(label=_("The field that changes"), required=False)
    changed_choice = forms.ChoiceField(
        label=_("Only when it changes to"),
        required=False,
        help_text=_("Leave empty for any change."),
    )
    changed_text = forms.CharField(
        label=_("Only when it changes to (a value to type)"),
        required=False,
        max_length=200,
        help_text=_("For fields without a list of values; leave empty for any change."),
    )
    stage = forms.ChoiceField(label=_("Moved to the stage"), required=False)
    target = forms.ChoiceField(
        label=_("The target missed"),
        required=False,
        choices=[
            ("", _("Either target")),
            ("first_response", _("First response")),
            ("resolution", _("Resolution")),
        ],
    )
    date_field = forms.ChoiceField(label=_("The date"), required=False)
    attribute = forms.CharField(
        label=_("Custom attribute holding the date"),
        required=False,
        max_length=60,
        help_text=_("Only when the date is a custom attribute."),
    )
    days = forms.CharField(
        label=_("Days"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 0}),
        initial=0,
    )
    direction = forms.ChoiceField(
        label=_("Before or after the date"),
        required=False,
        choices=[("before", _("Before")), ("after", _("After"))],
    )
    time = forms.CharField(
        label=_("At (time of day)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        initial="08:00",
        help_text=_("Hourly schedules use its minutes."),
    )
    frequency = forms.ChoiceField(
        label=_("How often"),
        required=False,
        choices=[
            ("hourly", _("Every hour")),
            ("daily", _("Every day")),
            ("weekly", _("Every week")),
        ],
    )
    weekday = forms.ChoiceField(
        label=_("On (weekly)"),
        required=False,
        choices=[(str(index), day) for index, day in enumerate(WEEKDAYS)],
    )
    match = forms.ChoiceField(
        label=_("Run the actions when"), choices=Rule.Match.choices, initial=Rule.Match.ALL
    )
    is_enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    def __init__(self, *args, kind: RecordKind, rule: Rule | None = None, **kwargs):
        if rule is not None:
            kwargs.setdefault("initial", rule_form_initial(rule, kind))
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["trigger"].choices = triggers_for(kind)
        changeable = [kind.fields[key] for key in changed_field_keys(kind)]
        self.fields["changed_field"].choices = [
            ("", "---------"),
            *[(item.key, field_label(item)) for item in changeable],
        ]
        self.fields["changed_choice"].choices = [
            ("", _("Any value")),
            *_changed_choices(changeable),
        ]
        self.choice_field_keys = [
            item.key for item in changeable if item.choices or item.kind == BOOLEAN
        ]
        if kind.key == "deal":
            stages = Stage.objects.select_related("pipeline").order_by("pipeline__name", "position")
            self.fields["stage"].choices = [
                ("", _("Any stage")),
                *[(str(stage.pk), f"{stage.pipeline.name} › {stage.name}") for stage in stages],
            ]
        else:
            del self.fields["stage"]
        if kind.key != "ticket":
            del self.fields["target"]
        date_choices = [(item.key, field_label(item)) for item in kind.date_fields()]
        if kind.key == "customer":
            date_choices.append((CUSTOM_ATTRIBUTE, _("A custom attribute")))
        else:
            del self.fields["attribute"]
        self.fields["date_field"].choices = [("", "---------"), *date_choices]

        choice_keys = " ".join(self.choice_field_keys)
        self.show_when = {
            name: f"trigger={' '.join(triggers)}" for name, triggers in TRIGGER_SETTINGS.items()
        }
        self.show_when["changed_choice"] += f";changed_field={choice_keys}"
        self.hide_when = {"changed_text": f"changed_field={choice_keys}"}
        self.show_when["attribute"] += f";date_field={CUSTOM_ATTRIBUTE}"
        self.show_when["weekday"] += ";frequency=weekly"

    def trigger_config(self) -> dict:
        """The chosen trigger's settings, as typed: the service checks them."""
        data = self.cleaned_data
        trigger = data.get("trigger")
        config = {}
        for name, triggers in TRIGGER_SETTINGS.items():
            if trigger in triggers and name in self.fields and data.get(name) not in (None, ""):
                config[_CONFIG_KEYS.get(name, name)] = data[name]
        if trigger == Trigger.FIELD_CHANGED:
            config.pop("changed_choice", None)
            config.pop("changed_text", None)
            field = config.get("field")
            choice, text = data.get("changed_choice") or "", data.get("changed_text") or ""
            if field in self.choice_field_keys:
                # A choice is sent as "field:value", so one list serves every field.
                value = choice.removeprefix(f"{field}:") if choice else text
            else:
                value = text or choice
            if value:
                config["value"] = value
        return config

    def rule_values(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"],
            "trigger": data["trigger"],
            "trigger_config": self.trigger_config(),
            "match": data["match"],
            "is_enabled": data["is_enabled"],
        }

    def service_field_names(self) -> dict[str, str]:
        """The form's input for each name a service's ValidationError may use."""
        trigger = self.cleaned_data.get("trigger") if hasattr(self, "cleaned_data") else ""
        names = {f"trigger_config.{name}": name for name in TRIGGER_SETTINGS}
        names["trigger_config.field"] = (
            "date_field" if trigger == Trigger.DATE_REACHED else "changed_field"
        )
        field = self.cleaned_data.get("changed_field") if hasattr(self, "cleaned_data") else ""
        names["trigger_config.value"] = (
            "changed_choice" if field in self.choice_field_keys else "changed_text"
        )
        return names


def _changed_choices(changeable: list[RuleField]) -> list:
    groups = []
    for item in changeable:
        if item.kind == BOOLEAN:
            options = _BOOLEAN_CHOICES
        elif item.choices:
            options = item.choices()
        else:
            continue
        groups.append(
            (field_label(item), [(f"{item.key}:{value}", label) for value, label in options])
        )
    return groups


def rule_form_initial(rule: Rule, kind: RecordKind) -> dict:
    config = rule.trigger_config or {}
    initial = {
        "name": rule.name,
        "description": rule.description,
        "trigger": rule.trigger,
        "match": rule.match,
        "is_enabled": rule.is_enabled,
    }
    for name, triggers in TRIGGER_SETTINGS.items():
        key = _CONFIG_KEYS.get(name, name)
        if rule.trigger in triggers and key in config:
            initial[name] = config[key]
    if rule.trigger == Trigger.FIELD_CHANGED and "value" in config:
        field, value = config.get("field"), config["value"]
        rule_field = kind.fields.get(field)
        if rule_field is not None and rule_field.kind == BOOLEAN:
            initial["changed_choice"] = f"{field}:{'true' if value else 'false'}"
        elif rule_field is not None and rule_field.choices and isinstance(value, list):
            initial["changed_choice"] = f"{field}:{value[0]}" if value else ""
        else:
            initial["changed_text"] = ", ".join(value) if isinstance(value, list) else value
    return initial
