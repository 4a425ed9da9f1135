from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm.admin_services import ServiceAdmin, changed_values, given_values
from customers.models import (
    Company,
    Customer,
    CustomerMerge,
    ExportJob,
    ImportJob,
    Interaction,
    Need,
    Order,
    OrderLine,
    PrivacyRequest,
    Product,
    Relationship,
    Segment,
    Tag,
)
from customers.services.customers import (
    COMPANY_EDITABLE_FIELDS,
    CUSTOMER_EDITABLE_FIELDS,
    company_create,
    company_delete,
    company_update,
    customer_create,
    customer_delete,
    customer_update,
)


def _saved_copy(record):
    """The record as stored: the admin's form has already written its values onto
    `form.instance`, and the update services compare against what is stored."""
    return type(record).objects.get(pk=record.pk)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]


@admin.register(Company)
class CompanyAdmin(SimpleHistoryAdmin, ServiceAdmin):
    """Saved through the company services, with the same checks as the page and the API."""

    list_display = ["name", "industry", "size", "city", "country", "owner", "team"]
    list_select_related = ["owner", "team"]
    list_filter = ["size", "country", "team", "industry"]
    search_fields = ["name", "website", "city"]
    autocomplete_fields = ["owner", "team"]
    show_full_result_count = False
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def service_save(self, request, form, formsets, change):
        if not change:
            values = given_values(form, COMPANY_EDITABLE_FIELDS)
            return company_create(actor=request.user, **values)
        values = changed_values(form, COMPANY_EDITABLE_FIELDS)
        if not values:
            return None
        return company_update(actor=request.user, company=_saved_copy(form.instance), **values)

    def service_delete(self, request, obj):
        company_delete(actor=request.user, company=obj)


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin, ServiceAdmin):
    """Saved through the customer services, so an admin edit is cleaned, checked and announced
    to webhooks (customer.created, customer.updated) like one made on a page or through the API.
    """

    list_display = ["name", "email", "phone", "company", "status", "tier", "city", "owner", "team"]
    list_select_related = ["company", "owner", "team"]
    list_filter = ["status", "tier", "source", "gender", "team", "marketing_consent"]
    search_fields = ["name", "email", "phone", "external_id", "company__name"]
    autocomplete_fields = ["company", "owner", "team", "tags"]
    readonly_fields = ["marketing_consent_at", "created_at", "updated_at"]
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["name", "gender", "birthday", "company", "job_title"]}),
        ("Contact", {"fields": ["email", "phone"]}),
        ("Address", {"fields": ["street", "city", "province", "postcode", "country"]}),
        (
            "Relationship",
            {"fields": ["status", "tier", "source", "owner", "team", "tags", "external_id"]},
        ),
        ("Consent", {"fields": ["marketing_consent", "marketing_consent_at"]}),
        ("More", {"fields": ["annual_income", "income_currency", "notes", "custom_attributes"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    def service_save(self, request, form, formsets, change):
        fields = (*CUSTOMER_EDITABLE_FIELDS, "tags")
        values = changed_values(form, fields) if change else given_values(form, fields)
        if "tags" in values:
            values["tags"] = [tag.name for tag in values["tags"]]
        if not change:
            return customer_create(actor=request.user, **values)
        if not values:
            return None
        return customer_update(actor=request.user, customer=_saved_copy(form.instance), **values)

    def service_delete(self, request, obj):
        customer_delete(actor=request.user, customer=obj)


@admin.register(Product)
class ProductAdmin(SimpleHistoryAdmin, admin.ModelAdmin):
    list_display = ["sku", "name", "category", "unit_price", "currency", "is_active"]
    list_filter = ["is_active", "category", "currency"]
    search_fields = ["sku", "name", "category"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    autocomplete_fields = ["product"]


@admin.register(Order)
class OrderAdmin(SimpleHistoryAdmin, admin.ModelAdmin):
    list_display = ["number", "customer", "ordered_at", "status", "total_amount", "currency"]
    list_select_related = ["customer"]
    list_filter = ["status", "currency"]
    search_fields = ["number", "customer__name", "customer__email"]
    autocomplete_fields = ["customer"]
    date_hierarchy = "ordered_at"
    inlines = [OrderLineInline]
    show_full_result_count = False


@admin.register(OrderLine)
class OrderLineAdmin(admin.ModelAdmin):
    list_display = ["order", "product", "quantity", "unit_price"]
    list_select_related = ["order", "product"]
    search_fields = ["order__number", "product__name", "product__sku"]
    autocomplete_fields = ["order", "product"]
    show_full_result_count = False


@admin.register(Need)
class NeedAdmin(SimpleHistoryAdmin, admin.ModelAdmin):
    list_display = ["text", "customer", "category", "priority", "status", "created_at"]
    list_select_related = ["customer"]
    list_filter = ["status", "priority", "category"]
    search_fields = ["text", "customer__name"]
    autocomplete_fields = ["customer", "created_by"]
    show_full_result_count = False


@admin.register(Interaction)
class InteractionAdmin(SimpleHistoryAdmin, admin.ModelAdmin):
    list_display = ["occurred_at", "customer", "channel", "direction", "subject", "handled_by"]
    list_select_related = ["customer", "handled_by"]
    list_filter = ["channel", "direction", "outcome"]
    search_fields = ["subject", "summary", "customer__name"]
    autocomplete_fields = ["customer", "handled_by"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(Relationship)
class RelationshipAdmin(SimpleHistoryAdmin, admin.ModelAdmin):
    list_display = ["from_customer", "kind", "to_customer", "strength", "created_at"]
    list_select_related = ["from_customer", "to_customer"]
    list_filter = ["kind", "strength"]
    search_fields = ["from_customer__name", "to_customer__name"]
    autocomplete_fields = ["from_customer", "to_customer"]
    show_full_result_count = False


@admin.register(Segment)
class SegmentAdmin(SimpleHistoryAdmin, admin.ModelAdmin):
    list_display = ["name", "owner", "team", "updated_at"]
    list_select_related = ["owner", "team"]
    list_filter = ["team"]
    search_fields = ["name", "description"]
    autocomplete_fields = ["owner", "team"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "original_name",
        "owner",
        "status",
        "processed_rows",
        "total_rows",
        "created_count",
        "updated_count",
        "merged_count",
        "rejected_count",
        "created_at",
    ]
    list_select_related = ["owner"]
    list_filter = ["status"]
    search_fields = ["original_name", "owner__username"]
    readonly_fields = [field.name for field in ImportJob._meta.fields]


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Read-only: jobs are started by their requesters. The file is not linked, since only its
    requester may download it."""

    list_display = ["__str__", "requested_by", "status", "progress", "rows_total", "created_at"]
    list_select_related = ["requested_by"]
    list_filter = ["status", "file_format"]
    search_fields = ["requested_by__username"]
    fields = readonly_fields = [
        *(field.name for field in ExportJob._meta.fields if field.name != "file"),
        "file_name",
    ]

    @admin.display(description=_("file"))
    def file_name(self, job: ExportJob) -> str:
        return job.file.name

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CustomerMerge)
class CustomerMergeAdmin(admin.ModelAdmin):
    list_display = ["merged_customer_id", "kept", "merged_by", "created_at"]
    list_select_related = ["kept", "merged_by"]
    search_fields = ["merged_customer_id", "kept__name"]
    readonly_fields = [field.name for field in CustomerMerge._meta.fields]


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(admin.ModelAdmin):
    list_display = ["kind", "customer_reference", "customer", "requested_by", "created_at"]
    list_select_related = ["customer", "requested_by"]
    list_filter = ["kind"]
    search_fields = ["customer_reference", "customer__name"]
    readonly_fields = [field.name for field in PrivacyRequest._meta.fields]
