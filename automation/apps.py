from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "automation"
    verbose_name = _("Workflow automation")

    def ready(self) -> None:
        from automation.services.runs import runs_create_for_event
        from crm.webhooks.events import register_event_listener

        register_event_listener(runs_create_for_event)
