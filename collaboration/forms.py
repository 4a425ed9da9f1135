"""The task form; the task list filters with collaboration.selectors.tasks.TaskFilter."""

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collaboration.models import Task
from collaboration.selectors.tasks import related_content_type, related_type_choices
from collaboration.services.task_comments import MAX_COMMENT_LENGTH
from crm.accounts.models import User
from crm.accounts.selectors import user_list_active


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class TaskForm(forms.Form):
    """A new task (no status, no version) or an edit of one made from its `version`."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=Task.Kind.choices, initial=Task.Kind.CALL
    )
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=Task.Status.choices)
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority"), choices=Task.Priority.choices, initial=Task.Priority.NORMAL
    )
    due_at = forms.DateTimeField(
        label=gettext_lazy("Due"), required=False, widget=DateTimeLocalInput()
    )
    remind_minutes_before = forms.IntegerField(
        label=gettext_lazy("Remind me (minutes before)"),
        min_value=0,
        initial=30,
        help_text=gettext_lazy("0 for no reminder."),
    )
    assignee = forms.ModelChoiceField(
        label=gettext_lazy("Assignee"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("Me"),
    )
    related_type = forms.ChoiceField(
        label=gettext_lazy("About a"), required=False, choices=[("", "—")]
    )
    related_id = forms.IntegerField(
        label=gettext_lazy("Record number"),
        required=False,
        min_value=1,
        help_text=gettext_lazy("The number in the record's address, e.g. 42 in /customers/42/."),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.fields["assignee"].queryset = user_list_active()
        self.fields["related_type"].choices = [("", "—"), *related_type_choices()]
        if editing:
            # An edited task keeps someone responsible for it.
            self.fields["assignee"].required = True
            self.fields["assignee"].empty_label = None
        else:
            del self.fields["status"]
            del self.fields["version"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        related_type = cleaned.get("related_type")
        related_id = cleaned.get("related_id")
        if related_type and related_id is None and "related_id" not in self.errors:
            self.add_error("related_id", _("Say which record the task is about."))
        if related_id is not None and not related_type:
            self.add_error("related_type", _("Say what kind of record the task is about."))
        return cleaned

    def service_values(self) -> dict[str, Any]:
        """The task's values for task_create/task_update (without `version`)."""
        values = {name: value for name, value in self.cleaned_data.items() if name != "version"}
        label = values.pop("related_type")
        values["related_type"] = related_content_type(label) if label else None
        if values["related_type"] is None:
            values["related_id"] = None
        if not self.editing and values["assignee"] is None:
            del values["assignee"]
        return values

    @classmethod
    def initial_for(cls, task: Task) -> dict[str, Any]:
        related_type = ""
        if task.related_type_id is not None:
            related_type = f"{task.related_type.app_label}.{task.related_type.model}"
        return {
            "title": task.title,
            "kind": task.kind,
            "status": task.status,
            "priority": task.priority,
            "due_at": task.due_at,
            "remind_minutes_before": task.remind_minutes_before,
            "assignee": task.assignee_id,
            "related_type": related_type,
            "related_id": task.related_id,
            "description": task.description,
            "version": task.version,
        }


class TaskMoveForm(forms.Form):
    """A card moved on the task board: the status it goes to and the version it was shown at."""

    status = forms.ChoiceField(label=gettext_lazy("Move to"), choices=Task.Status.choices)
    version = forms.IntegerField(widget=forms.HiddenInput)


class TaskCommentForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Comment"),
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Mention someone with @username to let them know."),
    )
