"""Forms of the customer and company lists, saved segments and the company pages."""

from django import forms
from django.db.models import Q, QuerySet
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.accounts.models import Team, User
from crm.accounts.selectors import (
    record_is_visible_to,
    user_is_admin,
    user_list_active,
    user_team_ids,
)
from customers.models import Company, Customer, Segment, Tag
from customers.selectors.customers import CustomerFilter
from customers.services.customers import COMPANY_EDITABLE_FIELDS, MAX_AGE_YEARS


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class CustomerFilterForm(forms.Form):
    """The filters of a customer list, as typed into the list page or an API query.

    The field names are the page's query parameters and the keys of a segment's saved filters,
    so a segment opens as the list it was saved from.
    """

    search_field = "q"

    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=200)
    status = forms.MultipleChoiceField(
        label=gettext_lazy("Status"),
        choices=Customer.Status.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    tier = forms.MultipleChoiceField(
        label=gettext_lazy("Tier"),
        choices=Customer.Tier.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("Any owner"),
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=gettext_lazy("Any team"),
    )
    tag = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Tags"),
        queryset=Tag.objects.none(),
        to_field_name="name",
        required=False,
        help_text=gettext_lazy("Customers with any of these tags."),
    )
    city = forms.CharField(
        label=gettext_lazy("City"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("As written on the customer: Shanghai, 上海."),
    )
    age_min = forms.IntegerField(
        label=gettext_lazy("Age from"), required=False, min_value=0, max_value=MAX_AGE_YEARS
    )
    age_max = forms.IntegerField(
        label=gettext_lazy("Age to"), required=False, min_value=0, max_value=MAX_AGE_YEARS
    )
    spend_min = forms.DecimalField(
        label=gettext_lazy("Total spend from"),
        required=False,
        min_value=0,
        max_digits=16,
        decimal_places=2,
    )
    spend_max = forms.DecimalField(
        label=gettext_lazy("Total spend to"),
        required=False,
        min_value=0,
        max_digits=16,
        decimal_places=2,
    )
    contacted_after = forms.DateField(
        label=gettext_lazy("Last contact on or after"), required=False, widget=DateInput
    )
    contacted_before = forms.DateField(
        label=gettext_lazy("Last contact before"), required=False, widget=DateInput
    )
    never_contacted = forms.BooleanField(label=gettext_lazy("Never contacted"), required=False)
    company = forms.ModelChoiceField(
        label=gettext_lazy("Company"),
        queryset=Company.objects.none(),
        required=False,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["owner"].queryset = user_list_active()
        self.fields["team"].queryset = Team.objects.order_by("name")
        self.fields["tag"].queryset = Tag.objects.order_by("name")
        # Any company: a customer the user sees may work at one they do not.
        self.fields["company"].queryset = Company.objects.all()

    def company_name(self) -> str:
        """The chosen company's name, when the user may see that company."""
        company = self.cleaned_data.get("company") if self.is_bound and self.is_valid() else None
        if company is None or not record_is_visible_to(user=self.user, record=company):
            return ""
        return company.name

    def clean(self):
        data = super().clean()
        ranges = [
            ("age_min", "age_max", _("The upper age is below the lower one.")),
            ("spend_min", "spend_max", _("The upper amount is below the lower one.")),
        ]
        for low, high, message in ranges:
            if data.get(low) is not None and data.get(high) is not None and data[high] < data[low]:
                self.add_error(high, message)
        after, before = data.get("contacted_after"), data.get("contacted_before")
        if after and before and before <= after:
            self.add_error("contacted_before", _("This date must come after the other one."))
        if data.get("never_contacted") and (after or before):
            self.add_error(
                "never_contacted",
                _("A customer never contacted has no date of last contact to filter on."),
            )
        return data

    def to_filter(self) -> CustomerFilter:
        data = self.cleaned_data
        return CustomerFilter(
            search=data.get(self.search_field) or "",
            statuses=tuple(data.get("status") or ()),
            tiers=tuple(data.get("tier") or ()),
            owner_id=data["owner"].pk if data.get("owner") else None,
            team_id=data["team"].pk if data.get("team") else None,
            tags=tuple(tag.name for tag in data.get("tag") or ()),
            city=data.get("city") or "",
            age_min=data.get("age_min"),
            age_max=data.get("age_max"),
            spend_min=data.get("spend_min"),
            spend_max=data.get("spend_max"),
            contacted_after=data.get("contacted_after"),
            contacted_before=data.get("contacted_before"),
            never_contacted=bool(data.get("never_contacted")),
            company_id=data["company"].pk if data.get("company") else None,
        )

    def summary(self) -> list[tuple[str, str]]:
        """(label, value) of each filter that is set, in words, for a segment's page."""
        items = []
        for name, field in self.fields.items():
            value = self.cleaned_data.get(name)
            if not _is_set(value):
                continue
            if isinstance(field, forms.MultipleChoiceField):
                labels = dict(field.choices)
                text = ", ".join(str(labels[item]) for item in value)
            elif isinstance(field, forms.ModelMultipleChoiceField):
                text = ", ".join(str(item) for item in value)
            elif value is True:
                text = _("yes")
            else:
                text = formats.localize(value)
            items.append((str(field.label), text))
        return items


def _is_set(value) -> bool:
    if isinstance(value, (list, tuple, QuerySet)):
        return len(value) > 0
    return value is not None and value is not False and value != ""


class CustomerApiFilterForm(CustomerFilterForm):
    """The same filters under the API's parameter names: DRF's `search` for the page's `q`."""

    search_field = "search"

    q = None
    search = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=200)


class CompanyFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=200)
    industry = forms.CharField(label=gettext_lazy("Industry"), required=False, max_length=100)
    city = forms.CharField(label=gettext_lazy("City"), required=False, max_length=100)


class CompanyForm(forms.ModelForm):
    """Bound without an instance (an edit passes the company's values as `initial`): the
    service, not the form, writes to the company."""

    class Meta:
        model = Company
        fields = COMPANY_EDITABLE_FIELDS

    website = forms.URLField(label=gettext_lazy("website"), required=False, assume_scheme="https")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = user_list_active()
        self.fields["team"].queryset = Team.objects.order_by("name")


class SegmentForm(forms.ModelForm):
    """Name, description and sharing of a segment; its filters come from a CustomerFilterForm.

    Bound without an instance, like CompanyForm."""

    class Meta:
        model = Segment
        fields = ["name", "description", "team"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        teams = Team.objects.order_by("name")
        if not user_is_admin(user):
            # The user's teams, and the one the segment is already shared with, if any.
            teams = teams.filter(Q(pk__in=user_team_ids(user)) | Q(pk=self.initial.get("team")))
        self.fields["team"].queryset = teams
        self.fields["team"].help_text = _("Everyone in the team can see and use the segment.")
