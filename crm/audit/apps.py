from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "crm.audit"
    label = "audit"
    verbose_name = _("Audit")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crm.audit import receivers
        from crm.navigation import NavItem, register_nav_item

        register_nav_item(
            NavItem(
                key="audit",
                label=_("Audit log"),
                url_name="audit:event_list",
                order=95,
                permission="audit.view_auditevent",
            )
        )
        receivers.permission_receivers_connect()
