"""Forms of the SLA setup pages. They only parse input; the rules live in
service.services.sla_policies, which the API calls too."""

from datetime import time

from django import forms
from django.utils.translation import gettext_lazy

from customers.models import Customer
from service.models import Priority
from service.selectors.sla_policies import calendar_choices
from service.services.sla_policies import time_zone_names

WEEKDAY_CHOICES = [
    (1, gettext_lazy("Monday")),
    (2, gettext_lazy("Tuesday")),
    (3, gettext_lazy("Wednesday")),
    (4, gettext_lazy("Thursday")),
    (5, gettext_lazy("Friday")),
    (6, gettext_lazy("Saturday")),
    (7, gettext_lazy("Sunday")),
]


class SlaPolicyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    tier = forms.ChoiceField(
        label=gettext_lazy("Service tier"),
        choices=[("", gettext_lazy("Any tier")), *Customer.Tier.choices],
        required=False,
    )
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority"),
        choices=[("", gettext_lazy("Any priority")), *Priority.choices],
        required=False,
    )
    first_response_minutes = forms.IntegerField(
        label=gettext_lazy("First response within (business minutes)"), min_value=1
    )
    resolution_minutes = forms.IntegerField(
        label=gettext_lazy("Resolution within (business minutes)"), min_value=1
    )
    warn_before_minutes = forms.IntegerField(
        label=gettext_lazy("Warn before breach (business minutes)"),
        min_value=0,
        initial=60,
        help_text=gettext_lazy("0 sends no warning."),
    )
    calendar = forms.ModelChoiceField(
        label=gettext_lazy("Business calendar"), queryset=calendar_choices(), empty_label=None
    )
    escalate_raise_priority = forms.BooleanField(
        label=gettext_lazy("Raise the priority one step on breach"), required=False, initial=True
    )
    escalate_to_manager = forms.BooleanField(
        label=gettext_lazy("Reassign to the team manager on breach"), required=False
    )


class CalendarForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"), choices=())
    working_days = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Working days"),
        choices=WEEKDAY_CHOICES,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        initial=[1, 2, 3, 4, 5],
    )
    day_starts_at = forms.TimeField(
        label=gettext_lazy("Day starts at"),
        initial=time(9),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    day_ends_at = forms.TimeField(
        label=gettext_lazy("Day ends at"),
        initial=time(18),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    is_default = forms.BooleanField(
        label=gettext_lazy("Default calendar"),
        required=False,
        help_text=gettext_lazy("New SLA policies use the default calendar unless told."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name) for name in sorted(time_zone_names())]


class HolidayForm(forms.Form):
    date = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100, required=False)
