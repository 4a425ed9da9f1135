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
        # What service adds to the ground floor and to the customers app, which never import it.
        from django.urls import reverse

        from crm.accounts.field_security import securable_fields_register
        from crm.demo import register_demo_seeder
        from crm.webhooks.events import register_record_type
        from customers.registry import (
            register_eraser,
            register_merge_handler,
            register_privacy_exporter,
            register_profile_panel,
            register_record_url,
            register_timeline_source,
        )
        from service.api.surveys import survey_payload
        from service.api.tickets import ticket_payload
        from service.demo import seed_service
        from service.models import SatisfactionSurvey, Ticket
        from service.selectors.surveys import customer_surveys_export, survey_list_visible
        from service.selectors.tickets import ticket_list_visible
        from service.selectors.timeline import ticket_timeline_entries
        from service.services import customer_records
        from service.services.surveys import customer_surveys_erase
        from service.views.tickets import customer_tickets_panel

        securable_fields_register(
            Ticket,
            [
                "channel",
                "subject",
                "description",
                "priority",
                "category",
                "satisfaction_rating",
                "satisfaction_comment",
            ],
        )

        register_nav_group(NavGroup(key="service", label=_("Service"), order=200))
        for item in NAV_ITEMS:
            register_nav_item(item)

        register_timeline_source(key="tickets", label=_("Tickets"), fetch=ticket_timeline_entries)
        register_profile_panel(order=40, provider=customer_tickets_panel)
        register_record_url(
            model_label="service.ticket",
            url=lambda pk: reverse("service:ticket_detail", args=[pk]),
        )

        register_merge_handler(key="tickets", handler=customer_records.customer_tickets_merge)
        register_privacy_exporter(key="tickets", exporter=customer_records.customer_tickets_export)
        register_privacy_exporter(key="satisfaction_surveys", exporter=customer_surveys_export)
        register_eraser(key="tickets", eraser=customer_records.customer_tickets_erase)
        register_eraser(key="satisfaction_surveys", eraser=customer_surveys_erase)

        register_demo_seeder(order=30, name="service", seeder=seed_service)
        register_record_type(model=Ticket, payload=ticket_payload, visible=ticket_list_visible)
        register_record_type(
            model=SatisfactionSurvey, payload=survey_payload, visible=survey_list_visible
        )

        from service.mail_threads import ticket_thread_kind_register

        ticket_thread_kind_register()

        from service.history import record_histories_register

        record_histories_register()
