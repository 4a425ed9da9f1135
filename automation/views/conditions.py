"""Adding a condition to a rule in two steps (the field, then the operator and a value suited to
it; htmx swaps the second step in when the field is chosen) and removing one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from automation.conditions import fields_for
from automation.forms.conditions import ConditionFieldForm, ConditionForm
from automation.record_types import record_kind
from automation.services import rules as services
from automation.views.access import condition_or_404, errors_as_messages, rule_or_404
from crm.pages import form_errors_from_service, is_htmx


@login_required
@permission_required("automation.change_rule", raise_exception=True)
def condition_add(request: HttpRequest, pk: int) -> HttpResponse:
    rule = rule_or_404(request, pk)
    kind = record_kind(rule.record_type)
    rule_fields = fields_for(kind=kind, user=request.user)
    source = request.POST if request.method == "POST" else request.GET
    field_form = ConditionFieldForm(
        source if "field" in source else None, rule_fields=rule_fields, auto_id="condition-%s"
    )
    rule_field = next((item for item in rule_fields if item.key == source.get("field")), None)
    form = (
        ConditionForm(request.POST or None, rule_field=rule_field)
        if rule_field is not None
        else None
    )
    if request.method == "POST" and field_form.is_valid() and form is not None and form.is_valid():
        try:
            services.rule_condition_add(
                actor=request.user,
                rule=rule,
                field=rule_field.key,
                operator=form.cleaned_data["operator"],
                value=form.value(),
            )
        except ValidationError as exc:
            form_errors_from_service(form, exc, field_names=form.service_field_names())
            if "field" in getattr(exc, "error_dict", {}):
                field_form.add_error("field", exc.error_dict["field"])
        else:
            messages.success(request, _("Condition added."))
            return redirect("automation:rule_detail", pk=rule.pk)
    context = {
        "rule": rule,
        "kind": kind,
        "field_form": field_form,
        "form": form,
        "rule_field": rule_field,
    }
    if is_htmx(request) and request.method == "GET":
        return render(request, "automation/_condition_step2.html", context)
    return render(request, "automation/condition_form.html", context)


@login_required
@permission_required("automation.change_rule", raise_exception=True)
@require_POST
def condition_delete(request: HttpRequest, pk: int) -> HttpResponse:
    condition = condition_or_404(request, pk)
    try:
        services.rule_condition_delete(actor=request.user, condition=condition)
    except ValidationError as exc:
        errors_as_messages(request, exc)
    else:
        messages.success(request, _("Condition removed."))
    return redirect("automation:rule_detail", pk=condition.rule_id)


urlpatterns = [
    path("rules/<int:pk>/conditions/new/", condition_add, name="condition_add"),
    path("conditions/<int:pk>/delete/", condition_delete, name="condition_delete"),
]
