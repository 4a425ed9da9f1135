"""Pages for follow-up tasks and the user's notifications.

The task list opens on the user's own open tasks, with tabs for today, overdue, upcoming, their
teams' and everything they may see. Completing or reopening a task is a POST that htmx sends
from the list (the row comes back) and a plain form sends from anywhere else (the browser goes
back). A customer or deal page links to the new-task form with the record filled in:
`/collaboration/tasks/new/?related_type=sales.deal&related_id=42&next=/sales/deals/42/`.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from collaboration.forms import TaskForm
from collaboration.models import Notification, Task
from collaboration.selectors import notifications as notification_selectors
from collaboration.selectors import tasks as selectors
from collaboration.services import tasks as services
from collaboration.services.notifications import notifications_mark_read
from crm.concurrency import StaleRecordError

TASKS_PER_PAGE = 50
NOTIFICATIONS_PER_PAGE = 50
# The list page offers these of TaskFilter's filters; its tabs stand for the others.
PAGE_FILTERS = ("q", "status", "priority", "kind", "due_from", "due_to")


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _next_url(request: HttpRequest) -> str:
    """Where to go after a change: the page that asked, when it is one of ours."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if url and allowed else ""


def _task_url(task: Task) -> str:
    return reverse("collaboration:task_detail", args=[task.pk])


def _task_or_404(request: HttpRequest, pk: int) -> Task:
    try:
        return selectors.task_get_visible(user=request.user, pk=pk)
    except Task.DoesNotExist as exc:
        raise Http404(_("No such task.")) from exc


def _form_errors_from_service(form: TaskForm, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, field_messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, field_messages)


def _related_initial(request: HttpRequest) -> dict:
    """The record a new task is about, when the page that links here names one."""
    label = request.GET.get("related_type", "")
    try:
        related_id = int(request.GET.get("related_id", ""))
    except ValueError:
        return {}
    if selectors.related_content_type(label) is None:
        return {}
    return {"related_type": label.lower(), "related_id": related_id}


def _related_record(request: HttpRequest, form: TaskForm):
    """The record the form's task is about, when the user may see it (for the page's header)."""
    label = form["related_type"].value()
    related_id = form["related_id"].value()
    content_type = selectors.related_content_type(label) if label else None
    if content_type is None:
        return None
    try:
        record_id = int(related_id)
    except (TypeError, ValueError):
        return None
    return selectors.related_record_visible(
        user=request.user, content_type=content_type, record_id=record_id
    )


# Tasks -------------------------------------------------------------------------------------------


@login_required
@permission_required("collaboration.view_task", raise_exception=True)
def task_list(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "mine")
    if tab not in selectors.TASK_TABS:
        tab = "mine"
    tasks = selectors.task_list_tab(user=request.user, tab=tab)
    filterset = selectors.TaskFilter(request.GET, queryset=tasks, request=request)
    page = Paginator(filterset.qs, TASKS_PER_PAGE).get_page(request.GET.get("page"))
    tabs = [(key, selectors.TASK_TAB_LABELS[key]) for key in selectors.TASK_TABS]
    return render(
        request,
        "collaboration/task_list.html",
        {
            "tab": tab,
            "tabs": tabs,
            "filters": [filterset.form[name] for name in PAGE_FILTERS],
            "page": page,
            "tasks": selectors.tasks_with_related(list(page.object_list)),
            "now": timezone.now(),
        },
    )


@login_required
@permission_required("collaboration.add_task", raise_exception=True)
def task_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = TaskForm(request.POST)
        if form.is_valid():
            try:
                task = services.task_create(actor=request.user, **form.service_values())
            except ValidationError as exc:
                _form_errors_from_service(form, exc)
            else:
                messages.success(request, _("Task “%(title)s” added.") % {"title": task.title})
                return redirect(_next_url(request) or _task_url(task))
    else:
        form = TaskForm(initial=_related_initial(request))
    return render(
        request,
        "collaboration/task_form.html",
        {
            "form": form,
            "task": None,
            "related": _related_record(request, form),
            "next": _next_url(request),
        },
    )


@login_required
@permission_required("collaboration.view_task", raise_exception=True)
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(request, pk)
    selectors.tasks_with_related([task])
    return render(request, "collaboration/task_detail.html", {"task": task, "now": timezone.now()})


@login_required
@permission_required("collaboration.change_task", raise_exception=True)
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(request, pk)
    status = 200
    if request.method == "POST":
        form = TaskForm(request.POST, editing=True)
        if form.is_valid():
            try:
                task = services.task_update(
                    actor=request.user,
                    task=task,
                    version=form.cleaned_data["version"],
                    **form.service_values(),
                )
            except ValidationError as exc:
                _form_errors_from_service(form, exc)
            except StaleRecordError as exc:
                form.add_error(None, str(exc))
                status = 409
            else:
                messages.success(request, _("Task “%(title)s” saved.") % {"title": task.title})
                return redirect(_task_url(task))
    else:
        form = TaskForm(initial=TaskForm.initial_for(task), editing=True)
    return render(
        request,
        "collaboration/task_form.html",
        {
            "form": form,
            "task": task,
            "related": _related_record(request, form),
            "stale": status == 409,
        },
        status=status,
    )


def _after_status_change(request: HttpRequest, task: Task, message: str) -> HttpResponse:
    if _is_htmx(request):
        selectors.tasks_with_related([task])
        return render(
            request,
            "collaboration/_task_row.html",
            {"task": task, "now": timezone.now(), "next": _next_url(request)},
        )
    messages.success(request, message)
    return redirect(_next_url(request) or _task_url(task))


@login_required
@permission_required("collaboration.change_task", raise_exception=True)
@require_POST
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    task = services.task_complete(actor=request.user, task=_task_or_404(request, pk))
    return _after_status_change(request, task, _("Task “%(title)s” done.") % {"title": task.title})


@login_required
@permission_required("collaboration.change_task", raise_exception=True)
@require_POST
def task_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    task = services.task_reopen(actor=request.user, task=_task_or_404(request, pk))
    return _after_status_change(
        request, task, _("Task “%(title)s” reopened.") % {"title": task.title}
    )


@login_required
@permission_required("collaboration.delete_task", raise_exception=True)
def task_delete(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(request, pk)
    if request.method == "POST":
        services.task_delete(actor=request.user, task=task)
        messages.success(request, _("Task “%(title)s” deleted.") % {"title": task.title})
        return redirect("collaboration:task_list")
    return render(request, "collaboration/task_confirm_delete.html", {"task": task})


# Notifications -----------------------------------------------------------------------------------


@login_required
@permission_required("collaboration.view_notification", raise_exception=True)
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = notification_selectors.notification_list_for(user=request.user)
    page = Paginator(notifications, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "collaboration/notification_list.html",
        {
            "page": page,
            "notifications": page.object_list,
            "unread_count": notification_selectors.notification_unread_count(user=request.user),
        },
    )


@login_required
@permission_required("collaboration.view_notification", raise_exception=True)
@require_POST
def notification_mark_all_read(request: HttpRequest) -> HttpResponse:
    count = notifications_mark_read(recipient=request.user)
    messages.success(request, _("%(count)d notifications marked read.") % {"count": count})
    return redirect("collaboration:notification_list")


@login_required
@permission_required("collaboration.view_notification", raise_exception=True)
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the notification read and go where it points."""
    try:
        notification = notification_selectors.notification_get_for(user=request.user, pk=pk)
    except Notification.DoesNotExist as exc:
        raise Http404(_("No such notification.")) from exc
    notifications_mark_read(recipient=request.user, notification_ids=[notification.pk])
    target = notification.url
    allowed = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return redirect(target if target and allowed else "collaboration:notification_list")


urlpatterns = [
    path("tasks/", task_list, name="task_list"),
    path("tasks/new/", task_create, name="task_create"),
    path("tasks/<int:pk>/", task_detail, name="task_detail"),
    path("tasks/<int:pk>/edit/", task_edit, name="task_edit"),
    path("tasks/<int:pk>/complete/", task_complete, name="task_complete"),
    path("tasks/<int:pk>/reopen/", task_reopen, name="task_reopen"),
    path("tasks/<int:pk>/delete/", task_delete, name="task_delete"),
    path("notifications/", notification_list, name="notification_list"),
    path("notifications/read/", notification_mark_all_read, name="notification_mark_all_read"),
    path("notifications/<int:pk>/open/", notification_open, name="notification_open"),
]
