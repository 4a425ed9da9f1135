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
        # What sales adds to the ground floor and to the customers app, which never import it.
        from django.urls import reverse

        from collaboration.services.tasks import tasks_relink
        from crm.accounts.field_security import securable_fields_register
        from crm.demo import register_demo_seeder
        from crm.home import register_home_panel
        from crm.webhooks.events import register_record_type
        from customers.registry import (
            register_eraser,
            register_merge_handler,
            register_privacy_exporter,
            register_profile_panel,
            register_record_url,
            register_timeline_source,
        )
        from sales.api.deals import deal_payload
        from sales.demo import seed_sales
        from sales.models import Deal
        from sales.selectors.deals import deal_list_visible
        from sales.selectors.tasks_timeline import task_timeline_entries
        from sales.selectors.timeline import deal_timeline_entries
        from sales.services import customer_records
        from sales.services.campaigns import campaign_members_export, campaign_members_merge
        from sales.services.leads import lead_assignments_move
        from sales.views.deals import customer_deals_panel
        from sales.views.forecasts import my_target_panel
        from sales.views.myday import (
            customer_tasks_panel,
            my_customers_contacts_panel,
            my_open_tasks_panel,
            my_tasks_today_panel,
        )

        securable_fields_register(
            Deal,
            [
                "amount",
                "currency",
                "expected_close_date",
                "source",
                "campaign",
                "lost_reason",
                "lost_note",
                "next_step",
                "forecast_category",
                "description",
            ],
            derived={"lines": "amount"},
        )

        register_nav_group(NavGroup(key="sales", label=_("Sales"), order=100))
        register_nav_group(NavGroup(key="marketing", label=_("Marketing"), order=120))
        for item in NAV_ITEMS:
            register_nav_item(item)

        register_timeline_source(key="deals", label=_("Deals"), fetch=deal_timeline_entries)
        register_timeline_source(key="tasks", label=_("Tasks"), fetch=task_timeline_entries)
        register_profile_panel(order=20, provider=customer_deals_panel)
        register_profile_panel(order=30, provider=customer_tasks_panel)
        register_record_url(
            model_label="sales.deal", url=lambda pk: reverse("sales:deal_detail", args=[pk])
        )
        register_home_panel(15, my_open_tasks_panel)
        register_home_panel(30, my_target_panel)
        register_home_panel(50, my_tasks_today_panel)
        register_home_panel(70, my_customers_contacts_panel)

        register_merge_handler(key="sales", handler=customer_records.customer_sales_records_merge)
        register_merge_handler(key="campaign_memberships", handler=campaign_members_merge)
        register_merge_handler(key="lead_assignments", handler=lead_assignments_move)
        register_merge_handler(
            key="tasks", handler=lambda merged, kept: tasks_relink(old=merged, new=kept)
        )
        register_privacy_exporter(
            key="sales", exporter=customer_records.customer_sales_records_export
        )
        register_privacy_exporter(key="campaign_memberships", exporter=campaign_members_export)
        register_eraser(key="sales", eraser=customer_records.customer_sales_records_erase)

        register_demo_seeder(order=20, name="sales", seeder=seed_sales)
        register_record_type(model=Deal, payload=deal_payload, visible=deal_list_visible)

        from sales.mail_threads import deal_thread_kind_register

        deal_thread_kind_register()

        from mail.registry import register_engagement_listener
        from sales.services.campaign_mail import campaign_member_engaged

        register_engagement_listener(campaign_member_engaged)

        from sales.history import record_histories_register

        record_histories_register()
