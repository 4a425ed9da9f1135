"""Rule pages: the list, a rule's page (its trigger, conditions, actions, a test on a record and
its latest runs), create and edit, switch on or off, delete."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from automation import selectors
from automation.actions.catalogue import action_types_for
from automation.conditions import fields_for
from automation.forms.actions import ActionTypeForm
from automation.forms.conditions import ConditionFieldForm
from automation.forms.rules import RecordTypeForm, RuleForm
from automation.models import Rule
from automation.naming import names_remembered
from automation.record_types import RECORD_KINDS, RecordKind, record_kind
from automation.services import rules as services
from automation.triggers import trigger_describe
from automation.views.access import errors_as_messages, rule_or_404
from crm.accounts.selectors import user_is_admin
from crm.pages import form_errors_from_service, is_htmx

RULES_PER_PAGE = 25
LATEST_RUNS = 20


@login_required
@permission_required("automation.view_rule", raise_exception=True)
def rule_list(request: HttpRequest) -> HttpResponse:
    rules = selectors.rule_list_with_counts(user=request.user)
    page = Paginator(rules, RULES_PER_PAGE).get_page(request.GET.get("page"))
    with names_remembered():
        selectors.rules_names_preload(page)
        for rule in page:
            rule.kind = record_kind(rule.record_type)
            rule.trigger_sentence = trigger_describe(rule, rule.kind)
    return render(
        request,
        "automation/rule_list.html",
        {"page": page, "user_is_admin": user_is_admin(request.user)},
    )


def _rule_form_page(request: HttpRequest, *, kind: RecordKind, rule: Rule | None) -> HttpResponse:
    form = RuleForm(request.POST or None, kind=kind, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            if rule is None:
                saved = services.rule_create(
                    actor=request.user, record_type=kind.key, **form.rule_values()
                )
            else:
                saved = services.rule_update(actor=request.user, rule=rule, **form.rule_values())
        except ValidationError as exc:
            form_errors_from_service(form, exc, field_names=form.service_field_names())
        else:
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
            return redirect("automation:rule_detail", pk=saved.pk)
    return render(request, "automation/rule_form.html", {"form": form, "rule": rule, "kind": kind})


@login_required
@permission_required("automation.add_rule", raise_exception=True)
def rule_create(request: HttpRequest) -> HttpResponse:
    record_type = request.POST.get("record_type") or request.GET.get("record_type")
    if record_type not in RECORD_KINDS:
        chooser = RecordTypeForm(request.GET if "record_type" in request.GET else None)
        return render(request, "automation/rule_record_type.html", {"form": chooser})
    return _rule_form_page(request, kind=record_kind(record_type), rule=None)


@login_required
@permission_required("automation.change_rule", raise_exception=True)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = rule_or_404(request, pk)
    return _rule_form_page(request, kind=record_kind(rule.record_type), rule=rule)


@login_required
@permission_required("automation.view_rule", raise_exception=True)
def rule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rule = rule_or_404(request, pk)
    kind = record_kind(rule.record_type)
    summary = selectors.rule_summary(rule)
    return render(
        request,
        "automation/rule_detail.html",
        {
            "rule": rule,
            "kind": kind,
            "trigger_sentence": summary.trigger,
            "conditions": summary.conditions,
            "actions": summary.actions,
            "condition_field_form": ConditionFieldForm(
                rule_fields=fields_for(kind=kind, user=request.user), auto_id="condition-%s"
            ),
            "action_type_form": ActionTypeForm(
                action_types=action_types_for(kind), auto_id="action-%s"
            ),
            "runs": list(selectors.rule_runs_visible(user=request.user, rule=rule)[:LATEST_RUNS]),
        },
    )


@login_required
@permission_required("automation.test_rule", raise_exception=True)
def rule_test(request: HttpRequest, pk: int) -> HttpResponse:
    """What the rule would do to one record now, without doing it."""
    rule = rule_or_404(request, pk)
    record_id = request.GET.get("record", "").strip()
    record = selectors.rule_record_get(rule=rule, user=request.user, pk=record_id)
    context = {
        "rule": rule,
        "kind": record_kind(rule.record_type),
        "record_id": record_id,
        "record": record,
        "result": selectors.rule_test(rule=rule, record=record) if record is not None else None,
    }
    template = "automation/_rule_test.html" if is_htmx(request) else "automation/rule_test.html"
    return render(request, template, context)


@login_required
@permission_required("automation.change_rule", raise_exception=True)
@require_POST
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    rule = rule_or_404(request, pk)
    enabled = request.POST.get("enabled") == "1"
    try:
        services.rule_set_enabled(actor=request.user, rule=rule, enabled=enabled)
    except ValidationError as exc:
        errors_as_messages(request, exc)
    else:
        message = _("Rule “%(name)s” is on.") if enabled else _("Rule “%(name)s” is off.")
        messages.success(request, message % {"name": rule.name})
    if request.POST.get("next") == "list":
        return redirect("automation:rule_list")
    return redirect("automation:rule_detail", pk=rule.pk)


@login_required
@permission_required("automation.delete_rule", raise_exception=True)
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = rule_or_404(request, pk)
    if request.method == "POST":
        services.rule_delete(actor=request.user, rule=rule)
        messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
        return redirect("automation:rule_list")
    return render(request, "automation/rule_confirm_delete.html", {"rule": rule})


urlpatterns = [
    path("", rule_list, name="rule_list"),
    path("rules/new/", rule_create, name="rule_create"),
    path("rules/<int:pk>/", rule_detail, name="rule_detail"),
    path("rules/<int:pk>/edit/", rule_edit, name="rule_edit"),
    path("rules/<int:pk>/test/", rule_test, name="rule_test"),
    path("rules/<int:pk>/toggle/", rule_toggle, name="rule_toggle"),
    path("rules/<int:pk>/delete/", rule_delete, name="rule_delete"),
]
