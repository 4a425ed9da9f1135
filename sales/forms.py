"""Forms of the deal pages (the board's quick add, the deal form with its line items, the stage
move) and of the pipeline pages."""

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Team, User
from crm.accounts.selectors import records_visible_to, user_list_active
from crm.forms import FieldSecurityFormMixin
from customers.models import Customer, Product
from customers.selectors.customers import customer_list_visible
from customers.views.records import RecordPickerInput
from sales.models import Campaign, Deal, Pipeline, Stage
from sales.selectors.deals import DealFilter, stage_list

DEAL_LINE_EXTRA_ROWS = 2
# Filters the board offers; the others (pipeline, stage, status) are what the board shows.
BOARD_FILTER_FIELDS = ("q", "owner", "team", "close_from", "close_to")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def stage_label(stage: Stage) -> str:
    # The default pipeline's stage names are stored in English and translated on display.
    return gettext(stage.name)


def stage_choices(stages: list[Stage]) -> list[tuple[str, list[tuple[int, str]]]]:
    """Stages grouped by pipeline, for a select."""
    grouped: dict[Pipeline, list[tuple[int, str]]] = {}
    for stage in stages:
        grouped.setdefault(stage.pipeline, []).append((stage.pk, stage_label(stage)))
    return [(pipeline.name, options) for pipeline, options in grouped.items()]


def deal_filter_for_page(*, params, queryset: QuerySet[Deal], fields=None) -> DealFilter:
    """A DealFilter whose form renders well on a page: date pickers, "any" choices, and only
    `fields` when given (the board leaves out what it already shows)."""
    deal_filter = DealFilter(params, queryset=queryset)
    form = deal_filter.form
    for name in ("close_from", "close_to"):
        form.fields[name].widget = DateInput()
    form.fields["owner"].empty_label = _("Any owner")
    form.fields["team"].empty_label = _("Any team")
    form.fields["stage"].empty_label = _("Any stage")
    form.fields["stage"].label_from_instance = lambda stage: (
        f"{stage.pipeline.name} / {stage_label(stage)}"
    )
    form.fields["stage"].queryset = stage_list()
    form.fields["pipeline"].empty_label = _("Any pipeline")
    form.fields["stale"].widget = forms.Select(
        choices=[("", _("Stale or not")), ("true", _("Stale only")), ("false", _("Not stale"))]
    )
    form.fields["customer"].widget = forms.HiddenInput()
    form.fields["campaign"].widget = forms.HiddenInput()
    if fields is not None:
        for name in list(form.fields):
            if name not in fields:
                del form.fields[name]
    return deal_filter


class CustomerPickerField(forms.ModelChoiceField):
    """A customer the user may see, chosen by typing part of their name, email or phone."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Customer"))
        super().__init__(
            queryset=Customer.objects.none(),
            widget=RecordPickerInput(
                search_url=reverse_lazy("customers:customer_picker"),
                placeholder=_("Type a name, email or phone"),
            ),
            **kwargs,
        )


class QuickDealForm(FieldSecurityFormMixin, forms.Form):
    """The board's quick add: a new deal in the first open stage of the board's pipeline."""

    secured_model = Deal

    name = forms.CharField(label=_("Deal name"), max_length=200)
    customer = CustomerPickerField()
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=14, decimal_places=2, min_value=0, required=False
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customer_list_visible(user=user)
        self.fields_secure(user=user)

    def service_values(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        if values.get("amount") is None:
            values.pop("amount", None)
        return values


class DealForm(FieldSecurityFormMixin, forms.Form):
    """A deal's fields as the service takes them; the stage implies its pipeline."""

    secured_model = Deal

    name = forms.CharField(label=_("Name"), max_length=200)
    customer = CustomerPickerField()
    stage = forms.TypedChoiceField(label=_("Stage"), coerce=int)
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("With line items, the amount is their total."),
    )
    currency = forms.CharField(
        label=_("Currency"),
        max_length=3,
        required=False,
        help_text=_("ISO code; left empty, the default currency."),
    )
    expected_close_date = forms.DateField(
        label=_("Expected close date"), required=False, widget=DateInput()
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Left empty on a new deal, the assignment rules (or you) decide."),
    )
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    forecast_category = forms.ChoiceField(
        label=_("Forecast category"),
        choices=Deal.ForecastCategory.choices,
        initial=Deal.ForecastCategory.PIPELINE,
    )
    source = forms.ChoiceField(
        label=_("Source"), choices=[("", "—"), *Customer.Source.choices], required=False
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"), queryset=Campaign.objects.none(), required=False
    )
    next_step = forms.CharField(label=_("Next step"), max_length=200, required=False)
    lost_reason = forms.ChoiceField(
        label=_("Lost reason"),
        choices=[("", "—"), *Deal.LostReason.choices],
        required=False,
        help_text=_("Needed when the stage is a lost one."),
    )
    lost_note = forms.CharField(label=_("Lost note"), max_length=500, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(widget=forms.HiddenInput(), required=False)

    def __init__(self, *args, user: User, deal: Deal | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        customers = customer_list_visible(user=user)
        if deal is not None:
            # The deal's customer stays valid even when it is out of the editor's reach.
            customers = Customer.objects.filter(
                Q(pk__in=customers.values("pk")) | Q(pk=deal.customer_id)
            )
        self.fields["customer"].queryset = customers
        self.fields["stage"].choices = stage_choices(list(stage_list()))
        self.fields["owner"].queryset = user_list_active()
        self.fields["team"].queryset = Team.objects.order_by("name")
        self.fields["campaign"].queryset = records_visible_to(
            user=user, queryset=Campaign.objects.all()
        )
        self.is_new = deal is None
        self.fields_secure(user=user)

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def service_values(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        values.pop("version")
        values["stage"] = Stage.objects.select_related("pipeline").get(pk=values["stage"])
        if self.is_new:
            # Left empty, the service fills these in (assignment rules, default currency).
            for name in ("owner", "team", "currency", "source", "amount"):
                if values.get(name) in (None, ""):
                    values.pop(name, None)
            return values
        if "amount" in values and values["amount"] is None:
            values["amount"] = 0
        if "currency" in values:
            values["currency"] = values["currency"] or settings.CRM_DEFAULT_CURRENCY
        return values


class DealLineForm(forms.Form):
    product = forms.TypedChoiceField(label=_("Product"), coerce=int)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, initial=1)
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("Left empty, the catalogue price."),
    )
    discount_percent = forms.DecimalField(
        label=_("Discount (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
    )

    def __init__(self, *args, products: dict[int, Product], **kwargs):
        super().__init__(*args, **kwargs)
        # The catalogue is read once for the whole formset, not once per line.
        self.products = products
        self.fields["product"].choices = [("", "—")] + [
            (pk, f"{product.name} · {product.unit_price} {product.currency}")
            for pk, product in products.items()
        ]

    def clean_product(self):
        pk = self.cleaned_data["product"]
        if pk not in self.products:
            raise forms.ValidationError(gettext("Choose a product from the catalogue."))
        return pk

    def service_line(self) -> dict[str, Any]:
        return {
            "product": self.products[self.cleaned_data["product"]],
            "quantity": self.cleaned_data["quantity"],
            "unit_price": self.cleaned_data.get("unit_price"),
            "discount_percent": self.cleaned_data.get("discount_percent"),
        }


DealLineFormSet = forms.formset_factory(DealLineForm, extra=DEAL_LINE_EXTRA_ROWS, can_delete=True)


def deal_lines_filled(formset) -> list[dict[str, Any]]:
    return [
        line.service_line()
        for line in formset
        if line.cleaned_data and not line.cleaned_data.get("DELETE")
    ]


class MoveForm(forms.Form):
    """A stage move from the board (dragged, or chosen from the card's "Move to" menu) or from
    the deal page."""

    stage = forms.ModelChoiceField(label=_("Move to"), queryset=Stage.objects.none())
    version = forms.IntegerField(widget=forms.HiddenInput())
    lost_reason = forms.ChoiceField(
        label=_("Lost reason"), choices=[("", "—"), *Deal.LostReason.choices], required=False
    )
    lost_note = forms.CharField(label=_("Lost note"), max_length=500, required=False)

    def __init__(self, *args, deal: Deal, **kwargs):
        super().__init__(*args, **kwargs)
        # Pages render the stage menu themselves from the stages they hold already, so a board
        # of many cards does not read the stages once per card; this form only validates.
        self.fields["stage"].queryset = Stage.objects.filter(pipeline_id=deal.pipeline_id)


class PipelineForm(forms.Form):
    """A pipeline's own fields; the rules about them are the pipeline service's."""

    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    position = forms.IntegerField(label=_("Position"), initial=0)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    is_default = forms.BooleanField(
        label=_("Default"),
        required=False,
        help_text=_("Ticked, this pipeline becomes the default instead of the current one."),
    )

    @classmethod
    def for_pipeline(cls, pipeline: Pipeline | None, data=None) -> "PipelineForm":
        if pipeline is None:
            return cls(data)
        return cls(data, initial={name: getattr(pipeline, name) for name in cls.base_fields})


class StageForm(forms.Form):
    """One row of a pipeline's stages: an existing stage (`id`) or, without one, a new stage."""

    id = forms.TypedChoiceField(coerce=int, required=False, widget=forms.HiddenInput())
    name = forms.CharField(label=_("Name"), max_length=100)
    position = forms.IntegerField(label=_("Position"), initial=0)
    kind = forms.ChoiceField(label=_("Kind"), choices=Stage.Kind.choices, initial=Stage.Kind.OPEN)
    probability = forms.IntegerField(label=_("Win probability (%)"), initial=10)
    stale_after_days = forms.IntegerField(label=_("Stale after (days)"), required=False)

    def __init__(self, *args, stages: dict[int, Stage], **kwargs):
        super().__init__(*args, **kwargs)
        # The pipeline's stages are read once for the whole formset, not once per row.
        self.stages = stages
        self.fields["id"].choices = [("", "")] + [(pk, pk) for pk in stages]

    def service_values(self) -> dict[str, Any]:
        values = {name: self.cleaned_data[name] for name in self.fields if name != "DELETE"}
        if values["id"] in (None, ""):
            del values["id"]
        return values


class BaseStageFormSet(forms.BaseFormSet):
    def service_stages(self) -> tuple[list[int], list[dict[str, Any]], list[Stage]]:
        """The rows to save as the pipeline service takes them, the index of each row's form
        (to show the service's refusals on it), and the existing stages ticked for deletion."""
        indices: list[int] = []
        rows: list[dict[str, Any]] = []
        deleted: list[Stage] = []
        for index, form in enumerate(self.forms):
            if not form.has_changed() and not form.cleaned_data.get("id"):
                continue
            if form.cleaned_data.get("DELETE"):
                if form.cleaned_data.get("id"):
                    deleted.append(form.stages[form.cleaned_data["id"]])
                continue
            indices.append(index)
            rows.append(form.service_values())
        return indices, rows, deleted


StageFormSet = forms.formset_factory(StageForm, formset=BaseStageFormSet, extra=2, can_delete=True)


def stage_formset(*, stages: list[Stage], data=None) -> BaseStageFormSet:
    return StageFormSet(
        data,
        prefix="stages",
        initial=[
            {name: getattr(stage, name) for name in StageForm.base_fields} for stage in stages
        ],
        form_kwargs={"stages": {stage.pk: stage for stage in stages}},
    )
