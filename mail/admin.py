"""Email in the admin, for administrators. Mailboxes save through their services (the IMAP
password is write-only there too); set-aside mail is a record of what could not be taken in,
shown only, with retry and dismiss as actions. Sent and received mail is only shown too;
templates save through their services, which refuse unknown placeholders."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.admin_services import ReadOnlyAdmin, ServiceAdmin, changed_values, error_text
from mail.forms import MailboxForm
from mail.models import (
    EmailAttachment,
    EmailMessage,
    EmailSignature,
    EmailTemplate,
    InboundSetAside,
    Mailbox,
    SuppressedAddress,
)
from mail.services import inbound, mailboxes, suppressions
from mail.services import templates as template_services
from mail.services.outbound import signature_set


@admin.register(Mailbox)
class MailboxAdmin(ServiceAdmin):
    form = MailboxForm
    list_display = [
        "name",
        "address",
        "purpose",
        "team",
        "is_active",
        "imap_host",
        "last_polled_at",
        "imap_last_uid",
    ]
    list_select_related = ["team"]
    list_filter = ["purpose", "is_active"]
    search_fields = ["name", "address", "imap_host"]
    readonly_fields = ["imap_uidvalidity", "imap_last_uid", "last_polled_at", "last_error"]

    def service_save(self, request, form, formsets, change):
        if not change:
            values = {name: form.cleaned_data[name] for name in mailboxes.MAILBOX_EDITABLE_FIELDS}
            return mailboxes.mailbox_create(actor=request.user, **values)
        changes = changed_values(form, mailboxes.MAILBOX_EDITABLE_FIELDS)
        if not changes:
            return None
        stored = Mailbox.objects.get(pk=form.instance.pk)
        return mailboxes.mailbox_update(actor=request.user, mailbox=stored, **changes)

    def service_delete(self, request, obj):
        mailboxes.mailbox_delete(actor=request.user, mailbox=obj)


@admin.register(InboundSetAside)
class InboundSetAsideAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "reason", "from_address", "subject", "source", "resolved_at"]
    list_select_related = ["mailbox", "resolved_by"]
    list_filter = ["reason", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject", "from_address", "message_id"]
    actions = ["retry", "dismiss"]

    @admin.action(description=_("Try to take them in again"))
    def retry(self, request, queryset):
        stored = 0
        for item in queryset.filter(resolved_at__isnull=True):
            try:
                outcome = inbound.inbound_set_aside_retry(actor=request.user, item=item)
            except ValidationError as exc:
                self.message_user(request, error_text(exc), messages.ERROR)
                continue
            stored += outcome.status != inbound.SET_ASIDE
        self.message_user(
            request,
            ngettext("%(count)d message taken in.", "%(count)d messages taken in.", stored)
            % {"count": stored},
        )

    @admin.action(description=_("Dismiss them"))
    def dismiss(self, request, queryset):
        items = list(queryset.filter(resolved_at__isnull=True))
        for item in items:
            inbound.inbound_set_aside_dismiss(actor=request.user, item=item)
        self.message_user(
            request,
            ngettext("%(count)d message dismissed.", "%(count)d messages dismissed.", len(items))
            % {"count": len(items)},
        )


@admin.register(SuppressedAddress)
class SuppressedAddressAdmin(ServiceAdmin):
    list_display = ["address", "reason", "provider", "created_at", "updated_at"]
    list_filter = ["reason", "provider"]
    search_fields = ["address", "detail"]
    fields = ["address", "reason", "detail", "provider", "event_id", "created_at", "updated_at"]
    readonly_fields = ["provider", "event_id", "created_at", "updated_at"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # Another address is another suppression: add it, and remove this one.
        return [*self.readonly_fields, "address"] if obj else self.readonly_fields

    def service_save(self, request, form, formsets, change):
        address = form.instance.address if change else form.cleaned_data["address"]
        return suppressions.address_suppress(
            actor=request.user,
            address=address,
            reason=form.cleaned_data["reason"],
            detail=form.cleaned_data.get("detail", ""),
            provider=form.instance.provider,
            event_id=form.instance.event_id,
        )

    def service_delete(self, request, obj):
        suppressions.address_unsuppress(actor=request.user, suppressed=obj)


class EmailAttachmentInline(admin.TabularInline):
    model = EmailAttachment
    extra = 0
    can_delete = False
    fields = ["name", "size", "content_type"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EmailMessage)
class EmailMessageAdmin(ReadOnlyAdmin):
    """Mail as it was sent or received: a record, so it is only shown."""

    list_display = [
        "created_at",
        "direction",
        "status",
        "kind",
        "subject",
        "from_address",
        "customer",
        "attempts",
    ]
    list_select_related = ["customer"]
    list_filter = ["direction", "status", "kind", "source"]
    search_fields = ["subject", "from_address", "message_id"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    raw_id_fields = ["customer", "interaction", "template", "sent_by", "mailbox"]
    exclude = ["body_html"]
    inlines = [EmailAttachmentInline]


@admin.register(EmailTemplate)
class EmailTemplateAdmin(ServiceAdmin):
    list_display = ["name", "language", "context", "is_active", "owner", "updated_at"]
    list_select_related = ["owner"]
    list_filter = ["context", "language", "is_active"]
    search_fields = ["name", "subject"]
    fields = list(template_services.TEMPLATE_EDITABLE_FIELDS)

    def service_save(self, request, form, formsets, change):
        if not change:
            return template_services.email_template_create(actor=request.user, **form.cleaned_data)
        changes = changed_values(form, template_services.TEMPLATE_EDITABLE_FIELDS)
        if not changes:
            return None
        # The form has already written its values onto form.instance.
        stored = EmailTemplate.objects.get(pk=form.instance.pk)
        return template_services.email_template_update(
            actor=request.user, template=stored, **changes
        )

    def service_delete(self, request, obj):
        template_services.email_template_delete(actor=request.user, template=obj)


@admin.register(EmailSignature)
class EmailSignatureAdmin(ServiceAdmin):
    list_display = ["user", "updated_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "body"]
    raw_id_fields = ["user"]
    fields = ["user", "body"]

    def get_readonly_fields(self, request, obj=None):
        return ["user"] if obj else []

    def service_save(self, request, form, formsets, change):
        user = form.instance.user if change else form.cleaned_data["user"]
        return signature_set(user=user, body=form.cleaned_data["body"])

    def service_delete(self, request, obj):
        obj.delete()
