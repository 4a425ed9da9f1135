"""Forms of the pages customers use without signing in: the support form and the satisfaction
survey. Fields are loose here on purpose: the services check the values and say what is wrong
in words meant for the customer, so the rules are written once."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from service.models import Ticket
from service.services.public import HONEYPOT_FIELD

RATING_CHOICES = [
    ("1", _("1 – Very dissatisfied")),
    ("2", _("2 – Dissatisfied")),
    ("3", _("3 – Neither")),
    ("4", _("4 – Satisfied")),
    ("5", _("5 – Very satisfied")),
]


class TicketPublicForm(forms.Form):
    name = forms.CharField(label=_("Your name"), required=False)
    email = forms.CharField(
        label=_("Email"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel"}),
    )
    type = forms.CharField(
        label=_("What is it about?"),
        initial=Ticket.Type.INQUIRY,
        required=False,
        widget=forms.Select(choices=Ticket.Type.choices),
    )
    subject = forms.CharField(label=_("Subject"), required=False)
    message = forms.CharField(label=_("Message"), required=False, widget=forms.Textarea)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields[HONEYPOT_FIELD] = forms.CharField(
            label=_("Leave this empty"),
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


class SurveyAnswerForm(forms.Form):
    # A CharField with radio buttons rather than a ChoiceField: a rating out of range gets the
    # service's message, not Django's generic one.
    rating = forms.CharField(
        label=_("How satisfied are you with how we handled your request?"),
        required=False,
        widget=forms.RadioSelect(choices=RATING_CHOICES),
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
