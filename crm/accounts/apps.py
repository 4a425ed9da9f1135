from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "crm.accounts"
    label = "accounts"
    verbose_name = _("Accounts and teams")

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from crm.accounts import receivers, roles
        from crm.navigation import NavGroup, NavItem, register_nav_group, register_nav_item

        # Models added by later migrations get their permissions only after migrate; keeping the
        # role groups in step then means no app has to write a permissions migration.
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="accounts.sync_roles")
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(receivers.last_login_stamp, dispatch_uid="accounts.last_login")
        user_logged_in.connect(receivers.login_recorded, dispatch_uid="accounts.login")
        user_logged_out.connect(receivers.logout_recorded, dispatch_uid="accounts.logout")
        user_login_failed.connect(receivers.login_failure_recorded, dispatch_uid="accounts.failed")
        user_locked_out.connect(receivers.lockout_recorded, dispatch_uid="accounts.locked_out")
        register_nav_group(NavGroup(key="administration", label=_("Administration"), order=900))
        register_nav_item(
            NavItem(
                key="field_rules",
                label=_("Field rules"),
                url_name="accounts:field_rules",
                order=910,
                permission="accounts.change_fieldrule",
                group="administration",
            )
        )
        register_nav_item(
            NavItem(
                key="teams",
                label=_("Teams"),
                url_name="accounts:team_list",
                order=80,
                permission="accounts.view_team",
            )
        )
