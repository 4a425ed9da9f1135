from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from crm.concurrency import StaleRecordError
from sales.models import (
    Assignment,
    AssignmentRule,
    Campaign,
    CampaignMember,
    Deal,
    DealLine,
    DealStageChange,
    Pipeline,
    SalesTarget,
    Stage,
    WebForm,
    WebFormSubmission,
)
from sales.services.deals import DEAL_EDITABLE_FIELDS, deal_create, deal_delete, deal_update


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows the services write as a record of what happened; the admin only shows them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0
    fields = ["name", "position", "kind", "probability", "stale_after_days"]


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default", "is_active", "position", "updated_at"]
    list_filter = ["is_active", "is_default"]
    search_fields = ["name", "description"]
    inlines = [StageInline]


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["name", "pipeline", "position", "kind", "probability", "stale_after_days"]
    list_select_related = ["pipeline"]
    list_filter = ["pipeline", "kind"]
    search_fields = ["name", "pipeline__name"]


class CampaignMemberInline(admin.TabularInline):
    model = CampaignMember
    extra = 0
    fields = ["customer", "response", "responded_at"]
    raw_id_fields = ["customer"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "type",
        "status",
        "start_date",
        "end_date",
        "budget",
        "actual_cost",
        "currency",
        "owner",
        "team",
    ]
    list_select_related = ["owner", "team"]
    list_filter = ["type", "status", "team"]
    search_fields = ["name", "description"]
    autocomplete_fields = ["segment", "owner", "team"]
    date_hierarchy = "start_date"
    inlines = [CampaignMemberInline]


@admin.register(CampaignMember)
class CampaignMemberAdmin(admin.ModelAdmin):
    list_display = ["campaign", "customer", "response", "responded_at", "created_at"]
    list_select_related = ["campaign", "customer"]
    list_filter = ["response"]
    search_fields = ["campaign__name", "customer__name", "customer__email"]
    autocomplete_fields = ["campaign"]
    raw_id_fields = ["customer"]
    show_full_result_count = False


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "is_active",
        "position",
        "applies_to",
        "match",
        "strategy",
        "team",
        "owner",
        "fallback_owner",
    ]
    list_select_related = ["team", "owner", "fallback_owner"]
    list_filter = ["is_active", "applies_to", "match", "strategy"]
    search_fields = ["name", "match_values"]
    autocomplete_fields = ["team", "owner", "fallback_owner"]
    readonly_fields = ["last_assigned"]


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["assigned_at", "content_type", "object_id", "rule", "assigned_to"]
    list_select_related = ["content_type", "rule", "assigned_to"]
    list_filter = ["content_type", "rule"]
    search_fields = ["object_id", "rule__name", "assigned_to__username"]
    show_full_result_count = False


class DealLineInline(admin.TabularInline):
    model = DealLine
    extra = 0
    fields = ["product", "quantity", "unit_price", "discount_percent", "total"]
    readonly_fields = ["total"]
    autocomplete_fields = ["product"]

    @admin.display(description=_("line total"))
    def total(self, line: DealLine):
        # The blank row of a new line has no price yet.
        return line.line_total if line.unit_price is not None else None


class DealStageChangeInline(admin.TabularInline):
    model = DealStageChange
    extra = 0
    fields = ["changed_at", "from_stage", "to_stage", "changed_by", "seconds_in_from_stage"]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("from_stage__pipeline", "to_stage__pipeline", "changed_by")
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _error_text(exc: ValidationError) -> str:
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    return "; ".join(
        " ".join(messages) if field == NON_FIELD_ERRORS else f"{field}: {' '.join(messages)}"
        for field, messages in exc.message_dict.items()
    )


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    """Saves go through deal_create / deal_update, so an admin edit is checked and recorded as
    every other change is: a stage change gets its history row and sets or clears closed_at, a
    lost deal needs a reason, a won deal makes its lead a customer, line items set the amount and
    the version moves on (so an API client or a board still holding the old one gets a conflict
    instead of overwriting the admin's change). That was preferred to a read-only stage with a
    "move to stage" action because it covers every field, not only the stage.

    The admin saves from the version the deal has when the form is posted. A change the service
    refuses is reported at the top of the page and nothing is written."""

    list_display = [
        "name",
        "customer",
        "stage",
        "amount",
        "currency",
        "owner",
        "team",
        "expected_close_date",
        "closed_at",
    ]
    list_select_related = ["customer", "stage__pipeline", "owner", "team"]
    list_filter = ["pipeline", "stage__kind", "forecast_category", "team", "currency"]
    search_fields = ["name", "customer__name", "next_step"]
    autocomplete_fields = ["customer", "company", "owner", "team", "campaign"]
    readonly_fields = [
        "version",
        "stage_entered_at",
        "closed_at",
        "stale_notified_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "customer", "company", "owner", "team"]}),
        (
            _("Stage"),
            {"fields": ["pipeline", "stage", "lost_reason", "lost_note", "forecast_category"]},
        ),
        (
            _("Money"),
            {"fields": ["amount", "currency", "expected_close_date", "source", "campaign"]},
        ),
        (_("More"), {"fields": ["next_step", "description"]}),
        (_("Record"), {"fields": readonly_fields}),
    ]
    inlines = [DealLineInline, DealStageChangeInline]
    show_full_result_count = False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "stage":
            kwargs["queryset"] = Stage.objects.select_related("pipeline")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The service runs after the form validated, inside the admin's transaction; its
        # refusal rolls the whole save back and is shown instead of a server error.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
        except StaleRecordError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        # Saved in save_related, which also has the line items, so one admin save is one
        # service call (one version, one history row).
        pass

    def save_related(self, request, form, formsets, change):
        deal = form.instance
        lines = self._lines(formsets)
        for formset in formsets:
            # The service wrote the lines; the change message reads what the formsets saved.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if change:
            values = {
                name: form.cleaned_data[name]
                for name in form.changed_data
                if name in DEAL_EDITABLE_FIELDS
            }
            if not values and lines is None:
                return
            saved = deal_update(
                actor=request.user, deal=deal, version=deal.version, lines=lines, **values
            )
        else:
            # Left empty, the service's defaults apply (owner by the assignment rules, company
            # from the customer, the owner's team).
            values = {
                name: value
                for name, value in form.cleaned_data.items()
                if name in DEAL_EDITABLE_FIELDS and value not in (None, "")
            }
            saved = deal_create(actor=request.user, lines=lines or None, **values)
        deal.pk = saved.pk
        deal._state.adding = False
        deal.refresh_from_db()

    @staticmethod
    def _lines(formsets) -> list[dict] | None:
        """The line items as the inline now has them, or None when they were not touched."""
        for formset in formsets:
            if formset.model is not DealLine:
                continue
            if not formset.has_changed():
                return None
            return [
                {
                    "product": line.cleaned_data["product"],
                    "quantity": line.cleaned_data["quantity"],
                    "unit_price": line.cleaned_data["unit_price"],
                    "discount_percent": line.cleaned_data["discount_percent"],
                }
                for line in formset.forms
                if line.cleaned_data and not line.cleaned_data.get("DELETE")
            ]
        return None

    def delete_model(self, request, obj):
        deal_delete(actor=request.user, deal=obj)

    def delete_queryset(self, request, queryset):
        for deal in queryset:
            deal_delete(actor=request.user, deal=deal)


@admin.register(DealLine)
class DealLineAdmin(ReadOnlyAdmin):
    """Listed for search; lines are edited on their deal, whose amount they set."""

    list_display = ["deal", "product", "quantity", "unit_price", "discount_percent", "line_total"]
    list_select_related = ["deal", "product"]
    search_fields = ["deal__name", "product__name", "product__sku"]
    show_full_result_count = False


@admin.register(DealStageChange)
class DealStageChangeAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "deal", "from_stage", "to_stage", "changed_by"]
    list_select_related = ["deal", "from_stage__pipeline", "to_stage__pipeline", "changed_by"]
    list_filter = ["to_stage__pipeline", "to_stage__kind"]
    search_fields = ["deal__name", "changed_by__username"]
    date_hierarchy = "changed_at"
    show_full_result_count = False


@admin.register(SalesTarget)
class SalesTargetAdmin(admin.ModelAdmin):
    list_display = ["period_start", "period", "owner", "team", "amount", "currency"]
    list_select_related = ["owner", "team"]
    list_filter = ["period", "team", "currency"]
    search_fields = ["owner__username", "owner__display_name", "team__name"]
    autocomplete_fields = ["owner", "team"]
    date_hierarchy = "period_start"


@admin.register(WebForm)
class WebFormAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_active", "source", "campaign", "owner", "team"]
    list_select_related = ["campaign", "owner", "team"]
    list_filter = ["is_active", "source", "team"]
    search_fields = ["name", "slug", "title"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["campaign", "owner", "team"]


@admin.register(WebFormSubmission)
class WebFormSubmissionAdmin(admin.ModelAdmin):
    """What a visitor sent is kept as sent; a submission may be deleted (it holds personal data),
    not edited."""

    list_display = ["submitted_at", "form", "customer", "created_lead", "ip_address"]
    list_select_related = ["form", "customer"]
    list_filter = ["form", "created_lead"]
    search_fields = ["form__name", "customer__name", "customer__email"]
    raw_id_fields = ["customer"]
    date_hierarchy = "submitted_at"
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
