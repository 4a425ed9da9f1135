from django.contrib import admin

from collaboration.models import Notification, Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "status", "priority", "due_at", "assignee", "team"]
    list_select_related = ["assignee", "team"]
    list_filter = ["status", "kind", "priority", "team"]
    search_fields = ["title", "description", "assignee__username"]
    autocomplete_fields = ["assignee", "team", "created_by"]
    readonly_fields = [
        "completed_at",
        "reminded_at",
        "overdue_notified_at",
        "version",
        "created_at",
        "updated_at",
    ]
    date_hierarchy = "due_at"
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "kind", "title", "read_at"]
    list_select_related = ["recipient"]
    list_filter = ["kind"]
    search_fields = ["title", "recipient__username"]
    autocomplete_fields = ["recipient"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"
    show_full_result_count = False
