"""The customer list (filters, sorting, paging) and the company pages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms.models import model_to_dict
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.home import HomePanel
from crm.pages import render_list_page
from crm.replicas import replica_reads_when
from customers.forms import CompanyFilterForm, CompanyForm, CustomerFilterForm
from customers.models import Company, Customer
from customers.selectors import customers as selectors
from customers.services.customers import COMPANY_EDITABLE_FIELDS, company_create, company_update

PAGE_SIZE = 50
# (ordering key, column heading, the direction a first click sorts in)
CUSTOMER_SORT_COLUMNS = [
    ("name", gettext_lazy("Name"), ""),
    ("total_spend", gettext_lazy("Total spend"), "-"),
    ("last_contact_at", gettext_lazy("Last contact"), "-"),
    ("created_at", gettext_lazy("Added"), "-"),
]
CUSTOMER_ORDERING_LABELS = {
    "name": gettext_lazy("Name A–Z"),
    "-name": gettext_lazy("Name Z–A"),
    "-created_at": gettext_lazy("Newest first"),
    "created_at": gettext_lazy("Oldest first"),
    "-total_spend": gettext_lazy("Highest spend first"),
    "total_spend": gettext_lazy("Lowest spend first"),
    "-last_contact_at": gettext_lazy("Most recently contacted first"),
    "last_contact_at": gettext_lazy("Least recently contacted first"),
}
COMPANY_ORDERING_LABELS = {
    "name": gettext_lazy("Name A–Z"),
    "-name": gettext_lazy("Name Z–A"),
    "-created_at": gettext_lazy("Newest first"),
    "created_at": gettext_lazy("Oldest first"),
}


def sort_columns(ordering: str) -> dict[str, dict]:
    """Each sortable column with its direction now and the ordering a click on it asks for."""
    columns = {}
    for key, label, first in CUSTOMER_SORT_COLUMNS:
        if ordering == key:
            direction, following = "ascending", f"-{key}"
        elif ordering == f"-{key}":
            direction, following = "descending", key
        else:
            direction, following = "", f"{first}{key}"
        columns[key] = {"label": label, "direction": direction, "ordering": following}
    return columns


def customer_results_context(*, customers, request: HttpRequest, ordering: str) -> dict:
    """What the results partial (count, table, paging) needs; shared with the segment pages."""
    page = selectors.CappedPaginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "page": page,
        "ordering": ordering,
        "sort_columns": sort_columns(ordering),
        "ordering_labels": CUSTOMER_ORDERING_LABELS,
    }


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_list(request: HttpRequest) -> HttpResponse:
    form = CustomerFilterForm(request.GET, user=request.user)
    ordering = selectors.customer_ordering(request.GET.get("ordering"))
    # A search reads a replica when there is one; a plain list, often the page after a save,
    # reads the primary.
    with replica_reads_when(bool(request.GET.get("q", "").strip())):
        if form.is_valid():
            customers = selectors.customer_list_visible(
                user=request.user, filters=form.to_filter(), ordering=ordering
            )
        else:
            customers = Customer.objects.none()
        context = customer_results_context(customers=customers, request=request, ordering=ordering)
        return render_list_page(request, "customers/customer_list.html", {**context, "form": form})


@login_required
@permission_required("customers.view_company", raise_exception=True)
def company_list(request: HttpRequest) -> HttpResponse:
    form = CompanyFilterForm(request.GET)
    ordering = selectors.company_ordering(request.GET.get("ordering"))
    filters = form.cleaned_data if form.is_valid() else {}
    companies = selectors.company_list_visible(
        user=request.user,
        search=filters.get("q", ""),
        industry=filters.get("industry", ""),
        city=filters.get("city", ""),
        ordering=ordering,
    )
    page = selectors.CappedPaginator(companies, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_list_page(
        request,
        "customers/company_list.html",
        {
            "form": form,
            "page": page,
            "ordering": ordering,
            "ordering_labels": COMPANY_ORDERING_LABELS,
        },
    )


def _company_or_404(request: HttpRequest, pk: int) -> Company:
    try:
        return selectors.company_get_visible(user=request.user, pk=pk)
    except Company.DoesNotExist as exc:
        raise Http404(_("No such company.")) from exc


@login_required
@permission_required("customers.view_company", raise_exception=True)
def company_detail(request: HttpRequest, pk: int) -> HttpResponse:
    company = _company_or_404(request, pk)
    customers = selectors.company_customers_visible(user=request.user, company=company)
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "customers/company_detail.html", {"company": company, "page": page})


@login_required
@permission_required("customers.add_company", raise_exception=True)
def company_new(request: HttpRequest) -> HttpResponse:
    form = CompanyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Left blank, owner and team default to the author and their team.
        values = {
            name: value
            for name, value in form.cleaned_data.items()
            if value is not None or name not in ("owner", "team")
        }
        try:
            company = company_create(actor=request.user, **values)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Company “%(name)s” added.") % {"name": company.name})
            return redirect("customers:company_detail", pk=company.pk)
    return render(request, "customers/company_form.html", {"form": form, "company": None})


@login_required
@permission_required("customers.change_company", raise_exception=True)
def company_edit(request: HttpRequest, pk: int) -> HttpResponse:
    company = _company_or_404(request, pk)
    initial = model_to_dict(company, fields=COMPANY_EDITABLE_FIELDS)
    form = CompanyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            company_update(actor=request.user, company=company, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Company “%(name)s” saved.") % {"name": company.name})
            return redirect("customers:company_detail", pk=company.pk)
    return render(request, "customers/company_form.html", {"form": form, "company": company})


def my_customers_panel(request: HttpRequest) -> HomePanel | None:
    if not request.user.has_perm("customers.view_customer"):
        return None
    return HomePanel(
        title=_("My customers"),
        figure=str(selectors.customer_count_owned_by(user=request.user)),
        caption=_("customers you own"),
        url=reverse("customers:customer_list"),
    )


urlpatterns = [
    path("", customer_list, name="customer_list"),
    path("companies/", company_list, name="company_list"),
    path("companies/new/", company_new, name="company_create"),
    path("companies/<int:pk>/", company_detail, name="company_detail"),
    path("companies/<int:pk>/edit/", company_edit, name="company_update"),
]
