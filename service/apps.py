from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from crm.navigation import NavGroup, NavItem, register_nav_group, register_nav_item

NAV_ITEMS = [
    NavItem(
        key="tickets",
        group="service",
        label=_("Tickets"),
        url_name="service:ticket_list",
        order=200,
        permission="service.view_ticket",
    ),
    NavItem(
        key="service_dashboard",
        group="service",
        label=_("Service dashboard"),
        url_name="service:dashboard",
        order=210,
        permission="service.view_ticket",
    ),
    NavItem(
        key="canned_responses",
        group="service",
        label=_("Canned responses"),
        url_name="service:canned_list",
        order=220,
        permission="service.view_cannedresponse",
    ),
    NavItem(
        key="sla_policies",
        group="service",
        label=_("SLA policies"),
        url_name="service:sla_policy_list",
        order=230,
        permission="service.change_slapolicy",
    ),
]


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = _("Customer service")

    def ready(self) -> None:
        register_nav_group(NavGroup(key="service", label=_("Service"), order=200))
        for item in NAV_ITEMS:
            register_nav_item(item)
        # Each area registers its timeline sources, profile panels, home panels, merge
        # handlers, privacy exporters, erasers, record URLs and demo seeders below, in its own
        # block; the lead gathers them when the areas are done.
        # --- tickets ---
        # --- end tickets ---
        # --- sla ---
        # --- end sla ---
        # --- surveys ---
        # --- end surveys ---
        # --- public form ---
        # --- end public form ---
        # --- dashboard ---
        # --- end dashboard ---
        # --- demo ---
        # --- end demo ---
