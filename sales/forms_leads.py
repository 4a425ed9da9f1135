"""Forms of the web form builder, the hosted web form a visitor fills in, and assignment rules.

They parse and render; the rules (what a form must ask, what a rule needs) are checked by the
services, which the API calls too.
"""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from crm.accounts.models import Team, User
from crm.accounts.selectors import records_visible_to, user_list_active
from customers.models import Customer
from sales.models import AssignmentRule, Campaign, WebForm

# The hidden field a person never sees and a bot fills in; named like a field bots like.
HONEYPOT_FIELD = "website"

_PUBLIC_WIDGETS = {
    WebForm.Field.NAME: forms.TextInput(attrs={"autocomplete": "name"}),
    WebForm.Field.EMAIL: forms.EmailInput(attrs={"autocomplete": "email"}),
    WebForm.Field.PHONE: forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    WebForm.Field.COMPANY: forms.TextInput(attrs={"autocomplete": "organization"}),
    WebForm.Field.JOB_TITLE: forms.TextInput(attrs={"autocomplete": "organization-title"}),
    WebForm.Field.CITY: forms.TextInput(attrs={"autocomplete": "address-level2"}),
    WebForm.Field.PROVINCE: forms.TextInput(attrs={"autocomplete": "address-level1"}),
    WebForm.Field.MESSAGE: forms.Textarea(attrs={"rows": 4}),
}


def _teams():
    return Team.objects.order_by("name")


class WebFormForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    slug = forms.SlugField(
        label=gettext_lazy("Address"),
        max_length=60,
        help_text=gettext_lazy("Letters, digits and hyphens; the page is /sales/f/<address>/."),
    )
    title = forms.CharField(
        label=gettext_lazy("Title shown on the form"), max_length=200, required=False
    )
    fields = forms.MultipleChoiceField(
        label=gettext_lazy("Fields"),
        choices=WebForm.Field.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("The name, and an email or a phone number, are needed."),
    )
    thank_you_text = forms.CharField(
        label=gettext_lazy("Thank-you text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Target owner"), queryset=User.objects.none(), required=False
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("Target team"), queryset=Team.objects.none(), required=False
    )
    campaign = forms.ModelChoiceField(
        label=gettext_lazy("Campaign"), queryset=Campaign.objects.none(), required=False
    )
    source = forms.ChoiceField(
        label=gettext_lazy("Source"),
        choices=Customer.Source.choices,
        initial=Customer.Source.WEBSITE,
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = user_list_active()
        self.fields["owner"].help_text = gettext_lazy(
            "Gets the leads that no assignment rule takes (or their team does)."
        )
        self.fields["team"].queryset = _teams()
        self.fields["campaign"].queryset = records_visible_to(
            user=user, queryset=Campaign.objects.order_by("name")
        )


class WebFormPublicForm(forms.Form):
    """The fields a web form asks for, as a visitor sees them; all optional here, because the
    service says what is missing in words meant for the visitor."""

    def __init__(self, *args, webform: WebForm, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(WebForm.Field.choices)
        for name in webform.fields:
            self.fields[name] = forms.CharField(
                label=labels[name], required=False, widget=_PUBLIC_WIDGETS[name]
            )
        self.fields[HONEYPOT_FIELD] = forms.CharField(
            label=gettext_lazy("Leave this empty"),
            required=False,
            widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
        )

    def __iter__(self):
        # The honeypot is rendered on its own, inside an element people never see.
        return (field for field in super().__iter__() if field.name != HONEYPOT_FIELD)

    def honeypot(self) -> forms.BoundField:
        return self[HONEYPOT_FIELD]

    def submitted(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name != HONEYPOT_FIELD}


class AssignmentRuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    applies_to = forms.ChoiceField(
        label=gettext_lazy("Applies to"),
        choices=AssignmentRule.AppliesTo.choices,
        initial=AssignmentRule.AppliesTo.BOTH,
    )
    match = forms.ChoiceField(
        label=gettext_lazy("Match"),
        choices=AssignmentRule.Match.choices,
        initial=AssignmentRule.Match.ANY,
    )
    match_values = forms.CharField(
        label=gettext_lazy("Values"),
        max_length=500,
        required=False,
        help_text=gettext_lazy(
            "For city, province or source: the values, separated by commas; case is ignored."
        ),
    )
    strategy = forms.ChoiceField(
        label=gettext_lazy("Strategy"),
        choices=AssignmentRule.Strategy.choices,
        initial=AssignmentRule.Strategy.ROUND_ROBIN,
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"),
        queryset=Team.objects.none(),
        required=False,
        help_text=gettext_lazy("Round robin: its active members take turns."),
    )
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"),
        queryset=User.objects.none(),
        required=False,
        help_text=gettext_lazy("Always the same owner: who gets every record."),
    )
    fallback_owner = forms.ModelChoiceField(
        label=gettext_lazy("Fallback owner"),
        queryset=User.objects.none(),
        required=False,
        help_text=gettext_lazy("Gets the record when nobody in the team (or the owner) can."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = _teams()
        self.fields["owner"].queryset = user_list_active()
        self.fields["fallback_owner"].queryset = user_list_active()
