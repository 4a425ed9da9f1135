from django.utils.translation import gettext_lazy as _

from crm.navigation import NavItem, register_nav_item


def register() -> None:
    """The customer analytics page in the analytics menu, for everyone who reads customers."""
    register_nav_item(
        NavItem(
            key="analytics-customers",
            group="analytics",
            label=_("Customer analytics"),
            url_name="analytics:customer_analytics",
            order=143,
            permission="customers.view_customer",
        )
    )
