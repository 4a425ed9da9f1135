"""Assignment rule pages: the rules in the order they are tried, with how many records each
assigned; create, edit, delete, and move a rule up or down the order."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms.models import model_to_dict
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.pages import form_errors_from_service
from sales.forms_leads import AssignmentRuleForm
from sales.models import AssignmentRule
from sales.selectors import webforms as selectors
from sales.services import assignment as services

PAGE_SIZE = 50


def _rule_or_404(pk: int) -> AssignmentRule:
    try:
        return selectors.assignment_rule_get(pk=pk)
    except AssignmentRule.DoesNotExist as exc:
        raise Http404(_("No such assignment rule.")) from exc


@login_required
@permission_required("sales.view_assignmentrule", raise_exception=True)
def rule_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.assignment_rule_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "sales/rule_list.html", {"page": page})


def _rule_form_page(request: HttpRequest, *, rule: AssignmentRule | None) -> HttpResponse:
    initial = (
        model_to_dict(rule, fields=list(services.ASSIGNMENT_RULE_EDITABLE_FIELDS)) if rule else {}
    )
    form = AssignmentRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if rule is None:
                saved = services.assignment_rule_create(actor=request.user, **form.cleaned_data)
            else:
                saved = services.assignment_rule_update(
                    actor=request.user, rule=rule, **form.cleaned_data
                )
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
            return redirect("sales:rule_list")
    return render(request, "sales/rule_form.html", {"form": form, "rule": rule})


@login_required
@permission_required("sales.add_assignmentrule", raise_exception=True)
def rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_form_page(request, rule=None)


@login_required
@permission_required("sales.change_assignmentrule", raise_exception=True)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _rule_form_page(request, rule=_rule_or_404(pk))


@login_required
@permission_required("sales.delete_assignmentrule", raise_exception=True)
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule_or_404(pk)
    if request.method == "POST":
        services.assignment_rule_delete(actor=request.user, rule=rule)
        messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
        return redirect("sales:rule_list")
    return render(request, "sales/rule_confirm_delete.html", {"rule": rule})


@login_required
@permission_required("sales.change_assignmentrule", raise_exception=True)
@require_POST
def rule_reorder(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule_or_404(pk)
    try:
        services.assignment_rule_move(
            actor=request.user, rule=rule, direction=request.POST.get("direction", "")
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("sales:rule_list")


urlpatterns = [
    path("assignment-rules/", rule_list, name="rule_list"),
    path("assignment-rules/new/", rule_create, name="rule_create"),
    path("assignment-rules/<int:pk>/edit/", rule_edit, name="rule_edit"),
    path("assignment-rules/<int:pk>/delete/", rule_delete, name="rule_delete"),
    path("assignment-rules/<int:pk>/move/", rule_reorder, name="rule_reorder"),
]
