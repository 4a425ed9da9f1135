"""The deal board: a pipeline's stages as columns, with their counts and amounts, cards a page
at a time per column, the board's filters and a quick add at the top of the first column.

Cards are moved by dragging (static/js/board.js posts to sales:deal_move) or, from the keyboard
and without JavaScript, by the "Move to" menu each card carries.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from crm.accounts.field_security import filterset_drop_hidden
from crm.pages import form_errors_from_service, is_htmx
from sales.forms import BOARD_FILTER_FIELDS, QuickDealForm, deal_filter_for_page
from sales.models import Deal, Pipeline, Stage
from sales.selectors.deals import (
    BOARD_COLUMN_PAGE_SIZE,
    board_column_cards,
    board_columns,
    deal_list_visible,
    pipeline_list_active,
    pipeline_stages,
)
from sales.services.deals import deal_create, pipeline_default


def board_filter_query(params: QueryDict) -> str:
    """The board's filters from `params`, as a query string to carry over to links and posts."""
    query = QueryDict(mutable=True)
    for name in BOARD_FILTER_FIELDS:
        values = [value for value in params.getlist(name) if value]
        if values:
            query.setlist(name, values)
    return query.urlencode()


def board_url(*, pipeline: Pipeline, params: QueryDict) -> str:
    query = board_filter_query(params)
    url = reverse("sales:board_pipeline", args=[pipeline.pk])
    return f"{url}?{query}" if query else url


def board_deals(request: HttpRequest) -> tuple:
    """The board's filter (for its form) and the deals it lets through, visible to the user."""
    deal_filter = filterset_drop_hidden(
        deal_filter_for_page(
            params=request.GET,
            queryset=deal_list_visible(user=request.user),
            fields=BOARD_FILTER_FIELDS,
        ),
        user=request.user,
    )
    return deal_filter, deal_filter.qs


def _move_options(stages: list[Stage]) -> dict[int, str]:
    """Each stage's "Move to" <option> list with that stage selected, built once per page: a
    board renders a hundred cards or more, each with the same options."""
    labels = [(stage.pk, stage.kind, _(stage.name)) for stage in stages]
    return {
        current: format_html_join(
            "",
            '<option value="{}" data-kind="{}"{}>{}</option>',
            (
                (pk, kind, mark_safe(" selected") if pk == current else "", label)
                for pk, kind, label in labels
            ),
        )
        for current, _kind, _label in labels
    }


def cards_prepare(cards: list[Deal], *, stages: list[Stage]) -> list[Deal]:
    """Give each card its days in stage and its "Move to" options."""
    now = timezone.now()
    options = _move_options(stages)
    for card in cards:
        card.days_in_stage = (now - card.stage_entered_at).days
        card.move_options = options.get(card.stage_id, "")
    return cards


def _pipeline_or_404(pipeline_id: int) -> Pipeline:
    pipeline = pipeline_list_active().filter(pk=pipeline_id).first()
    if pipeline is None:
        raise Http404(_("No such pipeline."))
    return pipeline


def _board_page(
    request: HttpRequest,
    pipeline: Pipeline | None,
    *,
    quick_form: QuickDealForm | None = None,
    status: int = 200,
) -> HttpResponse:
    deal_filter, deals = board_deals(request)
    columns = board_columns(deals=deals, pipeline=pipeline) if pipeline else []
    stages = [column.stage for column in columns]
    for column in columns:
        cards_prepare(column.cards, stages=stages)
    if quick_form is None and request.user.has_perm("sales.add_deal"):
        quick_form = QuickDealForm(user=request.user)
    return render(
        request,
        "sales/board.html",
        {
            "pipeline": pipeline,
            "pipelines": list(pipeline_list_active()),
            "columns": columns,
            "stages": stages,
            "filter_form": deal_filter.form,
            "filter_query": board_filter_query(request.GET),
            "board_url": board_url(pipeline=pipeline, params=request.GET) if pipeline else "",
            "page_size": BOARD_COLUMN_PAGE_SIZE,
            "quick_form": quick_form,
            "lost_reasons": Deal.LostReason.choices,
        },
        status=status,
    )


@login_required
@permission_required("sales.view_deal", raise_exception=True)
def board(request: HttpRequest) -> HttpResponse:
    try:
        pipeline = pipeline_default()
    except ValidationError:
        pipeline = None
    return _board_page(request, pipeline)


@login_required
@permission_required("sales.view_deal", raise_exception=True)
def board_pipeline(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    pipeline = _pipeline_or_404(pipeline_id)
    if request.method != "POST":
        return _board_page(request, pipeline)
    if not request.user.has_perm("sales.add_deal"):
        raise PermissionDenied
    form = QuickDealForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            deal = deal_create(actor=request.user, pipeline=pipeline, **form.service_values())
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("Deal “%(name)s” added.") % {"name": deal.name})
            return redirect(board_url(pipeline=pipeline, params=request.GET))
    return _board_page(request, pipeline, quick_form=form, status=400)


@login_required
@permission_required("sales.view_deal", raise_exception=True)
def board_column(request: HttpRequest, pipeline_id: int, stage_id: int) -> HttpResponse:
    """The next cards of one column (the "Load more" button), with the board's filters."""
    pipeline = _pipeline_or_404(pipeline_id)
    stages = pipeline_stages(pipeline=pipeline)
    stage = next((stage for stage in stages if stage.pk == stage_id), None)
    if stage is None:
        raise Http404(_("No such stage in this pipeline."))
    try:
        offset = int(request.GET.get("offset", 0))
    except ValueError:
        offset = -1
    if offset < 0:
        return HttpResponseBadRequest(_("The offset must be a whole number, 0 or more."))
    _deal_filter, deals = board_deals(request)
    cards, has_more = board_column_cards(
        deals=deals.filter(pipeline=pipeline), stage=stage, offset=offset
    )
    context = {
        "pipeline": pipeline,
        "stage": stage,
        "stages": stages,
        "cards": cards_prepare(cards, stages=stages),
        "has_more": has_more,
        "next_offset": offset + len(cards),
        "filter_query": board_filter_query(request.GET),
        "board_url": board_url(pipeline=pipeline, params=request.GET),
    }
    if is_htmx(request):
        return render(request, "sales/_board_column_cards.html", context)
    return render(request, "sales/board_column.html", context)


urlpatterns = [
    path("board/", board, name="board"),
    path("board/<int:pipeline_id>/", board_pipeline, name="board_pipeline"),
    path("board/<int:pipeline_id>/stages/<int:stage_id>/cards/", board_column, name="board_column"),
]
