"""Workflow rules in the admin, for administrators. A rule saves with its conditions and actions
through automation.services.rules, so the admin checks them as the rule pages and the API do (a
refusal names the condition or action by its place); runs are a record of what happened, shown
only."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from automation.models import Rule, RuleAction, RuleCondition, RuleRun
from automation.services import rules as services
from crm.admin_services import ReadOnlyAdmin, ServiceAdmin, changed_values


class RuleConditionInline(admin.TabularInline):
    model = RuleCondition
    extra = 0
    fields = ["position", "field", "operator", "value"]


class RuleActionInline(admin.TabularInline):
    model = RuleAction
    extra = 0
    fields = ["position", "action_type", "params"]


def _inline_rows(formsets, model, fields) -> list[dict] | None:
    """The inline's rows in position order, as the service takes them; None when the inline was
    not touched, so the rule's stay as they are."""
    for formset in formsets:
        if formset.model is not model or not formset.has_changed():
            continue
        kept = [
            form.cleaned_data
            for form in formset.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        kept.sort(key=lambda data: data.get("position") or 0)
        return [{name: data.get(name) for name in fields} for data in kept]
    return None


@admin.register(Rule)
class RuleAdmin(SimpleHistoryAdmin, ServiceAdmin):
    list_display = [
        "name",
        "record_type",
        "trigger",
        "is_enabled",
        "owner",
        "next_run_at",
        "last_run_at",
        "updated_at",
    ]
    list_select_related = ["owner"]
    list_filter = ["is_enabled", "record_type", "trigger"]
    search_fields = ["name", "description", "owner__username"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["next_run_at", "last_run_at", "created_at", "updated_at"]
    fields = [
        "name",
        "description",
        "record_type",
        "trigger",
        "trigger_config",
        "match",
        "is_enabled",
        "owner",
        *readonly_fields,
    ]
    inlines = [RuleConditionInline, RuleActionInline]

    def get_readonly_fields(self, request, obj=None):
        # The owner is who the actions are done as: chosen once, when the rule is made.
        return [*self.readonly_fields, "owner"] if obj is not None else self.readonly_fields

    def get_changeform_initial_data(self, request):
        return {"owner": request.user.pk, **super().get_changeform_initial_data(request)}

    def service_save(self, request, form, formsets, change):
        conditions = _inline_rows(formsets, RuleCondition, ("field", "operator", "value"))
        actions = _inline_rows(formsets, RuleAction, ("action_type", "params"))
        if not change:
            values = {name: form.cleaned_data[name] for name in services.RULE_EDITABLE_FIELDS}
            return services.rule_create(
                actor=request.user,
                owner=form.cleaned_data["owner"],
                conditions=conditions,
                actions=actions,
                **values,
            )
        values = changed_values(form, services.RULE_EDITABLE_FIELDS)
        if not values and conditions is None and actions is None:
            return None
        stored = Rule.objects.get(pk=form.instance.pk)
        return services.rule_update(
            actor=request.user, rule=stored, conditions=conditions, actions=actions, **values
        )

    def service_delete(self, request, obj):
        services.rule_delete(actor=request.user, rule=obj)


@admin.register(RuleRun)
class RuleRunAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "rule",
        "record_type",
        "record_label",
        "cause",
        "status",
        "attempts",
        "finished_at",
    ]
    list_select_related = ["rule"]
    list_filter = ["status", "record_type", ("rule", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["rule__name", "record_label", "cause", "error"]
    date_hierarchy = "created_at"
    show_full_result_count = False
