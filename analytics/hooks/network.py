"""The social graph on other pages: the influence panel (with the ego-network picture) on the
customer 360 page, and the network pages in the Analytics menu."""

from django.utils.translation import gettext_lazy as _

from analytics.selectors.network import customer_ego_network, customer_influence_summary
from crm.navigation import NavItem, register_nav_item
from customers.registry import ProfilePanel, register_profile_panel


def customer_influence_panel(customer, user) -> ProfilePanel | None:
    """The "Influence" box: where the customer stands in the latest graph, and their ties."""
    if not user.has_perm("analytics.view_customerinfluence"):
        return None
    summary = customer_influence_summary(customer=customer)
    if summary is None:
        return None
    return ProfilePanel(
        title=_("Influence"),
        rows=[],
        template="analytics/network/_influence_panel.html",
        context={
            "summary": summary,
            "ego": customer_ego_network(
                user=user, customer=customer, total=summary.influence.connections
            ),
            "customer_pk": customer.pk,
            "customer_name": customer.name,
        },
    )


def register() -> None:
    register_profile_panel(order=45, provider=customer_influence_panel)
    register_nav_item(
        NavItem(
            key="analytics-network",
            group="analytics",
            label=_("Influence and communities"),
            url_name="analytics:influence_list",
            order=160,
            permission="analytics.view_customerinfluence",
        )
    )
