"""Deal pages: the list, a deal's page with its lines and stage history, the form to add or edit
one (with its line items), deleting, and the stage move the board and the deal page post to.

Every change names the version the user saw; when someone else changed the deal since, the page
says so with status 409 and writes nothing.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from collaboration.selectors.tasks import tasks_for_record, tasks_with_related
from crm.accounts.field_security import field_access, filterset_drop_hidden
from crm.accounts.selectors import record_is_editable_by
from crm.concurrency import StaleRecordError
from crm.formatting import format_money
from crm.pages import form_errors_from_service, render_list_page, safe_next_url
from customers.models import Customer
from customers.registry import ProfilePanel
from customers.selectors.customers import customer_list_visible
from customers.selectors.records import product_list_active
from sales.forms import (
    DealForm,
    DealLineFormSet,
    MoveForm,
    deal_filter_for_page,
    deal_lines_filled,
    stage_label,
)
from sales.models import Deal
from sales.selectors.deals import (
    board_column_totals,
    deal_get_visible,
    deal_list_visible,
    deal_stage_history,
    deals_with_stale_flag,
    pipeline_stages,
)
from sales.selectors.timeline import customer_open_deal_totals
from sales.services.deals import (
    deal_create,
    deal_delete,
    deal_move_stage,
    deal_update,
    pipeline_default,
)
from sales.views.board import (
    board_deals,
    board_url,
    cards_prepare,
)

DEALS_PER_PAGE = 50
DEAL_TASKS_SHOWN = 20
DEAL_ORDERINGS = {
    "-created_at": (gettext_lazy("Newest first"), ("-created_at", "-pk")),
    "created_at": (gettext_lazy("Oldest first"), ("created_at", "pk")),
    "-amount": (gettext_lazy("Largest amount first"), ("-amount", "-pk")),
    "amount": (gettext_lazy("Smallest amount first"), ("amount", "pk")),
    "expected_close_date": (
        gettext_lazy("Closing soonest first"),
        (F("expected_close_date").asc(nulls_last=True), "pk"),
    ),
    "-expected_close_date": (
        gettext_lazy("Closing latest first"),
        (F("expected_close_date").desc(nulls_last=True), "-pk"),
    ),
}
DEFAULT_DEAL_ORDERING = "-created_at"


def deal_orderings_visible(*, user) -> dict:
    """The orderings of DEAL_ORDERINGS on fields `user` may see: a sort reveals the values."""
    access = field_access(user=user, model=Deal)
    return {
        key: value for key, value in DEAL_ORDERINGS.items() if access.can_see(key.removeprefix("-"))
    }


def _deal_or_404(request: HttpRequest, pk: int) -> Deal:
    try:
        return deal_get_visible(user=request.user, pk=pk)
    except Deal.DoesNotExist as exc:
        raise Http404(_("No such deal.")) from exc


def duration_label(seconds: int | None) -> str:
    if seconds is None:
        return ""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": rest // 60}
    return _("%(minutes)d min") % {"minutes": rest // 60}


# List --------------------------------------------------------------------------------------------


@login_required
@permission_required("sales.view_deal", raise_exception=True)
def deal_list(request: HttpRequest) -> HttpResponse:
    deal_filter = filterset_drop_hidden(
        deal_filter_for_page(params=request.GET, queryset=deal_list_visible(user=request.user)),
        user=request.user,
    )
    orderings = deal_orderings_visible(user=request.user)
    ordering = request.GET.get("ordering", "")
    if ordering not in orderings:
        ordering = DEFAULT_DEAL_ORDERING
    # Join only what the table shows: each further relation makes PostgreSQL plan for longer.
    deals = (
        deals_with_stale_flag(deal_filter.qs)
        .select_related(None)
        .select_related("customer", "owner", "pipeline", "stage")
        .order_by(*DEAL_ORDERINGS[ordering][1])
    )
    page = Paginator(deals, DEALS_PER_PAGE).get_page(request.GET.get("page"))
    customer = None
    customer_id = deal_filter.form.cleaned_data.get("customer") if deal_filter.is_valid() else None
    if customer_id:
        customer = customer_list_visible(user=request.user).filter(pk=int(customer_id)).first()
    return render_list_page(
        request,
        "sales/deal_list.html",
        {
            "filter_form": deal_filter.form,
            "page": page,
            "ordering": ordering,
            "ordering_labels": {key: label for key, (label, _keys) in orderings.items()},
            "customer": customer,
        },
    )


# Detail ------------------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, deal: Deal, *, move_form: MoveForm | None = None) -> dict:
    lines = list(deal.lines.select_related("product"))
    tasks = tasks_with_related(
        list(tasks_for_record(record=deal, user=request.user)[:DEAL_TASKS_SHOWN])
    )
    history = list(deal_stage_history(deal=deal))
    for change in history:
        change.time_in_previous = duration_label(change.seconds_in_from_stage)
    return {
        "deal": deal,
        "lines": lines,
        "lines_total": sum((line.line_total for line in lines), 0),
        "history": history,
        "stages": pipeline_stages(pipeline=deal.pipeline),
        "move_form": move_form,
        "lost_reasons": Deal.LostReason.choices,
        "tasks": tasks,
        "now": timezone.now(),
        "can_edit": record_is_editable_by(user=request.user, record=deal),
    }


@login_required
@permission_required("sales.view_deal", raise_exception=True)
def deal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal_or_404(request, pk)
    return render(request, "sales/deal_detail.html", _detail_context(request, deal))


# Create and edit ---------------------------------------------------------------------------------


def _line_initial(deal: Deal) -> list[dict]:
    return [
        {
            "product": line.product_id,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "discount_percent": line.discount_percent,
        }
        for line in deal.lines.all()
    ]


def _deal_initial(deal: Deal) -> dict:
    return {
        "name": deal.name,
        "customer": deal.customer_id,
        "stage": deal.stage_id,
        "amount": deal.amount,
        "currency": deal.currency,
        "expected_close_date": deal.expected_close_date,
        "owner": deal.owner_id,
        "team": deal.team_id,
        "forecast_category": deal.forecast_category,
        "source": deal.source,
        "campaign": deal.campaign_id,
        "next_step": deal.next_step,
        "lost_reason": deal.lost_reason,
        "lost_note": deal.lost_note,
        "description": deal.description,
        "version": deal.version,
    }


def _products() -> dict:
    return {product.pk: product for product in product_list_active()}


@login_required
@permission_required("sales.add_deal", raise_exception=True)
def deal_create_page(request: HttpRequest) -> HttpResponse:
    line_kwargs = {"products": _products()}
    status = 200
    if request.method == "POST":
        status = 400
        form = DealForm(request.POST, user=request.user)
        lines = DealLineFormSet(request.POST, prefix="lines", form_kwargs=line_kwargs)
        if form.is_valid() and lines.is_valid():
            filled = deal_lines_filled(lines)
            try:
                deal = deal_create(
                    actor=request.user, lines=filled or None, **form.service_values()
                )
            except ValidationError as exc:
                form_errors_from_service(form, exc)
            else:
                messages.success(request, _("Deal “%(name)s” added.") % {"name": deal.name})
                return redirect("sales:deal_detail", pk=deal.pk)
    else:
        initial = {}
        customer_id = request.GET.get("customer", "")
        if customer_id.isdigit():
            initial["customer"] = int(customer_id)
        form = DealForm(initial=initial, user=request.user)
        form.fields["stage"].initial = _default_stage_id()
        lines = DealLineFormSet(prefix="lines", form_kwargs=line_kwargs)
    return render(
        request,
        "sales/deal_form.html",
        {"form": form, "lines": lines, "deal": None},
        status=status,
    )


def _default_stage_id() -> int | None:
    try:
        pipeline = pipeline_default()
    except ValidationError:
        return None
    stage = next(
        (stage for stage in pipeline_stages(pipeline=pipeline) if not stage.is_closed), None
    )
    return stage.pk if stage else None


@login_required
@permission_required("sales.change_deal", raise_exception=True)
def deal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal_or_404(request, pk)
    line_kwargs = {"products": _products()}
    status = 200
    if request.method == "POST":
        form = DealForm(request.POST, user=request.user, deal=deal)
        lines = DealLineFormSet(request.POST, prefix="lines", form_kwargs=line_kwargs)
        if form.is_valid() and lines.is_valid():
            filled = deal_lines_filled(lines)
            had_lines = deal.lines.exists()
            try:
                deal_update(
                    actor=request.user,
                    deal=deal,
                    version=form.cleaned_data["version"],
                    lines=filled if filled or had_lines else None,
                    **form.service_values(),
                )
            except StaleRecordError:
                form.add_error(
                    None,
                    _(
                        "This deal was changed by someone else since you opened it; nothing "
                        "was saved. Reload the page to see their changes, then make yours again."
                    ),
                )
                status = 409
            except ValidationError as exc:
                form_errors_from_service(form, exc)
            else:
                messages.success(request, _("Deal “%(name)s” saved.") % {"name": deal.name})
                return redirect("sales:deal_detail", pk=deal.pk)
        if status == 200:
            status = 400
    else:
        form = DealForm(initial=_deal_initial(deal), user=request.user, deal=deal)
        lines = DealLineFormSet(
            prefix="lines", initial=_line_initial(deal), form_kwargs=line_kwargs
        )
    return render(
        request,
        "sales/deal_form.html",
        {"form": form, "lines": lines, "deal": deal, "is_stale": status == 409},
        status=status,
    )


@login_required
@permission_required("sales.delete_deal", raise_exception=True)
def deal_delete_page(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal_or_404(request, pk)
    if request.method == "POST":
        deal_delete(actor=request.user, deal=deal)
        messages.success(request, _("Deal “%(name)s” deleted.") % {"name": deal.name})
        return redirect("sales:board_pipeline", pipeline_id=deal.pipeline_id)
    return render(request, "sales/deal_confirm_delete.html", {"deal": deal})


# Stage move --------------------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def _move_error(request: HttpRequest, deal: Deal, form: MoveForm, message: str, status: int):
    if _wants_json(request):
        return JsonResponse({"error": message}, status=status)
    context = _detail_context(request, deal, move_form=form)
    stage = form.cleaned_data.get("stage")
    context.update(
        error=message,
        next=safe_next_url(request, ""),
        selected_stage_id=stage.pk if stage else deal.stage_id,
        selected_lost_reason=request.POST.get("lost_reason", ""),
        selected_lost_note=request.POST.get("lost_note", ""),
    )
    return render(request, "sales/deal_move.html", context, status=status)


def _move_json(request: HttpRequest, deal: Deal) -> JsonResponse:
    """The moved card (with its new version) and every column's header, for the board."""
    stages = pipeline_stages(pipeline=deal.pipeline)
    card = deals_with_stale_flag(deal_list_visible(user=request.user).filter(pk=deal.pk)).get()
    cards_prepare([card], stages=stages)
    _deal_filter, deals = board_deals(request)
    headers = board_column_totals(deals=deals.filter(pipeline=deal.pipeline), stages=stages)
    url = board_url(pipeline=deal.pipeline, params=request.GET)
    return JsonResponse(
        {
            "stage": deal.stage_id,
            "version": deal.version,
            "card": render_to_string(
                "sales/_deal_card.html",
                {"deal": card, "stages": stages, "board_url": url},
                request=request,
            ),
            "headers": {
                str(header.stage.pk): render_to_string(
                    "sales/_board_column_header.html", {"column": header}, request=request
                )
                for header in headers
            },
        }
    )


@login_required
@permission_required("sales.change_deal", raise_exception=True)
@require_POST
def deal_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a deal to another stage: JSON for the board's script, else back to where the form
    was (the board or the deal page)."""
    deal = _deal_or_404(request, pk)
    form = MoveForm(request.POST, deal=deal)
    if not form.is_valid():
        message = " ".join(
            f"{form[name].label}: {' '.join(errors)}" if name in form.fields else " ".join(errors)
            for name, errors in form.errors.items()
        )
        return _move_error(request, deal, form, message, 400)
    values = form.cleaned_data
    try:
        deal = deal_move_stage(
            actor=request.user,
            deal=deal,
            stage=values["stage"],
            version=values["version"],
            lost_reason=values["lost_reason"],
            lost_note=values["lost_note"],
        )
    except StaleRecordError:
        message = _(
            "“%(name)s” was changed by someone else since this page was loaded; it was not "
            "moved. Reload the page and try again."
        ) % {"name": deal.name}
        return _move_error(request, deal, form, message, 409)
    except ValidationError as exc:
        form_errors_from_service(form, exc)
        return _move_error(request, deal, form, " ".join(exc.messages), 400)
    if _wants_json(request):
        return _move_json(request, deal)
    messages.success(
        request,
        _("“%(name)s” moved to %(stage)s.") % {"name": deal.name, "stage": stage_label(deal.stage)},
    )
    return redirect(safe_next_url(request, reverse("sales:deal_detail", args=[deal.pk])))


# The customer 360 page ---------------------------------------------------------------------------


def customer_deals_panel(customer: Customer, user) -> ProfilePanel | None:
    """The "Open deals" box on the customer's page: how many and how much, with links."""
    if not user.has_perm("sales.view_deal"):
        return None
    count, amounts = customer_open_deal_totals(customer=customer, user=user)
    rows = [(_("Open deals"), str(count))]
    if field_access(user=user, model=Deal).can_see("amount"):
        amount_text = ", ".join(format_money(amount, currency) for currency, amount in amounts)
        rows.append((_("Open amount"), amount_text or format_money(0, "")))
    if user.has_perm("sales.add_deal"):
        url = f"{reverse('sales:deal_create')}?customer={customer.pk}"
        rows.append(("", format_html('<a href="{}">{}</a>', url, _("New deal"))))
    return ProfilePanel(
        title=_("Open deals"),
        rows=rows,
        url=f"{reverse('sales:deal_list')}?customer={customer.pk}&status=open",
    )


urlpatterns = [
    path("deals/", deal_list, name="deal_list"),
    path("deals/new/", deal_create_page, name="deal_create"),
    path("deals/<int:pk>/", deal_detail, name="deal_detail"),
    path("deals/<int:pk>/edit/", deal_edit, name="deal_edit"),
    path("deals/<int:pk>/delete/", deal_delete_page, name="deal_delete"),
    path("deals/<int:pk>/move/", deal_move, name="deal_move"),
]
