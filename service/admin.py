from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm.admin_services import ReadOnlyAdmin, ServiceAdmin, changed_values, given_values
from service.models import (
    BusinessCalendar,
    CannedResponse,
    Holiday,
    SatisfactionSurvey,
    SlaPolicy,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketMessage,
    TicketStatusChange,
)
from service.services import canned as canned_services
from service.services import categories as category_services
from service.services import sla_policies as sla_services
from service.services import tickets as ticket_services


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ServiceCheckedForm(forms.ModelForm):
    """Leaves uniqueness and the table's constraints to the service, whose rules are wider than
    the constraint (making a calendar the default moves the flag; a clashing policy is named)."""

    def validate_unique(self) -> None:
        pass


# Calendars and SLA policies ----------------------------------------------------------------------


class HolidayInline(ReadOnlyInline):
    model = Holiday
    fields = ["date", "name"]
    readonly_fields = fields


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(ServiceAdmin):
    """Saved through the SLA setup services: one default (making another the default moves the
    flag), a valid time zone and working day, and no deleting a calendar policies use. Holidays
    are added and removed on their own admin page (or on the SLA pages)."""

    form = ServiceCheckedForm
    list_display = [
        "name",
        "time_zone",
        "working_days",
        "day_starts_at",
        "day_ends_at",
        "is_default",
    ]
    list_filter = ["is_default", "time_zone"]
    search_fields = ["name"]
    inlines = [HolidayInline]

    def service_save(self, request, form, formsets, change):
        if not change:
            return sla_services.calendar_create(
                actor=request.user, **given_values(form, sla_services.CALENDAR_EDITABLE_FIELDS)
            )
        values = changed_values(form, sla_services.CALENDAR_EDITABLE_FIELDS)
        if not values:
            return None
        return sla_services.calendar_update(actor=request.user, calendar=form.instance, **values)

    def service_delete(self, request, obj):
        sla_services.calendar_delete(actor=request.user, calendar=obj)


@admin.register(Holiday)
class HolidayAdmin(ServiceAdmin):
    """A holiday is added or removed, not edited (SLA clocks already timed around it)."""

    list_display = ["date", "name", "calendar"]
    list_select_related = ["calendar"]
    list_filter = ["calendar"]
    search_fields = ["name", "calendar__name"]
    date_hierarchy = "date"

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def service_save(self, request, form, formsets, change):
        return sla_services.holiday_add(
            actor=request.user,
            calendar=form.cleaned_data["calendar"],
            date=form.cleaned_data["date"],
            name=form.cleaned_data["name"],
        )

    def service_delete(self, request, obj):
        sla_services.holiday_remove(actor=request.user, holiday=obj)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(SimpleHistoryAdmin, ServiceAdmin):
    """Saved through the SLA setup services: positive targets, resolution no sooner than the
    first response, one active policy per tier × priority (the clash is named)."""

    form = ServiceCheckedForm
    list_display = [
        "name",
        "is_active",
        "tier",
        "priority",
        "first_response_minutes",
        "resolution_minutes",
        "warn_before_minutes",
        "calendar",
    ]
    list_select_related = ["calendar"]
    list_filter = ["is_active", "tier", "priority", "calendar"]
    search_fields = ["name"]

    def service_save(self, request, form, formsets, change):
        if not change:
            return sla_services.sla_policy_create(
                actor=request.user, **given_values(form, sla_services.SLA_POLICY_EDITABLE_FIELDS)
            )
        values = changed_values(form, sla_services.SLA_POLICY_EDITABLE_FIELDS)
        if not values:
            return None
        return sla_services.sla_policy_update(actor=request.user, policy=form.instance, **values)

    def service_delete(self, request, obj):
        sla_services.sla_policy_delete(actor=request.user, policy=obj)


@admin.register(TicketCategory)
class TicketCategoryAdmin(SimpleHistoryAdmin, ServiceAdmin):
    list_display = ["name", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]

    def service_save(self, request, form, formsets, change):
        if not change:
            return category_services.category_create(
                actor=request.user,
                **given_values(form, category_services.CATEGORY_EDITABLE_FIELDS),
            )
        values = changed_values(form, category_services.CATEGORY_EDITABLE_FIELDS)
        if not values:
            return None
        return category_services.category_update(
            actor=request.user, category=form.instance, **values
        )

    def service_delete(self, request, obj):
        category_services.category_delete(actor=request.user, category=obj)


# Tickets -----------------------------------------------------------------------------------------


class TicketMessageInline(ReadOnlyInline):
    model = TicketMessage
    fields = ["created_at", "kind", "author", "body"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class TicketStatusChangeInline(ReadOnlyInline):
    model = TicketStatusChange
    fields = ["changed_at", "from_status", "to_status", "changed_by"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")


TICKET_RECORD_FIELDS = [
    "number",
    "version",
    "created_by",
    "reopened_count",
    "created_at",
    "updated_at",
]
TICKET_SLA_FIELDS = [
    "sla_policy",
    "first_response_due_at",
    "first_responded_at",
    "first_response_seconds",
    "first_response_breached",
    "resolution_due_at",
    "resolved_at",
    "resolution_seconds",
    "resolution_breached",
    "closed_at",
    "sla_paused_at",
    "sla_paused_seconds",
    "first_response_warned_at",
    "resolution_warned_at",
    "first_response_escalated_at",
    "resolution_escalated_at",
]
TICKET_RATING_FIELDS = ["satisfaction_rating", "satisfaction_comment", "rated_at"]


def _service_values(values: dict) -> dict:
    """Form values as the ticket services take them: tags by name."""
    if "tags" in values:
        values["tags"] = [tag.name for tag in values["tags"]]
    return values


@admin.register(Ticket)
class TicketAdmin(SimpleHistoryAdmin, ServiceAdmin):
    """Saves go through the ticket services, so an admin edit is checked and recorded as every
    other change is: a new priority re-times the SLA, a new assignee is told, a status change
    follows the workflow and is recorded in the history (with the SLA clocks and the survey on
    resolution), and the version moves on, so a page or an API client still holding the old one
    gets a conflict instead of overwriting the admin's change.

    The admin saves from the version the ticket has when the form is posted; the edit and the
    status change are one transaction, and a refusal of either writes nothing."""

    list_display = [
        "number",
        "subject",
        "customer",
        "status",
        "priority",
        "assignee",
        "team",
        "resolution_due_at",
        "resolution_breached",
        "created_at",
    ]
    list_select_related = ["customer", "assignee", "team"]
    list_filter = [
        "status",
        "priority",
        "type",
        "channel",
        "category",
        "team",
        "first_response_breached",
        "resolution_breached",
    ]
    search_fields = ["number", "subject", "customer__name", "customer__email"]
    autocomplete_fields = ["customer", "assignee", "team", "category", "tags"]
    date_hierarchy = "created_at"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "subject",
                    "description",
                    "customer",
                    "type",
                    "channel",
                    "priority",
                    "status",
                    "category",
                    "tags",
                ]
            },
        ),
        (_("Assignment"), {"fields": ["assignee", "team"]}),
        (_("SLA"), {"fields": TICKET_SLA_FIELDS}),
        (_("Satisfaction"), {"fields": TICKET_RATING_FIELDS}),
        (_("Record"), {"fields": TICKET_RECORD_FIELDS}),
    ]
    inlines = [TicketMessageInline, TicketStatusChangeInline]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        readonly = [*TICKET_SLA_FIELDS, *TICKET_RATING_FIELDS, *TICKET_RECORD_FIELDS]
        # A new ticket starts as new; a ticket stays with its customer.
        return [*readonly, "status"] if obj is None else [*readonly, "customer"]

    def service_save(self, request, form, formsets, change):
        if not change:
            values = _service_values(given_values(form, ticket_services.TICKET_EDITABLE_FIELDS))
            values.pop("subject", None)
            values.pop("description", None)
            return ticket_services.ticket_create(
                actor=request.user,
                customer=form.cleaned_data["customer"],
                subject=form.cleaned_data["subject"],
                description=form.cleaned_data["description"],
                **values,
            )
        ticket = form.instance
        values = _service_values(changed_values(form, ticket_services.TICKET_EDITABLE_FIELDS))
        saved = None
        if values:
            saved = ticket_services.ticket_update(
                actor=request.user, ticket=ticket, version=ticket.version, **values
            )
        if "status" in form.changed_data:
            saved = ticket_services.ticket_change_status(
                actor=request.user,
                ticket=ticket,
                status=form.cleaned_data["status"],
                version=saved.version if saved is not None else ticket.version,
            )
        return saved

    def service_delete(self, request, obj):
        ticket_services.ticket_delete(actor=request.user, ticket=obj)


class TicketAttachmentInline(ReadOnlyInline):
    model = TicketAttachment
    fields = ["name", "size", "content_type", "file"]
    readonly_fields = fields


@admin.register(TicketMessage)
class TicketMessageAdmin(ReadOnlyAdmin):
    """Listed for search; messages are added on their ticket (pages or API), which they move."""

    list_display = ["created_at", "ticket", "kind", "author"]
    list_select_related = ["ticket", "author"]
    list_filter = ["kind"]
    search_fields = ["ticket__number", "body", "author__username"]
    date_hierarchy = "created_at"
    inlines = [TicketAttachmentInline]
    show_full_result_count = False


@admin.register(TicketAttachment)
class TicketAttachmentAdmin(ReadOnlyAdmin):
    list_display = ["name", "message", "size", "content_type"]
    list_select_related = ["message"]
    search_fields = ["name", "message__ticket__number"]
    show_full_result_count = False


@admin.register(TicketStatusChange)
class TicketStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "ticket", "from_status", "to_status", "changed_by"]
    list_select_related = ["ticket", "changed_by"]
    list_filter = ["to_status", "from_status"]
    search_fields = ["ticket__number", "changed_by__username"]
    date_hierarchy = "changed_at"
    show_full_result_count = False


@admin.register(SatisfactionSurvey)
class SatisfactionSurveyAdmin(ReadOnlyAdmin):
    """Sent when a ticket is resolved and answered by the customer through their link; the
    admin only shows them (the token's hash is left out)."""

    list_display = ["sent_at", "ticket", "sent_to", "language", "answered_at", "rating"]
    list_select_related = ["ticket"]
    list_filter = ["rating", "language"]
    search_fields = ["ticket__number", "sent_to"]
    exclude = ["token_hash"]
    date_hierarchy = "sent_at"
    show_full_result_count = False


@admin.register(CannedResponse)
class CannedResponseAdmin(SimpleHistoryAdmin, ServiceAdmin):
    """Saved through the canned response services: a new one is the admin's own, and is shared
    only with a team they belong to (an admin may share with any)."""

    list_display = ["name", "owner", "team", "updated_at"]
    list_select_related = ["owner", "team"]
    list_filter = ["team"]
    search_fields = ["name", "body", "owner__username"]
    autocomplete_fields = ["team"]
    readonly_fields = ["owner"]

    def service_save(self, request, form, formsets, change):
        if not change:
            return canned_services.canned_response_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                body=form.cleaned_data["body"],
                team=form.cleaned_data["team"],
            )
        values = changed_values(form, canned_services.CANNED_EDITABLE_FIELDS)
        if not values:
            return None
        return canned_services.canned_response_update(
            actor=request.user, response=form.instance, **values
        )

    def service_delete(self, request, obj):
        canned_services.canned_response_delete(actor=request.user, response=obj)
