"""A rule's actions: add one (choose its type, then its settings), edit its settings, move it
earlier or later in the order they run, remove it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from automation.actions.catalogue import action_types_for
from automation.forms.actions import ACTION_FORMS, ActionTypeForm
from automation.models import Rule
from automation.placeholders import placeholder_labels
from automation.record_types import record_kind
from automation.services import rules as services
from automation.views.access import action_or_404, errors_as_messages, rule_or_404
from crm.pages import form_errors_from_service, is_htmx


def _params_form(request: HttpRequest, *, rule: Rule, action_type: str, initial: dict):
    form_class = ACTION_FORMS.get(action_type)
    if form_class is None:
        return None
    if request.method == "GET" and request.GET.get("field"):
        # The field of "update a field" was changed: offer that field's values.
        initial = {**initial, "field": request.GET["field"]}
    return form_class(
        request.POST if request.method == "POST" else None,
        initial=initial,
        kind=record_kind(rule.record_type),
        user=request.user,
    )


def _render(request: HttpRequest, context: dict) -> HttpResponse:
    rule = context["rule"]
    context["placeholders"] = placeholder_labels(record_kind(rule.record_type))
    if is_htmx(request) and request.method == "GET":
        return render(request, "automation/_action_params.html", context)
    return render(request, "automation/action_form.html", context)


@login_required
@permission_required("automation.change_rule", raise_exception=True)
def action_add(request: HttpRequest, pk: int) -> HttpResponse:
    rule = rule_or_404(request, pk)
    kind = record_kind(rule.record_type)
    source = request.POST if request.method == "POST" else request.GET
    action_type = source.get("type", "")
    type_form = ActionTypeForm(
        source if "type" in source else None,
        action_types=action_types_for(kind),
        auto_id="action-%s",
    )
    form = _params_form(request, rule=rule, action_type=action_type, initial={})
    if request.method == "POST" and type_form.is_valid() and form is not None and form.is_valid():
        try:
            services.rule_action_add(
                actor=request.user, rule=rule, action_type=action_type, params=form.params()
            )
        except ValidationError as exc:
            form_errors_from_service(form, exc)
            if "action_type" in getattr(exc, "error_dict", {}):
                type_form.add_error("type", exc.error_dict["action_type"])
        else:
            messages.success(request, _("Action added."))
            return redirect("automation:rule_detail", pk=rule.pk)
    return _render(
        request,
        {"rule": rule, "type_form": type_form, "form": form, "action_type": action_type},
    )


@login_required
@permission_required("automation.change_rule", raise_exception=True)
def action_edit(request: HttpRequest, pk: int) -> HttpResponse:
    action = action_or_404(request, pk)
    rule = action.rule
    form = _params_form(request, rule=rule, action_type=action.action_type, initial=action.params)
    if form is None:
        messages.error(request, _("This action no longer exists; remove it."))
        return redirect("automation:rule_detail", pk=rule.pk)
    if request.method == "POST" and form.is_valid():
        try:
            services.rule_action_update(actor=request.user, action=action, params=form.params())
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("Action saved."))
            return redirect("automation:rule_detail", pk=rule.pk)
    return _render(
        request,
        {"rule": rule, "action": action, "form": form, "action_type": action.action_type},
    )


@login_required
@permission_required("automation.change_rule", raise_exception=True)
@require_POST
def action_delete(request: HttpRequest, pk: int) -> HttpResponse:
    action = action_or_404(request, pk)
    try:
        services.rule_action_delete(actor=request.user, action=action)
    except ValidationError as exc:
        errors_as_messages(request, exc)
    else:
        messages.success(request, _("Action removed."))
    return redirect("automation:rule_detail", pk=action.rule_id)


@login_required
@permission_required("automation.change_rule", raise_exception=True)
@require_POST
def action_move(request: HttpRequest, pk: int) -> HttpResponse:
    action = action_or_404(request, pk)
    offset = -1 if request.POST.get("direction") == "up" else 1
    services.rule_action_move(actor=request.user, action=action, offset=offset)
    return redirect("automation:rule_detail", pk=action.rule_id)


urlpatterns = [
    path("rules/<int:pk>/actions/new/", action_add, name="action_add"),
    path("actions/<int:pk>/edit/", action_edit, name="action_edit"),
    path("actions/<int:pk>/delete/", action_delete, name="action_delete"),
    path("actions/<int:pk>/move/", action_move, name="action_move"),
]
