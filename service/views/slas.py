"""SLA setup pages for managers: the policies (as a tier × priority matrix and a list), and the
business calendars their clocks run on, with holidays."""

from django.conf import settings
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
from service.forms_sla import WEEKDAY_CHOICES, CalendarForm, HolidayForm, SlaPolicyForm
from service.models import BusinessCalendar, Holiday, SlaPolicy
from service.selectors import sla_policies as selectors
from service.services import sla_policies as services

PAGE_SIZE = 50


def _policy_or_404(pk: int) -> SlaPolicy:
    try:
        return selectors.sla_policy_get(pk=pk)
    except SlaPolicy.DoesNotExist as exc:
        raise Http404(_("No such SLA policy.")) from exc


def _calendar_or_404(pk: int) -> BusinessCalendar:
    try:
        return selectors.calendar_get(pk=pk)
    except BusinessCalendar.DoesNotExist as exc:
        raise Http404(_("No such calendar.")) from exc


def _holiday_or_404(pk: int) -> Holiday:
    try:
        return selectors.holiday_get(pk=pk)
    except Holiday.DoesNotExist as exc:
        raise Http404(_("No such holiday.")) from exc


# Policies ----------------------------------------------------------------------------------------


def business_duration(minutes: int) -> str:
    """Targets in business hours and minutes ("26 h 30 min"): days would suggest calendar days,
    and a calendar's working day is shorter."""
    hours, mins = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(_("%(count)d h") % {"count": hours})
    if mins or not parts:
        parts.append(_("%(count)d min") % {"count": mins})
    return " ".join(parts)


def _with_durations(policies) -> None:
    for policy in policies:
        if policy is not None:
            policy.first_response_display = business_duration(policy.first_response_minutes)
            policy.resolution_display = business_duration(policy.resolution_minutes)
            policy.warn_display = business_duration(policy.warn_before_minutes)


@login_required
@permission_required("service.change_slapolicy", raise_exception=True)
def sla_policy_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.sla_policy_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    matrix = selectors.sla_policy_matrix()
    _with_durations(page.object_list)
    _with_durations(cell["policy"] for row in matrix["rows"] for cell in row["cells"])
    return render(request, "service/sla_policy_list.html", {"page": page, "matrix": matrix})


def _policy_form_page(request: HttpRequest, *, policy: SlaPolicy | None) -> HttpResponse:
    initial = (
        model_to_dict(policy, fields=list(services.SLA_POLICY_EDITABLE_FIELDS))
        if policy
        else {
            "tier": request.GET.get("tier", ""),
            "priority": request.GET.get("priority", ""),
            "calendar": selectors.calendar_choices().filter(is_default=True).first(),
        }
    )
    form = SlaPolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if policy is None:
                saved = services.sla_policy_create(actor=request.user, **form.cleaned_data)
            else:
                saved = services.sla_policy_update(
                    actor=request.user, policy=policy, **form.cleaned_data
                )
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("SLA policy “%(name)s” saved.") % {"name": saved.name})
            return redirect("service:sla_policy_list")
    return render(request, "service/sla_policy_form.html", {"form": form, "policy": policy})


@login_required
@permission_required("service.add_slapolicy", raise_exception=True)
def sla_policy_create(request: HttpRequest) -> HttpResponse:
    return _policy_form_page(request, policy=None)


@login_required
@permission_required("service.change_slapolicy", raise_exception=True)
def sla_policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _policy_form_page(request, policy=_policy_or_404(pk))


@login_required
@permission_required("service.delete_slapolicy", raise_exception=True)
def sla_policy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    policy = _policy_or_404(pk)
    if request.method == "POST":
        services.sla_policy_delete(actor=request.user, policy=policy)
        messages.success(request, _("SLA policy “%(name)s” deleted.") % {"name": policy.name})
        return redirect("service:sla_policy_list")
    return render(request, "service/sla_policy_confirm_delete.html", {"policy": policy})


# Calendars ---------------------------------------------------------------------------------------


@login_required
@permission_required("service.change_businesscalendar", raise_exception=True)
def calendar_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.calendar_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    names = dict(WEEKDAY_CHOICES)
    for calendar in page.object_list:
        calendar.days_display = ", ".join(
            str(names.get(int(day), day)) for day in calendar.working_days
        )
    return render(request, "service/calendar_list.html", {"page": page})


def _calendar_form_page(request: HttpRequest, *, calendar: BusinessCalendar | None) -> HttpResponse:
    initial = (
        model_to_dict(calendar, fields=list(services.CALENDAR_EDITABLE_FIELDS))
        if calendar
        else {"time_zone": settings.TIME_ZONE}
    )
    form = CalendarForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if calendar is None:
                saved = services.calendar_create(actor=request.user, **form.cleaned_data)
            else:
                saved = services.calendar_update(
                    actor=request.user, calendar=calendar, **form.cleaned_data
                )
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("Calendar “%(name)s” saved.") % {"name": saved.name})
            return redirect("service:calendar_edit", pk=saved.pk)
    context = {"form": form, "calendar": calendar}
    if calendar is not None:
        holidays = Paginator(selectors.holiday_list(calendar=calendar), PAGE_SIZE)
        context["holidays"] = holidays.get_page(request.GET.get("page"))
        context["holiday_form"] = HolidayForm(prefix="holiday")
    return render(request, "service/calendar_form.html", context)


@login_required
@permission_required("service.add_businesscalendar", raise_exception=True)
def calendar_create(request: HttpRequest) -> HttpResponse:
    return _calendar_form_page(request, calendar=None)


@login_required
@permission_required("service.change_businesscalendar", raise_exception=True)
def calendar_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _calendar_form_page(request, calendar=_calendar_or_404(pk))


@login_required
@permission_required("service.delete_businesscalendar", raise_exception=True)
def calendar_delete(request: HttpRequest, pk: int) -> HttpResponse:
    calendar = _calendar_or_404(pk)
    if request.method == "POST":
        try:
            services.calendar_delete(actor=request.user, calendar=calendar)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("service:calendar_edit", pk=calendar.pk)
        messages.success(request, _("Calendar “%(name)s” deleted.") % {"name": calendar.name})
        return redirect("service:calendar_list")
    return render(request, "service/calendar_confirm_delete.html", {"calendar": calendar})


@login_required
@permission_required("service.add_holiday", raise_exception=True)
@require_POST
def holiday_add(request: HttpRequest, pk: int) -> HttpResponse:
    calendar = _calendar_or_404(pk)
    form = HolidayForm(request.POST, prefix="holiday")
    if form.is_valid():
        try:
            holiday = services.holiday_add(
                actor=request.user, calendar=calendar, **form.cleaned_data
            )
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("Holiday %(date)s added.") % {"date": holiday.date})
    for errors in form.errors.values():
        for message in errors:
            messages.error(request, message)
    return redirect("service:calendar_edit", pk=calendar.pk)


@login_required
@permission_required("service.delete_holiday", raise_exception=True)
@require_POST
def holiday_remove(request: HttpRequest, pk: int) -> HttpResponse:
    holiday = _holiday_or_404(pk)
    services.holiday_remove(actor=request.user, holiday=holiday)
    messages.success(request, _("Holiday %(date)s removed.") % {"date": holiday.date})
    return redirect("service:calendar_edit", pk=holiday.calendar_id)


urlpatterns = [
    path("slas/", sla_policy_list, name="sla_policy_list"),
    path("slas/new/", sla_policy_create, name="sla_policy_create"),
    path("slas/<int:pk>/edit/", sla_policy_edit, name="sla_policy_edit"),
    path("slas/<int:pk>/delete/", sla_policy_delete, name="sla_policy_delete"),
    path("slas/calendars/", calendar_list, name="calendar_list"),
    path("slas/calendars/new/", calendar_create, name="calendar_create"),
    path("slas/calendars/<int:pk>/edit/", calendar_edit, name="calendar_edit"),
    path("slas/calendars/<int:pk>/delete/", calendar_delete, name="calendar_delete"),
    path("slas/calendars/<int:pk>/holidays/", holiday_add, name="holiday_add"),
    path("slas/holidays/<int:pk>/delete/", holiday_remove, name="holiday_remove"),
]
