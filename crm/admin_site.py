"""Django's admin, open to admins only.

The admin applies model permissions but not the visibility rule (its change lists, lookups,
autocompletes and history views would each need it), so only those who see every record anyway
may use it: superusers and the Admin role. Everyone else works in the pages and the API, which
apply the rule.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class CrmAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        # Imported here: this module is loaded with INSTALLED_APPS, before any model.
        from crm.accounts.selectors import user_is_admin

        return super().has_permission(request) and user_is_admin(request.user)


class CrmAdminConfig(AdminConfig):
    default_site = "crm.admin_site.CrmAdminSite"
