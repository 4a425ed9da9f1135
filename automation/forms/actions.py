"""An action's settings, a form per action type."""

from django import forms
from django.utils.translation import gettext_lazy as _

from automation.actions.fields import settable_fields_for
from automation.actions.outreach import webhooks_usable_by
from automation.forms.base import ShownWhen, field_label
from automation.record_types import (
    RecordKind,
    team_choices,
    user_choices,
)
from collaboration.models import ChatRoom, Task
from collaboration.selectors.chat import chat_rooms_for_user
from mail.models import EmailTemplate
from mail.selectors import email_template_names
from sales.selectors.campaigns import campaign_list_visible
from sales.selectors.webforms import assignment_rule_list


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
            *[(item.key, field_label(item)) for item in settable],
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
        self.fields["assignee"].choices = [("owner", _("The record's owner")), *user_choices()]


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
        self.fields["users"].choices = user_choices()
        self.fields["team"].choices = [("", "---------"), *team_choices()]
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
