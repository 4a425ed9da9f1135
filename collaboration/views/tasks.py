"""Pages for follow-up tasks.

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
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from collaboration.forms import TaskCommentForm, TaskForm, TaskMoveForm
from collaboration.models import Task, TaskComment
from collaboration.selectors import task_board as board_selectors
from collaboration.selectors import task_comments as comment_selectors
from collaboration.selectors import tasks as selectors
from collaboration.services import task_comments as comment_services
from collaboration.services import tasks as services
from crm.accounts.selectors import record_is_editable_by, user_is_admin
from crm.concurrency import StaleRecordError
from crm.pages import form_errors_from_service, is_htmx, render_list_page, safe_next_url

TASKS_PER_PAGE = 50
# The list page offers these of TaskFilter's filters; its tabs stand for the others.
PAGE_FILTERS = ("q", "status", "priority", "kind", "assignee", "team", "due_from", "due_to")


def _task_url(task: Task) -> str:
    return reverse("collaboration:task_detail", args=[task.pk])


def _task_or_404(request: HttpRequest, pk: int) -> Task:
    try:
        return selectors.task_get_visible(user=request.user, pk=pk)
    except Task.DoesNotExist as exc:
        raise Http404(_("No such task.")) from exc


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
    return render_list_page(
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
                form_errors_from_service(form, exc)
            else:
                messages.success(request, _("Task “%(title)s” added.") % {"title": task.title})
                return redirect(safe_next_url(request) or _task_url(task))
    else:
        form = TaskForm(initial=_related_initial(request))
    return render(
        request,
        "collaboration/task_form.html",
        {
            "form": form,
            "task": None,
            "related": _related_record(request, form),
            "next": safe_next_url(request),
        },
    )


@login_required
@permission_required("collaboration.view_task", raise_exception=True)
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(request, pk)
    selectors.tasks_with_related([task])
    return render(
        request,
        "collaboration/task_detail.html",
        {
            "task": task,
            "now": timezone.now(),
            "can_edit": record_is_editable_by(user=request.user, record=task),
            **_comments_context(request, task),
        },
    )


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
                form_errors_from_service(form, exc)
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
    if is_htmx(request):
        selectors.tasks_with_related([task])
        return render(
            request,
            "collaboration/_task_row.html",
            {"task": task, "now": timezone.now(), "next": safe_next_url(request)},
        )
    messages.success(request, message)
    return redirect(safe_next_url(request) or _task_url(task))


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


# Comments ----------------------------------------------------------------------------------------


def _comments_context(
    request: HttpRequest, task: Task, form: TaskCommentForm | None = None
) -> dict:
    return {
        "task": task,
        "comments": comment_selectors.task_comments_for(user=request.user, task=task),
        "comment_form": form or TaskCommentForm(),
        "may_delete_any_comment": user_is_admin(request.user),
    }


def _comments_response(request: HttpRequest, task: Task, form: TaskCommentForm | None = None):
    """The comments section for htmx (errors included: htmx swaps only a 200), else the task."""
    if is_htmx(request):
        return render(
            request, "collaboration/_task_comments.html", _comments_context(request, task, form)
        )
    if form is not None and form.errors:
        selectors.tasks_with_related([task])
        context = {"task": task, "now": timezone.now(), **_comments_context(request, task, form)}
        return render(request, "collaboration/task_detail.html", context, status=400)
    return redirect(f"{_task_url(task)}#task-comments")


@login_required
@permission_required("collaboration.add_taskcomment", raise_exception=True)
@require_POST
def task_comment_add(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(request, pk)
    form = TaskCommentForm(request.POST)
    if form.is_valid():
        try:
            comment_services.task_comment_add(
                actor=request.user, task=task, body=form.cleaned_data["body"]
            )
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            return _comments_response(request, task)
    return _comments_response(request, task, form)


@login_required
@permission_required("collaboration.delete_taskcomment", raise_exception=True)
@require_POST
def task_comment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        comment = comment_selectors.task_comment_get_visible(user=request.user, pk=pk)
    except TaskComment.DoesNotExist as exc:
        raise Http404(_("No such comment.")) from exc
    comment_services.task_comment_delete(actor=request.user, comment=comment)
    return _comments_response(request, _task_or_404(request, comment.task_id))


# The board ---------------------------------------------------------------------------------------


def _board_scope(request: HttpRequest) -> tuple[str, int | None]:
    """The board's scope ("mine" or "team") and team (for "team", none: all the user's teams)."""
    scope = request.GET.get("scope", "mine")
    if scope not in board_selectors.BOARD_SCOPES:
        scope = "mine"
    try:
        team_id = int(request.GET.get("team", ""))
    except ValueError:
        team_id = None
    return scope, team_id if scope == "team" else None


def _board_query(scope: str, team_id: int | None) -> str:
    return urlencode({"scope": scope, **({"team": team_id} if team_id else {})})


def _board_list_url(scope: str, team_id: int | None, status: str) -> str:
    """The task list holding a whole column, for when the board shows only its first cards."""
    query = {"tab": "all", "status": status}
    if scope == "mine":
        query["mine"] = "true"
    elif team_id:
        query["team"] = team_id
    else:
        query["my_teams"] = "true"
    return f"{reverse('collaboration:task_list')}?{urlencode(query)}"


def _board_page(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    scope, team_id = _board_scope(request)
    tasks = board_selectors.task_board_tasks(user=request.user, scope=scope, team_id=team_id)
    columns = board_selectors.task_board_columns(tasks=tasks)
    for column in columns:
        column.list_url = _board_list_url(scope, team_id, column.status)
    board_query = _board_query(scope, team_id)
    return render(
        request,
        "collaboration/task_board.html",
        {
            "columns": columns,
            "statuses": Task.Status.choices,
            "scope": scope,
            "team_id": team_id,
            "teams": selectors.task_teams_for(user=request.user),
            "board_query": board_query,
            "board_url": f"{reverse('collaboration:task_board')}?{board_query}",
            "recent_days": board_selectors.BOARD_RECENT_DAYS,
            "now": timezone.now(),
            "error": error,
        },
        status=status,
    )


@login_required
@permission_required("collaboration.view_task", raise_exception=True)
def task_board(request: HttpRequest) -> HttpResponse:
    return _board_page(request)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _move_refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": message}, status=status)
    return _board_page(request, error=message, status=status)


@login_required
@permission_required("collaboration.change_task", raise_exception=True)
@require_POST
def task_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a card to another column: JSON (its new version and every column's count) for the
    board's script, else back to the board. The board's scope comes in the query string."""
    task = _task_or_404(request, pk)
    form = TaskMoveForm(request.POST)
    if not form.is_valid():
        message = " ".join(error for errors in form.errors.values() for error in errors)
        return _move_refused(request, message, 400)
    try:
        task = services.task_update(
            actor=request.user,
            task=task,
            version=form.cleaned_data["version"],
            status=form.cleaned_data["status"],
        )
    except StaleRecordError:
        message = _(
            "“%(title)s” was changed by someone else since this page was loaded; it was not "
            "moved. Reload the page and try again."
        ) % {"title": task.title}
        return _move_refused(request, message, 409)
    except ValidationError as exc:
        return _move_refused(request, " ".join(exc.messages), 400)
    if _wants_json(request):
        scope, team_id = _board_scope(request)
        tasks = board_selectors.task_board_tasks(user=request.user, scope=scope, team_id=team_id)
        return JsonResponse(
            {
                "status": task.status,
                "version": task.version,
                "counts": board_selectors.task_board_counts(tasks=tasks),
            }
        )
    messages.success(
        request,
        _("“%(title)s” moved to %(status)s.")
        % {"title": task.title, "status": task.get_status_display()},
    )
    return redirect(safe_next_url(request) or reverse("collaboration:task_board"))


urlpatterns = [
    path("tasks/", task_list, name="task_list"),
    path("tasks/board/", task_board, name="task_board"),
    path("tasks/new/", task_create, name="task_create"),
    path("tasks/<int:pk>/", task_detail, name="task_detail"),
    path("tasks/<int:pk>/edit/", task_edit, name="task_edit"),
    path("tasks/<int:pk>/complete/", task_complete, name="task_complete"),
    path("tasks/<int:pk>/reopen/", task_reopen, name="task_reopen"),
    path("tasks/<int:pk>/delete/", task_delete, name="task_delete"),
    path("tasks/<int:pk>/move/", task_move, name="task_move"),
    path("tasks/<int:pk>/comments/", task_comment_add, name="task_comment_add"),
    path("tasks/comments/<int:pk>/delete/", task_comment_delete, name="task_comment_delete"),
]
