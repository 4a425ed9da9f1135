from django.utils.translation import gettext_lazy as _

from analytics.services.builder import BUILDER_SPEC, TRAIN_PERMISSION
from analytics.specs import register_model_spec
from crm.navigation import NavItem, register_nav_item


def register() -> None:
    """The builder's models train through the one registry; managers find it in the menu."""
    register_model_spec(BUILDER_SPEC)
    register_nav_item(
        NavItem(
            key="analytics-builder",
            group="analytics",
            label=_("Prediction builder"),
            url_name="analytics:builder",
            order=146,
            permission=TRAIN_PERMISSION,
        )
    )
