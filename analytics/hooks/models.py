from django.utils.translation import gettext_lazy as _

from crm.navigation import NavItem, register_nav_item


def register() -> None:
    """The model registry's page in the analytics menu, for everyone who may read models."""
    register_nav_item(
        NavItem(
            key="analytics-models",
            group="analytics",
            label=_("Models"),
            url_name="analytics:model_list",
            order=144,
            permission="analytics.view_predictivemodel",
        )
    )
