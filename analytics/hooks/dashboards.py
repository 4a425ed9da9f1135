from django.utils.translation import gettext_lazy as _

from crm.navigation import NavItem, register_nav_item


def register() -> None:
    """The two dashboards in the Analytics menu: the manager's and the rep's own."""
    register_nav_item(
        NavItem(
            key="analytics_dashboard",
            group="analytics",
            label=_("Dashboard"),
            url_name="analytics:dashboard",
            order=141,
            permission="analytics.manage_dashboard",
        )
    )
    register_nav_item(
        NavItem(
            key="analytics_my_dashboard",
            group="analytics",
            label=_("My dashboard"),
            url_name="analytics:my_dashboard",
            order=142,
            permission="analytics.view_predictivemodel",
        )
    )
