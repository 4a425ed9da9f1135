from django.apps import AppConfig
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
        for item in NAV_ITEMS:
            register_nav_item(item)
