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
    NavItem(
        key="chat",
        label=_("Chat"),
        url_name="collaboration:chat_home",
        order=106,
        permission="collaboration.view_chatroom",
    ),
    NavItem(
        key="calendar",
        label=_("Calendar"),
        url_name="collaboration:calendar",
        order=107,
        permission="collaboration.view_event",
    ),
    NavItem(
        key="activity",
        label=_("Activity"),
        url_name="collaboration:activity_feed",
        order=108,
        permission="activity.view_activityevent",
    ),
]


class CollaborationConfig(AppConfig):
    name = "collaboration"
    verbose_name = _("Collaboration")

    def ready(self) -> None:
        from collaboration.demo import seed_collaboration
        from collaboration.receivers import notify_webhook_disabled
        from crm.demo import register_demo_seeder
        from crm.signals import webhook_subscription_disabled
        from customers.registry import register_record_url

        webhook_subscription_disabled.connect(
            notify_webhook_disabled, dispatch_uid="collaboration.notify_webhook_disabled"
        )
        for item in NAV_ITEMS:
            register_nav_item(item)
        register_demo_seeder(order=40, name="collaboration", seeder=seed_collaboration)
        register_record_url(
            model_label="collaboration.task",
            url=lambda pk: reverse("collaboration:task_detail", args=[pk]),
        )
        register_record_url(
            model_label="collaboration.event",
            url=lambda pk: reverse("collaboration:event_detail", args=[pk]),
        )

        from collaboration.views.calendar import upcoming_meetings_panel
        from crm.home import register_home_panel

        register_home_panel(60, upcoming_meetings_panel)

        from collaboration.templatetags.collaboration_tools import customer_tool_rows
        from customers.registry import ProfilePanel, register_profile_panel

        def customer_collaboration_panel(customer, user) -> ProfilePanel | None:
            rows = customer_tool_rows(customer=customer, user=user)
            return ProfilePanel(title=_("Collaboration"), rows=rows) if rows else None

        register_profile_panel(order=50, provider=customer_collaboration_panel)

        from collaboration.selectors.chat import chat_timeline_entries
        from customers.registry import register_timeline_source

        register_timeline_source(key="chat", label=_("Discussion"), fetch=chat_timeline_entries)

        from collaboration.history import record_histories_register

        record_histories_register()
