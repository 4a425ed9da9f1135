from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from crm.audit import selectors
from crm.audit.forms import AuditEventFilterForm, RecordChangeFilterForm
from crm.audit.registry import record_history_kind
from crm.pages import render_list_page

LOG_PAGE_SIZE = 50
DEFAULT_RECORD_TYPE = "customers.customer"


@login_required
def record_history(request: HttpRequest, type_label: str, pk: int) -> HttpResponse:
    """The history section of a record's page; 404 when the user may not see the record."""
    kind = record_history_kind(type_label)
    if kind is None:
        raise Http404
    opts = kind.model._meta
    if not request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
        raise Http404
    record = kind.visible(user=request.user).filter(pk=pk).first()
    if record is None:
        raise Http404
    page = selectors.record_history_list(
        record=record, user=request.user, page=request.GET.get("page") or 1
    )
    return render(
        request,
        "audit/_history.html",
        {"record": record, "page": page, "history_url": request.path},
    )


def _record_link(model, pk: int) -> str:
    kind = record_history_kind(model._meta.label_lower)
    if kind is not None and kind.url is not None:
        return kind.record_url(pk)
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])
    except NoReverseMatch:
        return ""


@login_required
@permission_required("audit.view_auditevent", raise_exception=True)
def audit_event_list(request: HttpRequest) -> HttpResponse:
    form = AuditEventFilterForm(request.GET)
    events = selectors.audit_event_list(**form.filters()) if form.is_valid() else []
    page = Paginator(events, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render_list_page(
        request, "audit/event_list.html", {"form": form, "page": page, "tab": "events"}
    )


@login_required
@permission_required("audit.view_auditevent", raise_exception=True)
def record_change_list(request: HttpRequest) -> HttpResponse:
    data = request.GET.copy()
    data.setdefault("type", DEFAULT_RECORD_TYPE)
    form = RecordChangeFilterForm(data)
    if form.is_valid():
        model = form.model()
        changes = selectors.record_change_list(model=model, **form.filters())
    else:
        model = None
        changes = []
    page = Paginator(changes, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        (change, _record_link(model, change.id) if change.history_type != "-" else "")
        for change in page.object_list
    ]
    return render_list_page(
        request,
        "audit/change_list.html",
        {"form": form, "page": page, "rows": rows, "model": model, "tab": "changes"},
    )
