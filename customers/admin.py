from django.contrib import admin
from django.db import models

from customers.models import Company, Customer, Tag


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
