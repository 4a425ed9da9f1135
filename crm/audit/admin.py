from django.contrib import admin

from crm.admin_services import ReadOnlyAdmin
from crm.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit log is append-only: not even a superuser may add, change or delete an event."""

    list_display = ["occurred_at", "kind", "username", "ip_address", "target_type", "target_id"]
    list_filter = ["kind", "occurred_at"]
    search_fields = ["username", "ip_address", "target_label"]
    date_hierarchy = "occurred_at"
    list_select_related = ["target_type"]
    show_full_result_count = False
