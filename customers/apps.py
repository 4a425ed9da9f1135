from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from crm.demo import register_demo_seeder
        from crm.home import register_home_panel
        from crm.navigation import NavItem, register_nav_item
        from customers import demo
        from customers.views import lists

        register_nav_item(
            NavItem(
                key="customers",
                label=_("Customers"),
                url_name="customers:customer_list",
                order=10,
                permission="customers.view_customer",
            )
        )
        register_nav_item(
            NavItem(
                key="companies",
                label=_("Companies"),
                url_name="customers:company_list",
                order=20,
                permission="customers.view_company",
            )
        )
        register_home_panel(10, lists.my_customers_panel)
        register_demo_seeder(order=10, name="customers", seeder=demo.seed_customers)
