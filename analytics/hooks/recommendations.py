from django.utils.translation import gettext_lazy as _

from analytics.views.recommendations import customer_recommendations_panel
from crm.navigation import NavItem, register_nav_item
from customers.registry import register_profile_panel


def register() -> None:
    """The recommendations page in the analytics menu, and the panel on the 360 page."""
    register_nav_item(
        NavItem(
            key="recommendations",
            group="analytics",
            label=_("Recommendations"),
            url_name="analytics:recommendations",
            order=170,
            permission="analytics.view_customerrecommendation",
        )
    )
    register_profile_panel(order=50, provider=customer_recommendations_panel)
