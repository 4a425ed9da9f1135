from django.contrib import admin

from crm.activity.models import ActivityEvent
from crm.admin_services import ReadOnlyAdmin


@admin.register(ActivityEvent)
class ActivityEventAdmin(ReadOnlyAdmin):
    """The log is written by the services as things happen; nobody edits history here."""

    list_display = ["created_at", "verb", "actor", "team", "summary"]
    list_select_related = ["actor", "team"]
    list_filter = ["verb", "team"]
    search_fields = ["summary", "actor__username"]
    date_hierarchy = "created_at"
    show_full_result_count = False
