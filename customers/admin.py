from django.contrib import admin
from django.db import models

from customers.models import (
    Company,
    Customer,
    CustomerMerge,
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


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "industry", "size", "city", "country", "owner", "team"]
    list_select_related = ["owner", "team"]
    list_filter = ["size", "country", "team", "industry"]
    search_fields = ["name", "website", "city"]
    autocomplete_fields = ["owner", "team"]
    show_full_result_count = False
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "phone", "company", "status", "tier", "city", "owner", "team"]
    list_select_related = ["company", "owner", "team"]
    list_filter = ["status", "tier", "source", "gender", "team", "marketing_consent"]
    search_fields = ["name", "email", "phone", "external_id", "company__name"]
    autocomplete_fields = ["company", "owner", "team", "tags"]
    readonly_fields = ["created_at", "updated_at"]
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


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "unit_price", "currency", "is_active"]
    list_filter = ["is_active", "category", "currency"]
    search_fields = ["sku", "name", "category"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    autocomplete_fields = ["product"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
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
class NeedAdmin(admin.ModelAdmin):
    list_display = ["text", "customer", "category", "priority", "status", "created_at"]
    list_select_related = ["customer"]
    list_filter = ["status", "priority", "category"]
    search_fields = ["text", "customer__name"]
    autocomplete_fields = ["customer", "created_by"]
    show_full_result_count = False


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "customer", "channel", "direction", "subject", "handled_by"]
    list_select_related = ["customer", "handled_by"]
    list_filter = ["channel", "direction", "outcome"]
    search_fields = ["subject", "summary", "customer__name"]
    autocomplete_fields = ["customer", "handled_by"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(Relationship)
class RelationshipAdmin(admin.ModelAdmin):
    list_display = ["from_customer", "kind", "to_customer", "strength", "created_at"]
    list_select_related = ["from_customer", "to_customer"]
    list_filter = ["kind", "strength"]
    search_fields = ["from_customer__name", "to_customer__name"]
    autocomplete_fields = ["from_customer", "to_customer"]
    show_full_result_count = False


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
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
