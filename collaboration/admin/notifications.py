from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from collaboration.models import Notification, NotificationPreference
from collaboration.services.notifications import (
    notification_preference_delete,
    notification_preferences_save,
)
from crm.admin_services import ReadOnlyAdmin, ServiceAdmin


class ReadFilter(admin.SimpleListFilter):
    title = _("read")
    parameter_name = "read"

    def lookups(self, request, model_admin):
        return [("yes", _("Read")), ("no", _("Unread"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(read_at__isnull=self.value() == "no")
        return queryset


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """What each user was told. Notifications are sent by the services, which apply the
    recipient's preferences and push to their open tabs, so the admin only shows them."""

    list_display = [
        "created_at",
        "recipient",
        "kind",
        "title",
        "read_at",
        "in_app",
        "email_pending",
    ]
    list_select_related = ["recipient"]
    list_filter = ["kind", ReadFilter, "in_app", "email_pending"]
    search_fields = ["title", "recipient__username"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ServiceAdmin):
    """Saves go through notification_preferences_save, as the preferences page does; deleting a
    row puts its kind back to the default (in the app, no email)."""

    list_display = ["user", "kind", "in_app", "email_digest"]
    list_select_related = ["user"]
    list_filter = ["kind", "in_app", "email_digest"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "kind"] if obj is not None else []

    def service_save(self, request, form, formsets, change):
        preference = form.instance
        values = {
            "in_app": form.cleaned_data["in_app"],
            "email_digest": form.cleaned_data["email_digest"],
        }
        (saved,) = notification_preferences_save(
            user=preference.user, values={preference.kind: values}
        )
        return saved

    def service_delete(self, request, obj):
        notification_preference_delete(preference=obj)
