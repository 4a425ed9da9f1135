from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from crm.navigation import NavGroup, NavItem, register_nav_group, register_nav_item

NAV_ITEMS = [
    NavItem(
        key="my_day",
        label=_("My day"),
        url_name="sales:my_day",
        order=5,
        permission="collaboration.view_task",
    ),
    NavItem(
        key="deals",
        group="sales",
        label=_("Deals"),
        url_name="sales:board",
        order=100,
        permission="sales.view_deal",
    ),
    NavItem(
        key="forecast",
        group="sales",
        label=_("Forecast"),
        url_name="sales:forecast",
        order=110,
        permission="sales.view_deal",
    ),
    NavItem(
        key="sales_reports",
        group="sales",
        label=_("Reports"),
        url_name="sales:reports",
        order=115,
        permission="sales.view_deal",
    ),
    NavItem(
        key="targets",
        group="sales",
        label=_("Targets"),
        url_name="sales:target_list",
        order=118,
        permission="sales.view_salestarget",
    ),
    NavItem(
        key="campaigns",
        group="marketing",
        label=_("Campaigns"),
        url_name="sales:campaign_list",
        order=120,
        permission="sales.view_campaign",
    ),
    NavItem(
        key="web_forms",
        group="marketing",
        label=_("Web forms"),
        url_name="sales:webform_list",
        order=130,
        permission="sales.change_webform",
    ),
    NavItem(
        key="assignment_rules",
        group="sales",
        label=_("Assignment rules"),
        url_name="sales:rule_list",
        order=135,
        permission="sales.change_assignmentrule",
    ),
    NavItem(
        key="pipelines",
        group="sales",
        label=_("Pipelines"),
        url_name="sales:pipeline_list",
        order=140,
        permission="sales.change_pipeline",
    ),
]


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = _("Sales and marketing")

    def ready(self) -> None:
        register_nav_group(NavGroup(key="sales", label=_("Sales"), order=100))
        register_nav_group(NavGroup(key="marketing", label=_("Marketing"), order=120))
        for item in NAV_ITEMS:
            register_nav_item(item)
        # Each area registers its timeline sources, profile panels, home panels, merge
        # handlers, privacy exporters, erasers and demo seeders below, in its own block.
        # --- board and deals ---
        # --- end board and deals ---
        # --- tasks and my day ---
        # --- end tasks and my day ---
        # --- targets, forecasts, reports ---
        # --- end targets, forecasts, reports ---
        # --- campaigns ---
        # --- end campaigns ---
        # --- web forms and assignment ---
        # --- end web forms and assignment ---
        # --- demo ---
        # --- end demo ---
