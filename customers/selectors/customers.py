"""Reads of customers and companies, always through the visibility rule."""

from django.db.models import Q, QuerySet

from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from customers.models import Company, Customer

CUSTOMER_ORDERINGS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}


def customer_list_visible(
    *,
    user: User,
    search: str = "",
    status: str = "",
    tier: str = "",
    ordering: str = "name",
) -> QuerySet[Customer]:
    customers = records_visible_to(user=user, queryset=Customer.objects.all())
    if search:
        term = search.strip()
        customers = customers.filter(
            Q(name__icontains=term)
            | Q(email__icontains=term)
            | Q(phone__contains=term.replace(" ", "").replace("-", ""))
            | Q(company__name__icontains=term)
        )
    if status:
        customers = customers.filter(status=status)
    if tier:
        customers = customers.filter(tier=tier)
    order_by = CUSTOMER_ORDERINGS.get(ordering, CUSTOMER_ORDERINGS["name"])
    return customers.select_related("company", "owner", "team").order_by(*order_by)


def customer_get_visible(*, user: User, pk: int) -> Customer:
    customers = records_visible_to(user=user, queryset=Customer.objects.all())
    return customers.select_related("company", "owner", "team").prefetch_related("tags").get(pk=pk)


def company_list_visible(*, user: User, search: str = "") -> QuerySet[Company]:
    companies = records_visible_to(user=user, queryset=Company.objects.all())
    if search:
        companies = companies.filter(Q(name__icontains=search) | Q(city__icontains=search))
    return companies.select_related("owner", "team").order_by("name", "id")


def company_get_visible(*, user: User, pk: int) -> Company:
    companies = records_visible_to(user=user, queryset=Company.objects.all())
    return companies.select_related("owner", "team").get(pk=pk)


def company_customers_visible(*, user: User, company: Company) -> QuerySet[Customer]:
    customers = records_visible_to(user=user, queryset=company.customers.all())
    return customers.select_related("owner").order_by("name", "id")


def customer_count_owned_by(*, user: User) -> int:
    return Customer.objects.filter(owner=user).count()
