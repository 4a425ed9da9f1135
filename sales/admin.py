from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from crm.admin_services import ReadOnlyAdmin, ServiceAdmin, changed_values, given_values
from sales.models import (
    Assignment,
    AssignmentRule,
    Campaign,
    CampaignMailing,
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
from sales.services import pipelines as pipeline_services
from sales.services.deals import DEAL_EDITABLE_FIELDS, deal_create, deal_delete, deal_update


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0
    fields = ["name", "position", "kind", "probability", "stale_after_days"]


@admin.register(Pipeline)
class PipelineAdmin(SimpleHistoryAdmin, ServiceAdmin):
    """Saved with its stages through the pipeline services, so the admin keeps the same rules as
    the pipeline pages and the API (probabilities, an open stage, one default, no deleting what
    deals use)."""

    list_display = ["name", "is_default", "is_active", "position", "updated_at"]
    list_filter = ["is_active", "is_default"]
    search_fields = ["name", "description"]
    inlines = [StageInline]

    def service_save(self, request, form, formsets, change):
        stages, deleted = self._stages(formsets)
        if not change:
            return pipeline_services.pipeline_create(
                actor=request.user,
                stages=stages,
                **{
                    name: form.cleaned_data[name]
                    for name in pipeline_services.PIPELINE_EDITABLE_FIELDS
                },
            )
        values = changed_values(form, pipeline_services.PIPELINE_EDITABLE_FIELDS)
        if not values and stages is None:
            return None
        return pipeline_services.pipeline_update(
            actor=request.user, pipeline=form.instance, stages=stages, deleted=deleted, **values
        )

    @staticmethod
    def _stages(formsets) -> tuple[list[dict] | None, list[Stage]]:
        """The stage rows as the inline now has them (None when it was not touched), and the
        stages ticked for deletion."""
        for formset in formsets:
            if formset.model is not Stage or not formset.has_changed():
                continue
            rows, deleted = [], []
            for stage_form in formset.forms:
                if not stage_form.cleaned_data:
                    continue
                if stage_form.cleaned_data.get("DELETE"):
                    if stage_form.instance.pk:
                        deleted.append(stage_form.instance)
                    continue
                row = {name: stage_form.cleaned_data[name] for name in StageInline.fields}
                if stage_form.instance.pk:
                    row["id"] = stage_form.instance.pk
                rows.append(row)
            return rows, deleted
        return None, []

    def service_delete(self, request, obj):
        pipeline_services.pipeline_delete(actor=request.user, pipeline=obj)


@admin.register(Stage)
class StageAdmin(ServiceAdmin):
    list_display = ["name", "pipeline", "position", "kind", "probability", "stale_after_days"]
    list_select_related = ["pipeline"]
    list_filter = ["pipeline", "kind"]
    search_fields = ["name", "pipeline__name"]

    def get_readonly_fields(self, request, obj=None):
        # A stage stays in its pipeline.
        return ["pipeline"] if obj is not None else []

    def service_save(self, request, form, formsets, change):
        if not change:
            return pipeline_services.stage_create(
                actor=request.user,
                pipeline=form.cleaned_data["pipeline"],
                **{
                    name: form.cleaned_data[name]
                    for name in pipeline_services.STAGE_EDITABLE_FIELDS
                },
            )
        values = changed_values(form, pipeline_services.STAGE_EDITABLE_FIELDS)
        if not values:
            return None
        return pipeline_services.stage_update(actor=request.user, stage=form.instance, **values)

    def service_delete(self, request, obj):
        pipeline_services.stage_delete(actor=request.user, stage=obj)


class CampaignMemberInline(admin.TabularInline):
    model = CampaignMember
    extra = 0
    fields = ["customer", "response", "responded_at"]
    raw_id_fields = ["customer"]


@admin.register(Campaign)
class CampaignAdmin(SimpleHistoryAdmin, admin.ModelAdmin):
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
class AssignmentRuleAdmin(SimpleHistoryAdmin, admin.ModelAdmin):
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


@admin.register(CampaignMailing)
class CampaignMailingAdmin(ReadOnlyAdmin):
    """Started, batched and counted by the campaign mail services; the admin only shows them."""

    list_display = [
        "campaign",
        "template_name",
        "status",
        "total",
        "sent_count",
        "skipped_count",
        "failed_count",
        "started_by",
        "started_at",
        "finished_at",
    ]
    list_select_related = ["campaign", "started_by"]
    list_filter = ["status", "tracking"]
    search_fields = ["campaign__name", "template_name"]
    show_full_result_count = False


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


@admin.register(Deal)
class DealAdmin(SimpleHistoryAdmin, ServiceAdmin):
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

    def service_save(self, request, form, formsets, change):
        lines = self._lines(formsets)
        if change:
            values = changed_values(form, DEAL_EDITABLE_FIELDS)
            if not values and lines is None:
                return None
            deal = form.instance
            return deal_update(
                actor=request.user, deal=deal, version=deal.version, lines=lines, **values
            )
        # Left empty, the service's defaults apply (owner by the assignment rules, company from
        # the customer, the owner's team).
        values = given_values(form, DEAL_EDITABLE_FIELDS)
        return deal_create(actor=request.user, lines=lines or None, **values)

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

    def service_delete(self, request, obj):
        deal_delete(actor=request.user, deal=obj)


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
class SalesTargetAdmin(SimpleHistoryAdmin, admin.ModelAdmin):
    list_display = ["period_start", "period", "owner", "team", "amount", "currency"]
    list_select_related = ["owner", "team"]
    list_filter = ["period", "team", "currency"]
    search_fields = ["owner__username", "owner__display_name", "team__name"]
    autocomplete_fields = ["owner", "team"]
    date_hierarchy = "period_start"


@admin.register(WebForm)
class WebFormAdmin(SimpleHistoryAdmin, admin.ModelAdmin):
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
