from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from collaboration.models import Task, TaskComment
from collaboration.services.task_comments import task_comment_add, task_comment_delete
from collaboration.services.tasks import (
    TASK_EDITABLE_FIELDS,
    task_create,
    task_delete,
    task_update,
)
from crm.admin_services import ServiceAdmin, changed_values, given_values


class TaskCommentInline(admin.TabularInline):
    """The task's comments, to read: they are added and deleted through the comment admin (or
    the task's page), which tells the people concerned."""

    model = TaskComment
    fields = ["author", "body", "created_at"]
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


@admin.register(Task)
class TaskAdmin(SimpleHistoryAdmin, ServiceAdmin):
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
    inlines = [TaskCommentInline]

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


@admin.register(TaskComment)
class TaskCommentAdmin(ServiceAdmin):
    """Comments are added through task_comment_add (so the assignee, the creator and anyone
    mentioned hear of them) and deleted through task_comment_delete; they are not edited."""

    list_display = ["created_at", "task", "author"]
    list_select_related = ["task", "author"]
    search_fields = ["body", "task__title", "author__username"]
    autocomplete_fields = ["task"]
    fields = ["task", "body", "author", "created_at"]
    readonly_fields = ["author", "created_at"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def service_save(self, request, form, formsets, change):
        return task_comment_add(
            actor=request.user, task=form.cleaned_data["task"], body=form.cleaned_data["body"]
        )

    def service_delete(self, request, obj):
        task_comment_delete(actor=request.user, comment=obj)
