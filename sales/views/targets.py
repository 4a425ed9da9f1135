"""Pages for sales targets (quotas): the targets of a period with their attainment, and the forms
managers and admins use to add, change and remove them. Reps see the targets but not the forms.

Attainment = the won deals (stage kind won) closed within the target's period, owned by the rep
or belonging to the team, over the target amount; see sales.selectors.forecasts.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from sales.forms_targets import PeriodForm, TargetForm
from sales.models import SalesTarget
from sales.selectors.forecasts import (
    Period,
    percent_of,
    target_get_visible,
    target_list_visible,
    targets_can_manage,
)
from sales.services import targets as services

TARGETS_PER_PAGE = 50


def _target_or_404(request: HttpRequest, pk: int) -> SalesTarget:
    try:
        return target_get_visible(user=request.user, pk=pk)
    except SalesTarget.DoesNotExist as exc:
        raise Http404(_("No such target.")) from exc


def _require_manager(request: HttpRequest) -> None:
    if not targets_can_manage(user=request.user):
        raise PermissionDenied(_("Only managers and admins set targets."))


def _list_url(period: Period) -> str:
    return f"{reverse('sales:target_list')}?period={period.key}"


@login_required
@permission_required("sales.view_salestarget", raise_exception=True)
def target_list(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET or None)
    period = form.chosen_period()
    page = Paginator(target_list_visible(user=request.user, period=period), TARGETS_PER_PAGE)
    page = page.get_page(request.GET.get("page"))
    for target in page.object_list:
        target.attainment_percent = percent_of(target.attained, target.amount)
        target.bar_value = min(target.attainment_percent or 0, 100)
    return render(
        request,
        "sales/target_list.html",
        {
            "form": form,
            "period": period,
            "page": page,
            "can_manage": targets_can_manage(user=request.user),
        },
    )


@login_required
@permission_required("sales.add_salestarget", raise_exception=True)
def target_create(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    if request.method == "POST":
        form = TargetForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                target = services.target_create(actor=request.user, **form.service_values())
            except ValidationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, _("Target added."))
                return redirect(_list_url(Period(kind=target.period, start=target.period_start)))
    else:
        period = PeriodForm(request.GET or None).chosen_period()
        form = TargetForm(user=request.user, initial={"period": period})
    return render(request, "sales/target_form.html", {"form": form, "target": None})


@login_required
@permission_required("sales.change_salestarget", raise_exception=True)
def target_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    target = _target_or_404(request, pk)
    if request.method == "POST":
        form = TargetForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                target = services.target_update(
                    actor=request.user, target=target, **form.service_values()
                )
            except ValidationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, _("Target saved."))
                return redirect(_list_url(Period(kind=target.period, start=target.period_start)))
    else:
        form = TargetForm(user=request.user, initial=TargetForm.initial_for(target))
    return render(request, "sales/target_form.html", {"form": form, "target": target})


@login_required
@permission_required("sales.delete_salestarget", raise_exception=True)
def target_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    target = _target_or_404(request, pk)
    period = Period(kind=target.period, start=target.period_start)
    if request.method == "POST":
        services.target_delete(actor=request.user, target=target)
        messages.success(request, _("Target removed."))
        return redirect(_list_url(period))
    return render(request, "sales/target_confirm_delete.html", {"target": target, "period": period})


urlpatterns = [
    path("targets/", target_list, name="target_list"),
    path("targets/new/", target_create, name="target_create"),
    path("targets/<int:pk>/edit/", target_edit, name="target_edit"),
    path("targets/<int:pk>/delete/", target_delete, name="target_delete"),
]
