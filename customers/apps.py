from django.apps import AppConfig
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.navigation import NavGroup, NavItem, register_nav_group, register_nav_item

NAV_ITEMS = [
    NavItem(
        key="customers",
        label=_("Customers"),
        url_name="customers:customer_list",
        order=10,
        group="customers",
        permission="customers.view_customer",
    ),
    NavItem(
        key="companies",
        label=_("Companies"),
        url_name="customers:company_list",
        order=20,
        group="customers",
        permission="customers.view_company",
    ),
    NavItem(
        key="segments",
        label=_("Segments"),
        url_name="customers:segment_list",
        order=25,
        group="customers",
        permission="customers.view_segment",
    ),
    NavItem(
        key="interactions",
        label=_("Interactions"),
        url_name="customers:interaction_list",
        order=30,
        group="customers",
        permission="customers.view_interaction",
    ),
    NavItem(
        key="products",
        label=_("Products"),
        url_name="customers:product_list",
        order=40,
        group="customers",
        permission="customers.view_product",
    ),
    NavItem(
        key="imports",
        label=_("Imports"),
        url_name="customers:import_list",
        order=50,
        group="customers",
        permission="customers.import_customer",
    ),
    NavItem(
        key="duplicates",
        label=_("Duplicates"),
        url_name="customers:duplicate_list",
        order=60,
        group="customers",
        permission="customers.merge_customer",
    ),
]


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from crm.accounts.field_security import securable_fields_register
        from crm.demo import register_demo_seeder
        from crm.home import register_home_panel
        from crm.signals import meeting_held
        from crm.webhooks.events import register_record_type
        from customers import demo
        from customers.api.customers import customer_payload
        from customers.api.imports import import_job_payload
        from customers.meetings import log_meeting_interactions
        from customers.models import Customer, ImportJob
        from customers.registry import register_record_url, register_timeline_source
        from customers.selectors import records
        from customers.selectors.customers import customer_list_visible
        from customers.selectors.imports import import_job_list_visible
        from customers.views import lists

        securable_fields_register(
            Customer,
            [
                "gender",
                "birthday",
                "email",
                "phone",
                "street",
                "city",
                "province",
                "postcode",
                "country",
                "annual_income",
                "income_currency",
                "job_title",
                "source",
                "notes",
                "identity_number",
                "private_notes",
                "external_id",
                "custom_attributes",
            ],
            derived={"age": "birthday"},
        )
        meeting_held.connect(
            log_meeting_interactions, dispatch_uid="customers.log_meeting_interactions"
        )
        register_nav_group(NavGroup(key="customers", label=_("Customers"), order=10))
        for item in NAV_ITEMS:
            register_nav_item(item)
        register_home_panel(10, lists.my_customers_panel)
        register_record_url(
            model_label="customers.customer",
            url=lambda pk: reverse("customers:customer_detail", args=[pk]),
        )
        register_record_url(
            model_label="customers.company",
            url=lambda pk: reverse("customers:company_detail", args=[pk]),
        )
        register_demo_seeder(order=10, name="customers", seeder=demo.seed_customers)
        register_timeline_source(
            key="interactions",
            label=_("Interactions"),
            fetch=records.interaction_timeline_entries,
        )
        register_timeline_source(
            key="orders", label=_("Orders"), fetch=records.order_timeline_entries
        )
        register_timeline_source(key="needs", label=_("Needs"), fetch=records.need_timeline_entries)
        register_timeline_source(
            key="relationships",
            label=_("Relationships"),
            fetch=records.relationship_timeline_entries,
        )
        register_record_type(
            model=Customer, payload=customer_payload, visible=customer_list_visible
        )
        register_record_type(
            model=ImportJob, payload=import_job_payload, visible=import_job_list_visible
        )

        from customers.history import record_histories_register

        record_histories_register()
