"""The social graph on other pages: the influence panel (with the ego-network picture) and the
relationship network on the customer 360 page, and the network pages in the Analytics menu."""

from django.utils.translation import gettext_lazy as _

from analytics.selectors.network import (
    customer_ego_network,
    customer_influence_summary,
    customer_relationship_picture,
)
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


def customer_relationship_panel(customer, user) -> ProfilePanel | None:
    """The "Relationship network" box: the customer's relationships two hops out, as a picture
    drawn from the relationships themselves, so it needs no graph build."""
    if not user.has_perm("customers.view_relationship"):
        return None
    picture = customer_relationship_picture(user=user, customer=customer)
    if picture is None:
        return None
    return ProfilePanel(
        title=_("Relationship network"),
        rows=[],
        template="analytics/network/_relationship_panel.html",
        context={"picture": picture},
    )


def register() -> None:
    register_profile_panel(order=45, provider=customer_influence_panel)
    register_profile_panel(order=46, provider=customer_relationship_panel)
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
