"""The customers app's records whose pages show their history (crm.audit's registry)."""

from django.urls import reverse

from crm.audit.registry import register_record_history
from customers.models import Company, Customer, Need, Order, Product, Segment
from customers.selectors.customers import (
    company_list_visible,
    customer_list_visible,
    segment_list_visible,
)
from customers.selectors.records import need_list_visible, order_list_visible, product_list


def record_histories_register() -> None:
    register_record_history(
        model=Customer,
        visible=customer_list_visible,
        url=lambda pk: reverse("customers:customer_detail", args=[pk]),
    )
    register_record_history(
        model=Company,
        visible=company_list_visible,
        url=lambda pk: reverse("customers:company_detail", args=[pk]),
    )
    register_record_history(
        model=Order,
        visible=order_list_visible,
        url=lambda pk: reverse("customers:order_detail", args=[pk]),
    )
    register_record_history(
        model=Need,
        visible=need_list_visible,
        url=lambda pk: reverse("customers:need_edit", args=[pk]),
    )
    register_record_history(
        model=Segment,
        visible=segment_list_visible,
        url=lambda pk: reverse("customers:segment_detail", args=[pk]),
    )
    # The catalogue is shared: whoever may view products sees them all.
    register_record_history(
        model=Product,
        visible=lambda *, user: product_list(),
        url=lambda pk: reverse("customers:product_edit", args=[pk]),
    )
