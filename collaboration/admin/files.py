from django import forms
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from collaboration.models import Attachment
from collaboration.selectors.files import ATTACHABLE_TYPES, record_from_label
from collaboration.selectors.tasks import content_type_label
from collaboration.services.files import attachment_add, attachment_delete
from crm.admin_services import ServiceAdmin


def _attachable_content_types():
    condition = Q(pk__in=[])
    for label in ATTACHABLE_TYPES:
        app_label, _dot, model = label.partition(".")
        condition |= Q(app_label=app_label, model=model)
    return ContentType.objects.filter(condition).order_by("app_label", "model")


class AttachmentAddForm(forms.ModelForm):
    """Names the record and the file; the name, size and type are read from the file by the
    service, after the same content check every upload passes."""

    related_type = forms.ModelChoiceField(
        queryset=ContentType.objects.none(), label=_("record type")
    )

    class Meta:
        model = Attachment
        fields = ["related_type", "related_id", "file"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["related_type"].queryset = _attachable_content_types()

    def clean(self):
        cleaned = super().clean()
        content_type, record_id = cleaned.get("related_type"), cleaned.get("related_id")
        if content_type is not None and record_id is not None:
            try:
                cleaned["record"] = record_from_label(
                    type_label=content_type_label(content_type), record_id=record_id
                )
            except ObjectDoesNotExist:
                self.add_error("related_id", _("No such record."))
        return cleaned


@admin.register(Attachment)
class AttachmentAdmin(SimpleHistoryAdmin, ServiceAdmin):
    """Files are added through attachment_add, so the content check and the record's visibility
    hold here too, and removed through attachment_delete, which also removes the stored file.
    The stored file is never linked to directly: the download goes through the checked view."""

    list_display = ["name", "related_type", "record", "size_text", "uploaded_by", "created_at"]
    list_select_related = ["related_type", "uploaded_by"]
    list_filter = ["related_type"]
    search_fields = ["name"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    change_readonly_fields = [
        "related_type",
        "related_id",
        "record",
        "name",
        "size_text",
        "content_type",
        "uploaded_by",
        "download",
        "created_at",
        "updated_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("related_record")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AttachmentAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["related_type", "related_id", "file"]
        return self.change_readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.change_readonly_fields

    def has_change_permission(self, request, obj=None) -> bool:
        # A file is replaced by deleting it and adding another, never edited in place.
        return False

    @admin.display(description=_("record"))
    def record(self, attachment: Attachment) -> str:
        return str(attachment.related_record or "—")

    @admin.display(description=_("size"), ordering="size")
    def size_text(self, attachment: Attachment) -> str:
        return filesizeformat(attachment.size)

    @admin.display(description=_("download"))
    def download(self, attachment: Attachment) -> str:
        url = reverse("collaboration:attachment_download", args=[attachment.pk])
        return format_html('<a href="{}">{}</a>', url, attachment.name)

    def service_save(self, request, form, formsets, change):
        if change:
            return None
        return attachment_add(
            actor=request.user, record=form.cleaned_data["record"], upload=form.cleaned_data["file"]
        )

    def service_delete(self, request, obj):
        attachment_delete(actor=request.user, attachment=obj)
