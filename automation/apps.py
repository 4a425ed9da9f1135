from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "automation"
    verbose_name = _("Workflow automation")

    def ready(self) -> None:
        from automation.services.runs import runs_create_for_event
        from crm.webhooks.events import register_event_listener

        register_event_listener(runs_create_for_event)
        self._register_pages()
        self._register_demo()

    def _register_pages(self) -> None:
        # The rule pages in the navigation, and a rule's history on its page (crm.audit).
        from django.urls import reverse

        from automation.models import Rule
        from automation.selectors import rule_list_visible
        from crm.audit.registry import register_record_history
        from crm.navigation import NavItem, register_nav_item

        register_nav_item(
            NavItem(
                key="automation_rules",
                label=_("Workflow rules"),
                url_name="automation:rule_list",
                order=940,
                permission="automation.view_rule",
                group="administration",
            )
        )
        register_record_history(
            model=Rule,
            visible=rule_list_visible,
            url=lambda pk: reverse("automation:rule_detail", args=[pk]),
        )

    def _register_demo(self) -> None:
        # After every other app's seeder, so the demo records set none of the rules off.
        from automation.demo import seed_automation
        from crm.demo import register_demo_seeder

        register_demo_seeder(order=60, name="automation", seeder=seed_automation)
