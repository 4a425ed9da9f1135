from django.apps import AppConfig
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.navigation import NavItem, register_nav_item

NAV_ITEMS = [
    NavItem(
        key="tasks",
        label=_("Tasks"),
        url_name="collaboration:task_list",
        order=105,
        permission="collaboration.view_task",
    ),
]


class CollaborationConfig(AppConfig):
    name = "collaboration"
    verbose_name = _("Collaboration")

    def ready(self) -> None:
        from collaboration.demo import seed_collaboration
        from crm.demo import register_demo_seeder
        from customers.registry import register_record_url

        for item in NAV_ITEMS:
            register_nav_item(item)
        register_demo_seeder(order=40, name="collaboration", seeder=seed_collaboration)
        register_record_url(
            model_label="collaboration.task",
            url=lambda pk: reverse("collaboration:task_detail", args=[pk]),
        )
