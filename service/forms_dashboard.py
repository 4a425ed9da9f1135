"""The service dashboard's filters, shared by the page, its CSV and the metrics API."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Team, User
from customers.models import Customer
from service.models import Ticket, TicketCategory
from service.selectors.metrics import (
    MetricsScope,
    metrics_agents_for,
    metrics_default_period,
    metrics_teams_for,
)


class MetricsFilterForm(forms.Form):
    """`from` and `to` are Python keywords, so those two fields are added in __init__."""

    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("Any team")
    )
    agent = forms.ModelChoiceField(
        label=_("Agent"), queryset=User.objects.none(), required=False, empty_label=_("Anyone")
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[("", _("Any channel")), *Ticket.Channel.choices],
        required=False,
    )
    tier = forms.ChoiceField(
        label=_("Service tier"),
        choices=[("", _("Any tier")), *Customer.Tier.choices],
        required=False,
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=TicketCategory.objects.order_by("name"),
        required=False,
        empty_label=_("Any category"),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        period = {
            "from": forms.DateField(
                label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
            ),
            "to": forms.DateField(
                label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
            ),
        }
        self.fields = {**period, **self.fields}
        self.fields["team"].queryset = metrics_teams_for(user=user)
        self.fields["agent"].queryset = metrics_agents_for(user=user)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        default_start, default_end = metrics_default_period()
        end = cleaned.get("to") or default_end
        start = cleaned.get("from")
        if start is None:
            start = end - (default_end - default_start)
        cleaned["from"], cleaned["to"] = start, end
        return cleaned

    def scope(self) -> MetricsScope:
        """The figures' scope; ValidationError naming the field when the input makes no sense."""
        if not self.is_valid():
            raise ValidationError(self.errors)
        values = self.cleaned_data
        try:
            return MetricsScope(
                user=self.user,
                start=values["from"],
                end=values["to"],
                team=values["team"],
                agent=values["agent"],
                channel=values["channel"],
                tier=values["tier"],
                category=values["category"],
            )
        except ValueError as exc:
            self.add_error("to", str(exc))
            raise ValidationError(self.errors) from exc
