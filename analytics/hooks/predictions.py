from django.utils.translation import gettext_lazy as _

from analytics.demo import seed_analytics
from analytics.selectors.scores import VIEW_SCORES
from analytics.services.predictions import BUILT_IN_SPECS
from analytics.services.privacy import customer_analytics_erase, customer_analytics_export
from analytics.specs import register_model_spec
from analytics.views.predictions import customer_scores_panel
from crm.demo import register_demo_seeder
from crm.navigation import NavItem, register_nav_item
from customers.registry import register_eraser, register_privacy_exporter, register_profile_panel


def register() -> None:
    """The three built-in models' specs, their scores on the customer 360 page, the scores page
    in the Analytics menu, their training on the demo data, and what analytics holds about a
    person in the privacy export and erasure."""
    for spec in BUILT_IN_SPECS:
        register_model_spec(spec)
    register_profile_panel(order=15, provider=customer_scores_panel)
    register_nav_item(
        NavItem(
            key="analytics_scores",
            group="analytics",
            label=_("Scores"),
            url_name="analytics:scores",
            order=145,
            permission=VIEW_SCORES,
        )
    )
    register_demo_seeder(order=50, name="analytics", seeder=seed_analytics)
    register_privacy_exporter(key="analytics", exporter=customer_analytics_export)
    register_eraser(key="analytics", eraser=customer_analytics_erase)
