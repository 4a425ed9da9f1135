from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from crm.home import HomePanel
from customers.models import Company, Customer
from customers.selectors import customers as selectors

PAGE_SIZE = 50


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_list(request: HttpRequest) -> HttpResponse:
    filters = {
        "search": request.GET.get("q", "").strip(),
        "status": request.GET.get("status", ""),
        "tier": request.GET.get("tier", ""),
        "ordering": request.GET.get("ordering", "name"),
    }
    customers = selectors.customer_list_visible(user=request.user, **filters)
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "customers/customer_list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": Customer.Status.choices,
            "tiers": Customer.Tier.choices,
        },
    )


@login_required
@permission_required("customers.view_company", raise_exception=True)
def company_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    companies = selectors.company_list_visible(user=request.user, search=search)
    page = Paginator(companies, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "customers/company_list.html", {"page": page, "search": search})


@login_required
@permission_required("customers.view_company", raise_exception=True)
def company_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        company = selectors.company_get_visible(user=request.user, pk=pk)
    except Company.DoesNotExist as exc:
        raise Http404(_("No such company.")) from exc
    customers = selectors.company_customers_visible(user=request.user, company=company)
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "customers/company_detail.html", {"company": company, "page": page})


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
    path("companies/<int:pk>/", company_detail, name="company_detail"),
]
