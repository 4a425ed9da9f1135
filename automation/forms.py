"""The rule pages' forms. They only shape input: `rule_create`, `rule_update`, the condition and
action services check every value, so the pages and the API refuse the same things. A service's
error names the setting it is about; each form says which of its inputs shows it."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from automation.actions.fields import settable_fields_for
from automation.actions.outreach import webhooks_usable_by
from automation.conditions import DAY_COUNTS, NO_VALUE, OPERATOR_LABELS, OPERATORS_BY_KIND
from automation.models import Rule
from automation.record_types import (
    BOOLEAN,
    CHOICE,
    DATE,
    NUMBER,
    TAGS,
    TEAM,
    USER,
    RecordKind,
    RuleField,
)
from automation.triggers import (
    CUSTOM_ATTRIBUTE,
    TRIGGER_KINDS,
    WEEKDAYS,
    changed_field_keys,
)
from collaboration.models import ChatRoom, Task
from collaboration.selectors.chat import chat_rooms_for_user
from crm.accounts.models import Team, User
from mail.models import EmailTemplate
from mail.selectors import email_template_names
from sales.models import Stage
from sales.selectors.campaigns import campaign_list_visible
from sales.selectors.webforms import assignment_rule_list

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


def _label(item) -> str:
    return capfirst(str(item.label))


def _user_choices() -> list[tuple[str, str]]:
    return [(str(user.pk), user.label) for user in User.objects.filter(is_active=True)]


def _team_choices() -> list[tuple[str, str]]:
    return [(str(team.pk), team.name) for team in Team.objects.order_by("name")]


class ShownWhen:
    """Inputs that matter only for some values of another input (a trigger's settings): the
    page's script hides them otherwise. `show_when[name]` is "other=value1 value2", several
    joined by ";" (all must hold); `hide_when[name]` the same, for when to hide it."""

    show_when: dict[str, str] = {}
    hide_when: dict[str, str] = {}

    def rows(self) -> list[dict]:
        return [
            {
                "field": self[name],
                "show_when": self.show_when.get(name, ""),
                "hide_when": self.hide_when.get(name, ""),
            }
            for name in self.fields
        ]


def triggers_for(kind: RecordKind) -> list[tuple[str, str]]:
    return [
        (value, label)
        for value, label in Trigger.choices
        if kind.key in TRIGGER_KINDS.get(value, (kind.key,))
    ]


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
            *[(item.key, _label(item)) for item in changeable],
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
        date_choices = [(item.key, _label(item)) for item in kind.date_fields()]
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
        groups.append((_label(item), [(f"{item.key}:{value}", label) for value, label in options]))
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


# Conditions --------------------------------------------------------------------------------------


class ConditionFieldForm(forms.Form):
    """The first step of a condition: the field it tests (the operators and value follow)."""

    field = forms.ChoiceField(label=_("Field"))

    def __init__(self, *args, rule_fields: list[RuleField], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [
            ("", "---------"),
            *[(item.key, _label(item)) for item in rule_fields],
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


# Actions -----------------------------------------------------------------------------------------


class ActionTypeForm(forms.Form):
    type = forms.ChoiceField(label=_("Action"))

    def __init__(self, *args, action_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [
            ("", "---------"),
            *[(item.key, item.label) for item in action_types],
        ]


class ActionParamsForm(ShownWhen, forms.Form):
    """One action type's settings. Inputs are lenient: the action type's own check decides."""

    # The inputs that may hold placeholders ({{ record.name }}).
    text_fields: tuple[str, ...] = ()

    def __init__(self, *args, kind: RecordKind, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.user = user
        self.setup()

    def setup(self) -> None:
        """Fill in the choices that depend on the record kind and the user."""

    def params(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if value not in (None,)}


class UpdateFieldForm(ActionParamsForm):
    field = forms.ChoiceField(label=_("Field"))

    def setup(self) -> None:
        settable = settable_fields_for(kind=self.kind, user=self.user)
        self.fields["field"].choices = [
            ("", "---------"),
            *[(item.key, _label(item)) for item in settable],
        ]
        chosen = self.data.get(self.add_prefix("field")) if self.is_bound else None
        chosen = chosen or self.initial.get("field")
        item = next((item for item in settable if item.key == chosen), None)
        if item is not None and item.choices is not None:
            empty = _("Nobody / nothing") if item.related_model is not None else "---------"
            self.fields["value"] = forms.ChoiceField(
                label=_("Value"), required=False, choices=[("", empty), *item.choices()]
            )
        else:
            self.fields["value"] = forms.CharField(
                label=_("Value"),
                required=False,
                max_length=200,
                help_text=_("Choose the field first to pick among its values."),
            )


class AssignOwnerForm(ActionParamsForm):
    assignment_rule = forms.ChoiceField(label=_("Assignment rule"))

    def setup(self) -> None:
        self.fields["assignment_rule"].choices = [
            ("", "---------"),
            *[(str(rule.pk), rule.name) for rule in assignment_rule_list()],
        ]


class CreateTaskForm(ActionParamsForm):
    text_fields = ("title", "description")

    title = forms.CharField(label=_("Title"), required=False, max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    assignee = forms.ChoiceField(label=_("Give it to"))
    due_in_days = forms.CharField(
        label=_("Due in (days)"),
        required=False,
        initial=1,
        widget=forms.NumberInput(attrs={"min": 0}),
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Task.Priority.choices, initial=Task.Priority.NORMAL
    )

    def setup(self) -> None:
        self.fields["assignee"].choices = [("owner", _("The record's owner")), *_user_choices()]


class SendEmailForm(ActionParamsForm):
    template = forms.ChoiceField(label=_("Email template"))

    def setup(self) -> None:
        contexts = [EmailTemplate.Context.CUSTOMER]
        if self.kind.key in EmailTemplate.Context.values and self.kind.key not in contexts:
            contexts.append(self.kind.key)
        names = sorted(
            {name for context in contexts for name in email_template_names(context=context)}
        )
        self.fields["template"].choices = [("", "---------"), *[(name, name) for name in names]]


class NotifyForm(ActionParamsForm):
    text_fields = ("message",)

    to = forms.ChoiceField(
        label=_("Notify"),
        choices=[
            ("owner", _("The record's owner")),
            ("users", _("These users")),
            ("team", _("A team")),
        ],
    )
    users = forms.MultipleChoiceField(
        label=_("Users"), required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )
    team = forms.ChoiceField(label=_("Team"), required=False)
    message = forms.CharField(
        label=_("Message"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    show_when = {"users": "to=users", "team": "to=team"}

    def setup(self) -> None:
        self.fields["users"].choices = _user_choices()
        self.fields["team"].choices = [("", "---------"), *_team_choices()]
        if "users" in self.initial:
            self.initial["users"] = [str(pk) for pk in self.initial["users"]]

    def params(self) -> dict:
        data = self.cleaned_data
        params = {"to": data["to"], "message": data["message"]}
        if data["to"] == "users":
            params["users"] = data["users"]
        elif data["to"] == "team":
            params["team"] = data["team"]
        return params


class PostChatForm(ActionParamsForm):
    text_fields = ("message",)

    room = forms.ChoiceField(label=_("Room"))
    message = forms.CharField(
        label=_("Message"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def setup(self) -> None:
        rooms = [
            room
            for room in chat_rooms_for_user(user=self.user)
            if room.kind in (ChatRoom.Kind.TEAM, ChatRoom.Kind.GROUP)
        ]
        self.fields["room"].choices = [
            ("record", _("The record's discussion")),
            *[(str(room.pk), room.display_name) for room in rooms],
        ]


class CampaignForm(ActionParamsForm):
    campaign = forms.ChoiceField(label=_("Campaign"))

    def setup(self) -> None:
        campaigns = campaign_list_visible(user=self.user).order_by("name")
        self.fields["campaign"].choices = [
            ("", "---------"),
            *[(str(campaign.pk), campaign.name) for campaign in campaigns],
        ]


class CallWebhookForm(ActionParamsForm):
    subscription = forms.ChoiceField(label=_("Webhook"))

    def setup(self) -> None:
        self.fields["subscription"].choices = [
            ("", "---------"),
            *[(str(item.pk), item.name) for item in webhooks_usable_by(self.user)],
        ]


ACTION_FORMS: dict[str, type[ActionParamsForm]] = {
    "update_field": UpdateFieldForm,
    "assign_owner": AssignOwnerForm,
    "create_task": CreateTaskForm,
    "send_email": SendEmailForm,
    "notify": NotifyForm,
    "post_chat": PostChatForm,
    "campaign_add": CampaignForm,
    "campaign_remove": CampaignForm,
    "call_webhook": CallWebhookForm,
}
