from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm.admin_services import ReadOnlyAdmin
from crm.api.models import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    """Written by the API as requests arrive and purged when they expire; shown for support."""

    list_display = ["created_at", "scope", "key", "status_code"]
    list_filter = ["status_code"]
    search_fields = ["scope", "key"]
    date_hierarchy = "created_at"
    exclude = ["response_body"]
    readonly_fields = ["response_excerpt"]
    show_full_result_count = False

    @admin.display(description=_("response body"))
    def response_excerpt(self, record: IdempotencyKey) -> str:
        return bytes(record.response_body)[:2000].decode("utf-8", errors="replace")
