from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "crm.accounts"
    label = "accounts"
    verbose_name = _("Accounts and teams")

    def ready(self) -> None:
        from crm.accounts import roles
        from crm.navigation import NavItem, register_nav_item

        # Models added by later migrations get their permissions only after migrate; keeping the
        # role groups in step then means no app has to write a permissions migration.
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="accounts.sync_roles")
        register_nav_item(
            NavItem(
                key="teams",
                label=_("Teams"),
                url_name="accounts:team_list",
                order=80,
                permission="accounts.view_team",
            )
        )
