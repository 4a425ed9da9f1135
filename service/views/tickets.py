"""Ticket pages: the list with its queues, filters and bulk actions; a ticket's page with its
thread, reply box, status buttons, assignment and the customer's recent history beside it; the
new-ticket and edit forms; attachment downloads (checked against the ticket's visibility, never
a public media URL); and the canned responses agents insert into replies.

Every change names the version the agent saw; when someone else changed the ticket since, the
page says so with status 409 and writes nothing.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.accounts.field_security import filterset_drop_hidden
from crm.accounts.selectors import record_is_editable_by
from crm.concurrency import StaleRecordError
from crm.pages import form_errors_from_service, is_htmx, render_list_page, safe_next_url
from customers.models import Customer
from customers.registry import ProfilePanel
from customers.selectors.customers import customer_list_visible
from customers.selectors.timeline import customer_timeline
from service.forms import (
    AssignForm,
    BulkForm,
    CannedResponseForm,
    ReplyForm,
    StatusForm,
    TicketCreateForm,
    TicketEditForm,
    customer_for_new_ticket,
    ticket_edit_initial,
    ticket_filter_for_page,
)
from service.models import CannedResponse, Ticket, TicketAttachment
from service.registry import ticket_panels_for
from service.selectors.attachments import ticket_attachment_get_visible
from service.selectors.canned import canned_response_get_visible, canned_response_list_visible
from service.selectors.queues import (
    DEFAULT_QUEUE,
    DEFAULT_SORT,
    QUEUES,
    ticket_queue,
    ticket_queue_counts,
    ticket_sorts_visible,
    tickets_sorted,
)
from service.selectors.tickets import ticket_get_visible, ticket_list_visible, ticket_thread
from service.selectors.timeline import customer_ticket_summary
from service.services.canned import (
    canned_response_create,
    canned_response_delete,
    canned_response_render,
    canned_response_update,
)
from service.services.tickets import (
    WORKFLOW,
    ticket_assign,
    ticket_change_status,
    ticket_create,
    ticket_reply,
    ticket_update,
    tickets_bulk_assign,
    tickets_bulk_close,
)

TICKETS_PER_PAGE = 50
CANNED_PER_PAGE = 50
CANNED_IN_PICKER = 100
CUSTOMER_HISTORY_ENTRIES = 10
Status = Ticket.Status


def _ticket_or_404(request: HttpRequest, pk: int) -> Ticket:
    try:
        return ticket_get_visible(user=request.user, pk=pk)
    except Ticket.DoesNotExist as exc:
        raise Http404(_("No such ticket.")) from exc


def _canned_or_404(request: HttpRequest, pk: int) -> CannedResponse:
    try:
        return canned_response_get_visible(user=request.user, pk=pk)
    except CannedResponse.DoesNotExist as exc:
        raise Http404(_("No such canned response.")) from exc


def _stale_message(ticket: Ticket) -> str:
    return _(
        "Ticket %(number)s was changed by someone else since you opened it; nothing was "
        "saved. Reload the page to see their changes, then make yours again."
    ) % {"number": ticket.number}


# List --------------------------------------------------------------------------------------------


@login_required
@permission_required("service.view_ticket", raise_exception=True)
def ticket_list(request: HttpRequest) -> HttpResponse:
    queue = request.GET.get("queue", DEFAULT_QUEUE)
    if queue not in QUEUES:
        queue = DEFAULT_QUEUE
    sorts = ticket_sorts_visible(user=request.user)
    sort = request.GET.get("sort", DEFAULT_SORT)
    if sort not in sorts:
        sort = DEFAULT_SORT
    ticket_filter = filterset_drop_hidden(
        ticket_filter_for_page(
            params=request.GET, queryset=ticket_queue(user=request.user, queue=queue)
        ),
        user=request.user,
    )
    # Join only what the table shows.
    tickets = ticket_filter.qs.select_related(None).select_related("customer", "assignee", "team")
    page = Paginator(tickets_sorted(tickets=tickets, sort=sort), TICKETS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    counts = ticket_queue_counts(user=request.user)
    customer = None
    if ticket_filter.is_valid() and ticket_filter.form.cleaned_data.get("customer"):
        customer_id = int(ticket_filter.form.cleaned_data["customer"])
        customer = customer_list_visible(user=request.user).filter(pk=customer_id).first()
    return render_list_page(
        request,
        "service/ticket_list.html",
        {
            "filter_form": ticket_filter.form,
            "page": page,
            "queue": queue,
            "queue_tabs": [(key, label, counts[key]) for key, label in QUEUES.items()],
            "sort": sort,
            "sorts": sorts,
            "customer": customer,
            "bulk_form": BulkForm(),
            "now": timezone.now(),
        },
    )


@login_required
@permission_required("service.change_ticket", raise_exception=True)
@require_POST
def tickets_bulk(request: HttpRequest) -> HttpResponse:
    """Assign or close the selected tickets, all or none: a ticket that is gone from the user's
    reach or changed since the list was loaded stops the whole action."""
    back = safe_next_url(request, reverse("service:ticket_list"))
    form = BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.non_field_errors() or form.errors.get("action", [])))
        return redirect(back)
    selected = form.selected
    tickets = list(ticket_list_visible(user=request.user).filter(pk__in=selected).order_by("pk"))
    missing = len(selected) - len(tickets)
    if missing:
        messages.error(
            request,
            _(
                "%(count)d of the selected tickets are not available to you any more; nothing "
                "was changed."
            )
            % {"count": missing},
        )
        return redirect(back)
    for ticket in tickets:
        # The services check each ticket against the version shown on the list.
        ticket.version = selected[ticket.pk]
    action = form.cleaned_data["action"]
    try:
        if action == BulkForm.ACTION_ASSIGN:
            tickets_bulk_assign(
                actor=request.user, tickets=tickets, assignee=form.cleaned_data["assignee"]
            )
        else:
            tickets_bulk_close(actor=request.user, tickets=tickets)
    except StaleRecordError as exc:
        messages.error(
            request,
            _(
                "Ticket %(number)s was changed by someone else since the list was loaded; "
                "nothing was changed. Reload the list and try again."
            )
            % {"number": exc.record.number},
        )
        return redirect(back)
    except ValidationError as exc:
        messages.error(
            request, _("Nothing was changed: %(reason)s") % {"reason": " ".join(exc.messages)}
        )
        return redirect(back)
    if action == BulkForm.ACTION_ASSIGN:
        done = _("%(count)d tickets assigned.") % {"count": len(tickets)}
    else:
        done = _("%(count)d tickets closed.") % {"count": len(tickets)}
    messages.success(request, done)
    return redirect(back)


# A ticket's page ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaClock:
    label: str
    due_at: datetime | None
    state: str  # "met", "breached", "paused", "due" or "" (no target)


def _sla_clock(label: str, *, due_at, done_at, breached: bool, paused: bool, now) -> SlaClock:
    if done_at is not None:
        return SlaClock(label, due_at, "breached" if breached else "met")
    if due_at is None:
        return SlaClock(label, None, "")
    if breached or due_at <= now:
        return SlaClock(label, due_at, "breached")
    return SlaClock(label, due_at, "paused" if paused else "due")


def sla_clocks(ticket: Ticket, *, now: datetime) -> list[SlaClock]:
    paused = ticket.sla_paused_at is not None
    return [
        _sla_clock(
            _("First response"),
            due_at=ticket.first_response_due_at,
            done_at=ticket.first_responded_at,
            breached=ticket.first_response_breached,
            paused=paused,
            now=now,
        ),
        _sla_clock(
            _("Resolution"),
            due_at=ticket.resolution_due_at,
            done_at=ticket.resolved_at,
            breached=ticket.resolution_breached,
            paused=paused,
            now=now,
        ),
    ]


def status_actions(ticket: Ticket) -> list[tuple[str, str]]:
    """The status buttons the workflow allows from the ticket's status: (status, label)."""
    labels = {
        Status.OPEN: _("Reopen")
        if ticket.status in (Status.RESOLVED, Status.CLOSED)
        else _("Mark open"),
        Status.PENDING: _("Set pending on customer"),
        Status.RESOLVED: _("Resolve"),
        Status.CLOSED: _("Close"),
    }
    return [(status, labels[status]) for status in WORKFLOW[ticket.status] if status in labels]


def _customer_side(request: HttpRequest, customer: Customer) -> dict:
    """The customer's recent history beside the thread, when the agent may see the customer."""
    user = request.user
    if not (
        user.has_perm("customers.view_customer")
        and customer_list_visible(user=user).filter(pk=customer.pk).exists()
    ):
        return {"customer_visible": False}
    timeline = customer_timeline(customer=customer, user=user, limit=CUSTOMER_HISTORY_ENTRIES)
    summary = customer_ticket_summary(customer=customer, user=user)
    return {
        "customer_visible": True,
        "customer_history": timeline.entries,
        "customer_open_tickets": summary.open_count,
    }


def _detail_context(
    request: HttpRequest,
    ticket: Ticket,
    *,
    reply_form: ReplyForm | None = None,
    assign_form: AssignForm | None = None,
    error: str = "",
) -> dict:
    now = timezone.now()
    return {
        "ticket": ticket,
        "tags": list(ticket.tags.all()),
        "thread": list(ticket_thread(ticket=ticket)),
        "sla_clocks": sla_clocks(ticket, now=now),
        "status_actions": status_actions(ticket),
        "reply_form": reply_form or ReplyForm(ticket=ticket),
        "assign_form": assign_form
        or AssignForm(initial={"assignee": ticket.assignee_id, "version": ticket.version}),
        "canned_responses": list(
            canned_response_list_visible(user=request.user)
            .select_related(None)
            .only("pk", "name")[:CANNED_IN_PICKER]
        ),
        "error": error,
        "now": now,
        "can_edit": record_is_editable_by(user=request.user, record=ticket),
        "panels": ticket_panels_for(ticket, request.user),
        **_customer_side(request, ticket.customer),
    }


def _detail_error(request: HttpRequest, ticket: Ticket, message: str, status: int, **forms):
    return render(
        request,
        "service/ticket_detail.html",
        _detail_context(request, ticket, error=message, **forms),
        status=status,
    )


@login_required
@permission_required("service.view_ticket", raise_exception=True)
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, pk)
    return render(request, "service/ticket_detail.html", _detail_context(request, ticket))


@login_required
@permission_required("service.change_ticket", raise_exception=True)
@require_POST
def ticket_reply_page(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, pk)
    form = ReplyForm(request.POST, request.FILES, ticket=ticket)
    if form.is_valid():
        values = form.cleaned_data
        try:
            message = ticket_reply(
                actor=request.user,
                ticket=ticket,
                body=values["body"],
                kind=values["kind"],
                attachments=values["attachments"],
                status=values["status"] or None,
            )
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            if is_htmx(request):
                # The thread grows by the new message; the header, the reply form and the
                # assignment's version follow the ticket the reply changed.
                ticket = _ticket_or_404(request, pk)
                return render(
                    request,
                    "service/_ticket_reply_added.html",
                    {**_detail_context(request, ticket), "message": message},
                )
            if message.kind == message.Kind.NOTE:
                messages.success(request, _("Note added."))
            else:
                messages.success(request, _("Reply added."))
            return redirect(f"{reverse('service:ticket_detail', args=[ticket.pk])}#thread")
    if is_htmx(request):
        # htmx swaps only a successful answer: the form comes back with its errors, in its place.
        response = render(
            request,
            "service/_ticket_reply_form.html",
            _detail_context(request, ticket, reply_form=form),
        )
        response["HX-Retarget"] = "#ticket-reply"
        response["HX-Reswap"] = "innerHTML"
        return response
    return _detail_error(request, ticket, _("The message was not added."), 400, reply_form=form)


@login_required
@permission_required("service.change_ticket", raise_exception=True)
@require_POST
def ticket_status(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _detail_error(request, ticket, _("Choose one of the statuses offered."), 400)
    try:
        ticket = ticket_change_status(
            actor=request.user,
            ticket=ticket,
            status=form.cleaned_data["status"],
            version=form.cleaned_data["version"],
        )
    except StaleRecordError:
        return _detail_error(request, ticket, _stale_message(ticket), 409)
    except ValidationError as exc:
        return _detail_error(request, ticket, " ".join(exc.messages), 400)
    messages.success(
        request,
        _("Ticket %(number)s is now %(status)s.")
        % {"number": ticket.number, "status": ticket.get_status_display()},
    )
    return redirect("service:ticket_detail", pk=ticket.pk)


@login_required
@permission_required("service.change_ticket", raise_exception=True)
@require_POST
def ticket_assign_page(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, pk)
    form = AssignForm(request.POST)
    if not form.is_valid():
        return _detail_error(
            request, ticket, _("Choose someone to assign to."), 400, assign_form=form
        )
    try:
        ticket = ticket_assign(
            actor=request.user,
            ticket=ticket,
            assignee=form.cleaned_data["assignee"],
            version=form.cleaned_data["version"],
        )
    except StaleRecordError:
        return _detail_error(request, ticket, _stale_message(ticket), 409)
    except ValidationError as exc:
        return _detail_error(request, ticket, " ".join(exc.messages), 400, assign_form=form)
    if ticket.assignee is None:
        messages.success(request, _("Ticket %(number)s unassigned.") % {"number": ticket.number})
    else:
        messages.success(
            request,
            _("Ticket %(number)s assigned to %(user)s.")
            % {"number": ticket.number, "user": ticket.assignee},
        )
    return redirect("service:ticket_detail", pk=ticket.pk)


@login_required
@permission_required("service.view_ticket", raise_exception=True)
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    try:
        attachment = ticket_attachment_get_visible(user=request.user, pk=pk)
    except TicketAttachment.DoesNotExist as exc:
        raise Http404(_("No such attachment.")) from exc
    try:
        file = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("The file is missing from storage.")) from exc
    return FileResponse(file, as_attachment=True, filename=attachment.name)


# Create and edit ---------------------------------------------------------------------------------


@login_required
@permission_required("service.add_ticket", raise_exception=True)
def ticket_create_page(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        status = 400
        form = TicketCreateForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            values = form.service_values()
            try:
                ticket = ticket_create(
                    actor=request.user,
                    customer=values.pop("customer"),
                    subject=values.pop("subject"),
                    description=values.pop("description"),
                    attachments=values.pop("attachments"),
                    **values,
                )
            except ValidationError as exc:
                form_errors_from_service(form, exc)
            else:
                messages.success(
                    request, _("Ticket %(number)s opened.") % {"number": ticket.number}
                )
                return redirect("service:ticket_detail", pk=ticket.pk)
    else:
        customer = customer_for_new_ticket(
            user=request.user, customer_id=request.GET.get("customer", "")
        )
        form = TicketCreateForm(
            initial={"customer": customer.pk if customer else None}, user=request.user
        )
    return render(
        request, "service/ticket_form.html", {"form": form, "ticket": None}, status=status
    )


@login_required
@permission_required("service.change_ticket", raise_exception=True)
def ticket_edit(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(request, pk)
    status = 200
    if request.method == "POST":
        status = 400
        form = TicketEditForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                ticket_update(
                    actor=request.user,
                    ticket=ticket,
                    version=form.cleaned_data["version"],
                    **form.service_values(),
                )
            except StaleRecordError:
                form.add_error(None, _stale_message(ticket))
                status = 409
            except ValidationError as exc:
                form_errors_from_service(form, exc)
            else:
                messages.success(request, _("Ticket %(number)s saved.") % {"number": ticket.number})
                return redirect("service:ticket_detail", pk=ticket.pk)
    else:
        form = TicketEditForm(initial=ticket_edit_initial(ticket), user=request.user)
    return render(
        request,
        "service/ticket_form.html",
        {"form": form, "ticket": ticket, "is_stale": status == 409},
        status=status,
    )


# Canned responses --------------------------------------------------------------------------------


@login_required
@permission_required("service.view_cannedresponse", raise_exception=True)
def canned_list(request: HttpRequest) -> HttpResponse:
    responses = canned_response_list_visible(user=request.user).order_by("name", "pk")
    page = Paginator(responses, CANNED_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "service/canned_list.html", {"page": page})


@login_required
@permission_required("service.add_cannedresponse", raise_exception=True)
def canned_create(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        status = 400
        form = CannedResponseForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                response = canned_response_create(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from_service(form, exc)
            else:
                messages.success(
                    request, _("Canned response “%(name)s” added.") % {"name": response.name}
                )
                return redirect("service:canned_list")
    else:
        form = CannedResponseForm(user=request.user)
    return render(
        request, "service/canned_form.html", {"form": form, "response": None}, status=status
    )


@login_required
@permission_required("service.change_cannedresponse", raise_exception=True)
def canned_edit(request: HttpRequest, pk: int) -> HttpResponse:
    response = _canned_or_404(request, pk)
    status = 200
    if request.method == "POST":
        status = 400
        form = CannedResponseForm(request.POST, user=request.user, response=response)
        if form.is_valid():
            try:
                canned_response_update(actor=request.user, response=response, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from_service(form, exc)
            else:
                messages.success(
                    request, _("Canned response “%(name)s” saved.") % {"name": response.name}
                )
                return redirect("service:canned_list")
    else:
        form = CannedResponseForm(
            initial={"name": response.name, "body": response.body, "team": response.team_id},
            user=request.user,
            response=response,
        )
    return render(
        request,
        "service/canned_form.html",
        {"form": form, "response": response},
        status=status,
    )


@login_required
@permission_required("service.delete_cannedresponse", raise_exception=True)
def canned_delete(request: HttpRequest, pk: int) -> HttpResponse:
    response = _canned_or_404(request, pk)
    if request.method == "POST":
        canned_response_delete(actor=request.user, response=response)
        messages.success(
            request, _("Canned response “%(name)s” deleted.") % {"name": response.name}
        )
        return redirect("service:canned_list")
    return render(request, "service/canned_confirm_delete.html", {"response": response})


@login_required
@permission_required("service.view_cannedresponse", raise_exception=True)
@require_GET
def canned_render(request: HttpRequest, pk: int) -> JsonResponse:
    """The response's text filled in for ?ticket=<id>, for the reply box (static/js/tickets.js)."""
    response = _canned_or_404(request, pk)
    ticket_id = request.GET.get("ticket", "")
    if not ticket_id.isdigit():
        raise Http404(_("No such ticket."))
    ticket = _ticket_or_404(request, int(ticket_id))
    text = canned_response_render(response=response, ticket=ticket, agent=request.user)
    return JsonResponse({"text": text})


# The customer 360 page ---------------------------------------------------------------------------


def customer_tickets_panel(customer: Customer, user) -> ProfilePanel | None:
    """The "Tickets" box on the customer's page: open count, the latest ticket, links."""
    if not user.has_perm("service.view_ticket"):
        return None
    summary = customer_ticket_summary(customer=customer, user=user)
    list_url = f"{reverse('service:ticket_list')}?queue=all&customer={customer.pk}"
    rows: list[tuple[str, str]] = [(_("Open tickets"), str(summary.open_count))]
    last = summary.last_ticket
    if last is not None:
        rows.append(
            (
                _("Last ticket"),
                format_html(
                    '<a href="{}">{} {}</a> <small class="text-body-secondary">{}</small>',
                    reverse("service:ticket_detail", args=[last.pk]),
                    last.number,
                    last.subject,
                    last.get_status_display(),
                ),
            )
        )
    if user.has_perm("service.add_ticket"):
        url = f"{reverse('service:ticket_create')}?customer={customer.pk}"
        rows.append(("", format_html('<a href="{}">{}</a>', url, _("New ticket"))))
    return ProfilePanel(title=_("Tickets"), rows=rows, url=list_url)


urlpatterns = [
    path("tickets/", ticket_list, name="ticket_list"),
    path("tickets/new/", ticket_create_page, name="ticket_create"),
    path("tickets/bulk/", tickets_bulk, name="tickets_bulk"),
    path("tickets/<int:pk>/", ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/edit/", ticket_edit, name="ticket_edit"),
    path("tickets/<int:pk>/reply/", ticket_reply_page, name="ticket_reply"),
    path("tickets/<int:pk>/status/", ticket_status, name="ticket_status"),
    path("tickets/<int:pk>/assign/", ticket_assign_page, name="ticket_assign"),
    path("tickets/attachments/<int:pk>/", attachment_download, name="ticket_attachment"),
    path("canned-responses/", canned_list, name="canned_list"),
    path("canned-responses/new/", canned_create, name="canned_create"),
    path("canned-responses/<int:pk>/edit/", canned_edit, name="canned_edit"),
    path("canned-responses/<int:pk>/delete/", canned_delete, name="canned_delete"),
    path("canned-responses/<int:pk>/render/", canned_render, name="canned_render"),
]
