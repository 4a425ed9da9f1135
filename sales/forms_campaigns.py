"""Forms of the campaign pages: the campaign itself, the list and report filters, adding a
member and recording a member's response."""

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Team, User
from crm.accounts.selectors import user_list_active
from customers.forms import DateInput
from customers.models import Customer
from customers.selectors.customers import customer_list_visible, segment_list_visible
from customers.views.records import RecordPickerInput
from sales.models import Campaign, CampaignMember
from sales.services.campaigns import CAMPAIGN_EDITABLE_FIELDS


class CampaignForm(forms.ModelForm):
    """Bound without an instance: the view hands the cleaned values to the service."""

    class Meta:
        model = Campaign
        fields = list(CAMPAIGN_EDITABLE_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "start_date": DateInput,
            "end_date": DateInput,
        }

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = segment_list_visible(user=user)
        self.fields["segment"].help_text = _(
            "Members can be added from this saved customer filter."
        )
        self.fields["owner"].queryset = user_list_active()
        self.fields["team"].queryset = Team.objects.order_by("name")
        self.fields["currency"].required = False
        self.fields["currency"].help_text = _("Three-letter code; left empty, the default.")

    def _post_clean(self) -> None:
        # The service validates the campaign (with messages naming the field); the form's own
        # model validation would refuse a half-built instance first, with vaguer messages.
        pass


class CampaignFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    type = forms.ChoiceField(
        label=_("Type"), choices=[("", _("Any type")), *Campaign.Type.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Any status")), *Campaign.Status.choices],
        required=False,
    )

    def selector_filters(self) -> dict:
        values = self.cleaned_data if self.is_valid() else {}
        return {
            "search": values.get("q", "").strip(),
            "type": values.get("type", ""),
            "status": values.get("status", ""),
        }


class CampaignReportFilterForm(CampaignFilterForm):
    period_from = forms.DateField(label=_("Running from"), required=False, widget=DateInput)
    period_to = forms.DateField(label=_("Running to"), required=False, widget=DateInput)

    def selector_filters(self) -> dict:
        values = self.cleaned_data if self.is_valid() else {}
        return {
            **super().selector_filters(),
            "period_from": values.get("period_from"),
            "period_to": values.get("period_to"),
        }


class CampaignMemberAddForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Customer.objects.none(),
        widget=RecordPickerInput(
            search_url=reverse_lazy("customers:customer_picker"),
            placeholder=_("Type a name, email or phone"),
        ),
        error_messages={"invalid_choice": _("No such customer.")},
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customer_list_visible(user=user)


class CampaignMemberResponseForm(forms.Form):
    response = forms.ChoiceField(label=_("Response"), choices=CampaignMember.Response.choices)
