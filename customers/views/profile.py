"""The customer 360 page: the profile with its inline edit, the figures, the panels other apps
contribute, open needs, recent orders, relationships, and one timeline of everything about the
customer; the new-customer page and the company picker its form uses."""

import re

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse, reverse_lazy
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters

from crm.accounts.models import User
from crm.accounts.selectors import record_is_editable_by, team_list, user_list_active
from crm.forms import FieldSecurityFormMixin
from crm.pages import form_errors_from_service, is_htmx
from customers.models import Customer
from customers.registry import profile_panels
from customers.selectors import customers as customer_selectors
from customers.selectors import records as record_selectors
from customers.selectors.spend import customer_monthly_spend
from customers.selectors.timeline import Cursor, customer_timeline
from customers.services.customers import (
    CUSTOMER_SENSITIVE_FIELDS,
    customer_create,
    customer_update,
)
from customers.views.records import (
    PICKER_OPTIONS,
    RecordPickerInput,
    customer_or_404,
    customer_url,
    picker_options_response,
    redirect_after_save,
)

CUSTOMER_FORM_FIELDS = [
    "name",
    "gender",
    "birthday",
    "email",
    "phone",
    "company",
    "job_title",
    "street",
    "city",
    "province",
    "postcode",
    "country",
    "annual_income",
    "income_currency",
    "source",
    "status",
    "tier",
    "owner",
    "team",
    "marketing_consent",
    "external_id",
    "notes",
    "identity_number",
    "private_notes",
]
TAG_SEPARATORS = re.compile(r"[,，;；]")


class CustomerForm(FieldSecurityFormMixin, forms.Form):
    """The customer's own fields; the service cleans and validates them (phones to E.164,
    emails lower-cased, plausible birthdays), so the form only checks their types."""

    secured_model = Customer

    def __init__(self, *args, user: User, customer: Customer | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(
            forms.fields_for_model(
                Customer,
                fields=CUSTOMER_FORM_FIELDS,
                widgets={
                    "birthday": forms.DateInput(attrs={"type": "date"}),
                    "notes": forms.Textarea(attrs={"rows": 3}),
                    "identity_number": forms.TextInput(attrs={"autocomplete": "off"}),
                    "private_notes": forms.Textarea(attrs={"rows": 3}),
                    "company": RecordPickerInput(
                        search_url=reverse_lazy("customers:company_picker"),
                        placeholder=gettext_lazy("Type a company name or city"),
                    ),
                },
            )
        )
        self.fields["birthday"].widget.format = "%Y-%m-%d"
        self.fields["company"].queryset = record_selectors.company_choices(
            user=user, keep_id=customer.company_id if customer else None
        )
        self.fields["owner"].queryset = user_list_active()
        self.fields["team"].queryset = team_list()
        self.fields["tags"] = forms.CharField(
            label=gettext_lazy("Tags"),
            required=False,
            help_text=gettext_lazy("Separated by commas."),
        )
        self.fields_secure(user=user)

    def service_values(self) -> dict:
        values = dict(self.cleaned_data)
        values["tags"] = [name for name in TAG_SEPARATORS.split(values["tags"]) if name.strip()]
        return values


def _initial(customer: Customer) -> dict:
    initial = {name: getattr(customer, name) for name in CUSTOMER_FORM_FIELDS}
    initial["tags"] = ", ".join(tag.name for tag in customer.tags.all())
    return initial


def _profile_context(customer: Customer, user: User) -> dict:
    return {
        "customer": customer,
        "default_currency": settings.CRM_DEFAULT_CURRENCY,
        # A view-only share or the desk's "see all" shows the profile without its Edit button.
        "can_edit": user.has_perm("customers.change_customer")
        and record_is_editable_by(user=user, record=customer),
    }


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_or_404(request, pk)
    user = request.user
    panels = [panel for provider in profile_panels() if (panel := provider(customer, user))]
    timeline = customer_timeline(customer=customer, user=user)
    return render(
        request,
        "customers/profile/detail.html",
        {
            **_profile_context(customer, user),
            "panels": panels,
            "open_needs": record_selectors.customer_needs_open(user=user, customer=customer),
            "recent_orders": record_selectors.customer_orders_recent(user=user, customer=customer),
            "related": record_selectors.customer_related_customers(user=user, customer=customer),
            "timeline": timeline,
        },
    )


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_timeline_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The next page of the timeline: entries to append for htmx, or a page of its own."""
    customer = customer_or_404(request, pk)
    try:
        before = Cursor.decode(request.GET["before"]) if request.GET.get("before") else None
    except ValueError:
        return HttpResponseBadRequest(_("This page link is not valid."))
    timeline = customer_timeline(customer=customer, user=request.user, before=before)
    context = {"customer": customer, "timeline": timeline}
    if is_htmx(request):
        return render(request, "customers/profile/_timeline_entries.html", context)
    return render(request, "customers/profile/timeline.html", context)


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_profile_card(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_or_404(request, pk)
    if not is_htmx(request):
        return redirect(customer_url(customer))
    return render(request, "customers/profile/_card.html", _profile_context(customer, request.user))


@sensitive_post_parameters(*CUSTOMER_SENSITIVE_FIELDS)
@login_required
@permission_required("customers.change_customer", raise_exception=True)
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Inline edit: htmx swaps the profile card for this form and, once saved, back again."""
    customer = customer_or_404(request, pk)
    form = CustomerForm(
        request.POST or None, user=request.user, customer=customer, initial=_initial(customer)
    )
    if request.method == "POST" and form.is_valid():
        try:
            customer_update(actor=request.user, customer=customer, **form.service_values())
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            try:
                customer = customer_selectors.customer_get_visible(user=request.user, pk=pk)
            except Customer.DoesNotExist:
                # Handed to an owner and team out of the user's reach: they no longer see it.
                messages.info(request, _("Saved. The customer is no longer yours to see."))
                return redirect_after_save(request, reverse("customers:customer_list"))
            if is_htmx(request):
                return render(
                    request,
                    "customers/profile/_card_saved.html",
                    _profile_context(customer, request.user),
                )
            messages.success(request, _("Customer saved."))
            return redirect(customer_url(customer))
    context = {**_profile_context(customer, request.user), "form": form}
    if is_htmx(request):
        return render(request, "customers/profile/_profile_form.html", context)
    return render(request, "customers/profile/edit.html", context)


@sensitive_post_parameters(*CUSTOMER_SENSITIVE_FIELDS)
@login_required
@permission_required("customers.add_customer", raise_exception=True)
def customer_new(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None, user=request.user)
    form.fields["owner"].help_text = _("Left empty, you.")
    form.fields["team"].help_text = _("Left empty, the owner's first team.")
    if request.method == "POST" and form.is_valid():
        values = form.service_values()
        # Left empty on a new customer, owner and team fall to the service's defaults.
        for name in ("owner", "team"):
            if values[name] is None:
                del values[name]
        try:
            customer = customer_create(actor=request.user, **values)
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("%(name)s added.") % {"name": customer.name})
            return redirect(customer_url(customer))
    return render(request, "customers/profile/new.html", {"form": form})


@login_required
@permission_required("customers.view_company", raise_exception=True)
def company_picker(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    options = []
    if search:
        companies = customer_selectors.company_list_visible(user=request.user, search=search)
        options = list(companies[:PICKER_OPTIONS])
    return picker_options_response(request, options, "customers/profile/_company_options.html")


@login_required
@permission_required("customers.view_customer", raise_exception=True)
@permission_required("customers.view_order", raise_exception=True)
def customer_spend_chart(request: HttpRequest, pk: int) -> JsonResponse:
    """The customer's monthly spend as JSON for static/js/customer_spend.js: month labels in the
    user's language and one series of totals per currency."""
    customer = customer_or_404(request, pk)
    spend = customer_monthly_spend(user=request.user, customer=customer)
    return JsonResponse(
        {
            "labels": [date_format(month, "YEAR_MONTH_FORMAT") for month in spend.months],
            "series": [
                {"label": currency, "data": [float(total) for total in totals]}
                for currency, totals in spend.totals_by_currency.items()
            ],
        }
    )


urlpatterns = [
    path("new/", customer_new, name="customer_new"),
    path("<int:pk>/", customer_detail, name="customer_detail"),
    path("<int:pk>/edit/", customer_edit, name="customer_edit"),
    path("<int:pk>/profile-card/", customer_profile_card, name="customer_profile_card"),
    path("<int:pk>/timeline/", customer_timeline_page, name="customer_timeline"),
    path("<int:pk>/spend/", customer_spend_chart, name="customer_spend_chart"),
    path("pickers/companies/", company_picker, name="company_picker"),
]
