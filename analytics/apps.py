from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        # Analytics reads every app and registers what it shows elsewhere (scores on the 360
        # page, a suggested queue on a ticket); no app imports it.
        from analytics.hooks import HOOK_MODULES
        from crm.navigation import NavGroup, register_nav_group

        register_nav_group(NavGroup(key="analytics", label=_("Analytics"), order=140))
        for module in HOOK_MODULES:
            module.register()
