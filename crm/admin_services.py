"""Admin pages whose saves and deletions go through a service, so an admin edit is checked and
recorded like any other change (version, history, notices) instead of written straight to the
table."""

from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect

from crm.concurrency import StaleRecordError


def error_text(exc: ValidationError) -> str:
    """A service's refusal as one line for the admin's message bar."""
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    return "; ".join(
        " ".join(field_messages)
        if field == NON_FIELD_ERRORS
        else f"{field}: {' '.join(field_messages)}"
        for field, field_messages in exc.message_dict.items()
    )


class ServiceAdmin(admin.ModelAdmin):
    """Saves and deletions through the app's services. A subclass defines two methods:

    - `service_save(request, form, formsets, change)` saves the form's record and its inlines
      through the service and returns it (None when nothing changed);
    - `service_delete(request, obj)` deletes through the service.

    The service runs after the form validated, inside the admin's transaction; its refusal rolls
    the whole save back and is shown at the top of the page instead of a server error."""

    def _refusal_shown(self, request, view, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (ValidationError, StaleRecordError) as exc:
            text = error_text(exc) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, text, messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._refusal_shown(
            request, super().changeform_view, object_id, form_url, extra_context
        )

    def delete_view(self, request, object_id, extra_context=None):
        return self._refusal_shown(request, super().delete_view, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        # The "delete selected" action runs here.
        return self._refusal_shown(request, super().changelist_view, extra_context)

    def save_model(self, request, obj, form, change):
        # Saved in save_related, which also has the inlines, so one admin save is one service
        # call.
        pass

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            # The service wrote the inlines; the change message reads what the formsets saved.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        saved = self.service_save(request, form, formsets, change)
        if saved is None:
            return
        record = form.instance
        record.pk = saved.pk
        record._state.adding = False
        record.refresh_from_db()

    def delete_model(self, request, obj):
        self.service_delete(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self.service_delete(request, obj)


def changed_values(form, fields) -> dict:
    """The form's changed fields that the service lets callers set."""
    return {name: form.cleaned_data[name] for name in form.changed_data if name in fields}


def given_values(form, fields) -> dict:
    """The form's filled-in fields that the service lets callers set; left empty, the service's
    defaults apply."""
    return {
        name: value
        for name, value in form.cleaned_data.items()
        if name in fields and value not in (None, "")
    }


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows the services write as a record of what happened; the admin only shows them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
