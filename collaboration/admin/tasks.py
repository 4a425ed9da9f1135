from django.contrib import admin

from collaboration.models import Notification, Task
from collaboration.services.tasks import (
    TASK_EDITABLE_FIELDS,
    task_create,
    task_delete,
    task_update,
)
from crm.admin_services import ServiceAdmin, changed_values, given_values


@admin.register(Task)
class TaskAdmin(ServiceAdmin):
    """Saves go through task_create / task_update, so an admin edit moves the version on (a page
    or API client holding the old one gets a conflict), re-arms the reminder when the due time
    changes and tells a new assignee, as every other change does. A change the service refuses
    is reported at the top of the page and nothing is written."""

    list_display = ["title", "kind", "status", "priority", "due_at", "assignee", "team"]
    list_select_related = ["assignee", "team"]
    list_filter = ["status", "kind", "priority", "team"]
    search_fields = ["title", "description", "assignee__username"]
    autocomplete_fields = ["assignee", "team"]
    readonly_fields = [
        "created_by",
        "completed_at",
        "reminded_at",
        "overdue_notified_at",
        "version",
        "created_at",
        "updated_at",
    ]
    date_hierarchy = "due_at"
    show_full_result_count = False

    def service_save(self, request, form, formsets, change):
        if not change:
            return task_create(actor=request.user, **given_values(form, TASK_EDITABLE_FIELDS))
        values = changed_values(form, TASK_EDITABLE_FIELDS)
        if not values:
            return None
        task = form.instance
        return task_update(actor=request.user, task=task, version=task.version, **values)

    def service_delete(self, request, obj):
        task_delete(actor=request.user, task=obj)


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
