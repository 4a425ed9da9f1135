from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "mail"
    verbose_name = _("Email")

    def ready(self) -> None:
        from anymail.signals import inbound, tracking

        from crm.navigation import NavItem, register_nav_item
        from mail import checks, receivers

        inbound.connect(receivers.inbound_received, dispatch_uid="mail.inbound_received")
        tracking.connect(receivers.tracking_received, dispatch_uid="mail.tracking_received")
        checks.register_checks()
        self._register_events()
        register_nav_item(
            NavItem(
                key="mailboxes",
                label=_("Mailboxes"),
                url_name="mail:mailbox_list",
                order=920,
                permission="mail.view_mailbox",
                group="administration",
            )
        )
        register_nav_item(
            NavItem(
                key="mail_set_aside",
                label=_("Set-aside mail"),
                url_name="mail:set_aside_list",
                order=925,
                permission="mail.view_inboundsetaside",
                group="administration",
            )
        )
        self._register_reading_and_sending()
        self._register_suppressions()

    def _register_suppressions(self) -> None:
        # The suppressed addresses page, and the box on a customer's page when mail to them
        # bounced or they unsubscribed.
        from crm.navigation import NavItem, register_nav_item
        from customers.registry import register_profile_panel
        from mail.views.suppressions import customer_mail_standing_panel

        register_nav_item(
            NavItem(
                key="mail_suppressions",
                label=_("Suppressed addresses"),
                url_name="mail:suppression_list",
                order=930,
                permission="mail.view_suppressedaddress",
                group="administration",
            )
        )
        register_profile_panel(order=46, provider=customer_mail_standing_panel)

    def _register_reading_and_sending(self) -> None:
        # The email pages, the "Email" box on the customer's page, and mail's part of a customer
        # merge, data export and erasure; customers never imports mail.
        from crm.demo import register_demo_seeder
        from crm.navigation import NavGroup, NavItem, register_nav_group, register_nav_item
        from customers.registry import (
            register_eraser,
            register_merge_handler,
            register_privacy_exporter,
            register_profile_panel,
        )
        from mail import demo
        from mail.services import customer_records
        from mail.views.messages import customer_emails_panel

        register_nav_group(NavGroup(key="mail", label=_("Mail"), order=250))
        register_nav_item(
            NavItem(
                key="emails",
                group="mail",
                label=_("Sent and received"),
                url_name="mail:email_list",
                order=250,
                permission="mail.view_emailmessage",
            )
        )
        register_nav_item(
            NavItem(
                key="email_templates",
                group="mail",
                label=_("Templates"),
                url_name="mail:template_list",
                order=255,
                permission="mail.view_emailtemplate",
            )
        )
        register_profile_panel(order=45, provider=customer_emails_panel)
        register_merge_handler(key="emails", handler=customer_records.customer_emails_merge)
        register_privacy_exporter(key="emails", exporter=customer_records.customer_emails_export)
        register_eraser(key="emails", eraser=customer_records.customer_emails_erase)
        register_demo_seeder(order=45, name="mail", seeder=demo.seed_mail)

    def _register_events(self) -> None:
        # Sent, received and bounced mail are announced to webhooks (and workflow rules), to
        # subscribers who may see the email's customer; a timeline entry of an email that
        # belongs to no deal or ticket links to the email.
        from django.urls import reverse

        from crm.webhooks.events import register_record_type
        from customers.registry import register_record_url
        from mail.api.emails import email_fields_hidden, email_payload
        from mail.models import EmailMessage
        from mail.selectors import email_list_visible

        register_record_type(
            model=EmailMessage,
            payload=email_payload,
            visible=email_list_visible,
            hidden_fields=email_fields_hidden,
        )
        register_record_url(
            model_label="mail.emailmessage", url=lambda pk: reverse("mail:email_detail", args=[pk])
        )
