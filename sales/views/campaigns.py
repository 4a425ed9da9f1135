"""Campaign pages: the list, a campaign with its figures and members, create, edit and delete,
adding and removing members and recording their responses, and the report with its CSV."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.audit.models import AuditEvent
from crm.audit.services import audit_event_record
from crm.pages import form_errors_from_service, is_htmx, render_list_page
from crm.replicas import reads_from_replica
from customers.services.export import spreadsheet_safe
from sales.forms_campaigns import (
    CampaignFilterForm,
    CampaignForm,
    CampaignMemberAddForm,
    CampaignMemberResponseForm,
    CampaignReportFilterForm,
)
from sales.models import Campaign, CampaignMember
from sales.selectors import campaigns as selectors
from sales.services import campaigns as services
from sales.views.campaign_mail import campaign_mail_section

CAMPAIGNS_PER_PAGE = 25
MEMBERS_PER_PAGE = 50
REPORT_PER_PAGE = 50
REPORT_CSV_CHUNK = 500
# Left blank on a new campaign, the service picks them: the creator and their team.
DEFAULTED_ON_CREATE = frozenset({"owner", "team"})


def _campaign_or_404(request: HttpRequest, pk: int) -> Campaign:
    try:
        return selectors.campaign_get_visible(user=request.user, pk=pk)
    except Campaign.DoesNotExist as exc:
        raise Http404(_("No such campaign.")) from exc


def _member_or_404(request: HttpRequest, pk: int) -> CampaignMember:
    try:
        return selectors.campaign_member_get_visible(user=request.user, pk=pk)
    except CampaignMember.DoesNotExist as exc:
        raise Http404(_("No such campaign member.")) from exc


def _detail_url(campaign_id: int) -> str:
    return reverse("sales:campaign_detail", args=[campaign_id])


def _show_errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@login_required
@permission_required("sales.view_campaign", raise_exception=True)
def campaign_list(request: HttpRequest) -> HttpResponse:
    filters = CampaignFilterForm(request.GET or None)
    campaigns = selectors.campaign_list_filtered(user=request.user, **filters.selector_filters())
    page = Paginator(campaigns, CAMPAIGNS_PER_PAGE).get_page(request.GET.get("page"))
    return render_list_page(request, "sales/campaign_list.html", {"filters": filters, "page": page})


def _campaign_form_page(request: HttpRequest, *, campaign: Campaign | None) -> HttpResponse:
    initial = (
        {name: getattr(campaign, name) for name in services.CAMPAIGN_EDITABLE_FIELDS}
        if campaign
        else {}
    )
    form = CampaignForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            if campaign is None:
                values = {
                    name: value
                    for name, value in form.cleaned_data.items()
                    if value is not None or name not in DEFAULTED_ON_CREATE
                }
                saved = services.campaign_create(actor=request.user, **values)
            else:
                saved = services.campaign_update(
                    actor=request.user, campaign=campaign, **form.cleaned_data
                )
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("Campaign “%(name)s” saved.") % {"name": saved.name})
            return redirect("sales:campaign_detail", pk=saved.pk)
    return render(request, "sales/campaign_form.html", {"form": form, "campaign": campaign})


@login_required
@permission_required("sales.add_campaign", raise_exception=True)
def campaign_create(request: HttpRequest) -> HttpResponse:
    return _campaign_form_page(request, campaign=None)


@login_required
@permission_required("sales.change_campaign", raise_exception=True)
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_form_page(request, campaign=_campaign_or_404(request, pk))


@login_required
@permission_required("sales.delete_campaign", raise_exception=True)
def campaign_delete(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    if request.method == "POST":
        services.campaign_delete(actor=request.user, campaign=campaign)
        messages.success(request, _("Campaign “%(name)s” deleted.") % {"name": campaign.name})
        return redirect("sales:campaign_list")
    return render(request, "sales/campaign_confirm_delete.html", {"campaign": campaign})


@login_required
@permission_required("sales.view_campaign", raise_exception=True)
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        campaign = selectors.campaign_get_visible_with_figures(user=request.user, pk=pk)
    except Campaign.DoesNotExist as exc:
        raise Http404(_("No such campaign.")) from exc
    response = request.GET.get("response", "")
    if response not in CampaignMember.Response.values:
        response = ""
    members = selectors.campaign_members(campaign=campaign, response=response)
    page = Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "sales/campaign_detail.html",
        {
            "campaign": campaign,
            "figures": selectors.campaign_figures(campaign),
            "page": page,
            "response": response,
            "responses": CampaignMember.Response.choices,
            "add_form": CampaignMemberAddForm(user=request.user, auto_id="member-add-%s"),
            "is_email": campaign.type == Campaign.Type.EMAIL,
            **campaign_mail_section(request, campaign),
        },
    )


@login_required
@permission_required("sales.add_campaignmember", raise_exception=True)
@require_POST
def campaign_member_add(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    form = CampaignMemberAddForm(request.POST, user=request.user)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("sales:campaign_detail", pk=campaign.pk)
    customer = form.cleaned_data["customer"]
    try:
        services.campaign_member_add(actor=request.user, campaign=campaign, customer=customer)
    except ValidationError as exc:
        _show_errors(request, exc)
    else:
        messages.success(request, _("%(name)s added.") % {"name": customer.name})
    return redirect("sales:campaign_detail", pk=campaign.pk)


@login_required
@permission_required("sales.add_campaignmember", raise_exception=True)
@require_POST
def campaign_members_add_segment(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    try:
        result = services.campaign_members_queue_from_segment(actor=request.user, campaign=campaign)
    except ValidationError as exc:
        _show_errors(request, exc)
    else:
        if result.ready():
            added = result.get()
            messages.success(
                request,
                _("%(count)s members added from the segment.") % {"count": added},
            )
        else:
            messages.info(
                request,
                _("The segment's customers are being added; reload the page in a moment."),
            )
    return redirect("sales:campaign_detail", pk=campaign.pk)


@login_required
@permission_required("sales.change_campaignmember", raise_exception=True)
@require_POST
def campaign_member_response(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member_or_404(request, pk)
    form = CampaignMemberResponseForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.campaign_member_set_response(
                actor=request.user, member=member, response=form.cleaned_data["response"]
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = " ".join(form.errors["response"])
    if is_htmx(request):
        return render(
            request,
            "sales/campaign_member_row.html",
            {"member": member, "responses": CampaignMember.Response.choices, "error": error},
            status=400 if error else 200,
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Response of %(name)s saved.") % {"name": member.customer})
    return redirect("sales:campaign_detail", pk=member.campaign_id)


@login_required
@permission_required("sales.delete_campaignmember", raise_exception=True)
@require_POST
def campaign_member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member_or_404(request, pk)
    services.campaign_member_remove(actor=request.user, member=member)
    messages.success(request, _("%(name)s removed.") % {"name": member.customer})
    return redirect("sales:campaign_detail", pk=member.campaign_id)


def _report_rows(campaigns):
    for campaign in campaigns:
        yield campaign, selectors.campaign_figures(campaign)


@login_required
@permission_required("sales.view_campaign", raise_exception=True)
@reads_from_replica
def campaign_report(request: HttpRequest) -> HttpResponse:
    """Every campaign the user may see with what it brought in, one query per page; the
    figures count all the deals and orders attributed to each (see sales.selectors.campaigns)."""
    filters = CampaignReportFilterForm(request.GET or None)
    campaigns = selectors.campaign_report(user=request.user, **filters.selector_filters())
    page = Paginator(campaigns, REPORT_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "sales/campaign_report.html",
        {
            "filters": filters,
            "page": page,
            "rows": list(_report_rows(page)),
            "query": request.GET.urlencode(),
        },
    )


REPORT_COLUMNS = [
    ("name", gettext_lazy("Campaign")),
    ("type", gettext_lazy("Type")),
    ("status", gettext_lazy("Status")),
    ("start_date", gettext_lazy("Start date")),
    ("end_date", gettext_lazy("End date")),
    ("currency", gettext_lazy("Currency")),
    ("budget", gettext_lazy("Budget")),
    ("actual_cost", gettext_lazy("Actual cost")),
    ("members", gettext_lazy("Members")),
    ("sent", gettext_lazy("Sent")),
    ("opened", gettext_lazy("Opened")),
    ("responded", gettext_lazy("Responded")),
    ("converted", gettext_lazy("Converted")),
    ("deals", gettext_lazy("Deals attributed")),
    ("won_deals", gettext_lazy("Won deals")),
    ("won_revenue", gettext_lazy("Won deal revenue")),
    ("order_revenue", gettext_lazy("Order revenue")),
    ("revenue", gettext_lazy("Revenue")),
    ("cost_per_lead", gettext_lazy("Cost per lead")),
    ("conversion_rate", gettext_lazy("Conversion rate")),
    ("roi", gettext_lazy("ROI")),
]


def _report_csv_cells(campaign: Campaign, figures: selectors.CampaignFigures) -> list:
    cells = {
        "name": spreadsheet_safe(campaign.name),
        "type": campaign.type,
        "status": campaign.status,
        "start_date": campaign.start_date or "",
        "end_date": campaign.end_date or "",
        "currency": campaign.currency,
        "budget": campaign.budget,
    }
    return [
        cells[key] if key in cells else _blank_none(getattr(figures, key))
        for key, _label in REPORT_COLUMNS
    ]


def _blank_none(value):
    return "" if value is None else value


@login_required
@permission_required("sales.view_campaign", raise_exception=True)
@reads_from_replica
def campaign_report_csv(request: HttpRequest) -> HttpResponse:
    """The report's campaigns (same filters, not paged) as CSV; ratios are decimals (0.25)."""
    filters = CampaignReportFilterForm(request.GET or None)
    campaigns = selectors.campaign_report(user=request.user, **filters.selector_filters())
    audit_event_record(
        kind=AuditEvent.Kind.EXPORT,
        actor=request.user,
        details={"what": "campaign report", "format": "csv", "filters": request.GET.dict()},
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="campaigns-{stamp}.csv"'
    # A byte order mark, so that spreadsheet programs read the Chinese names as UTF-8.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([str(label) for _key, label in REPORT_COLUMNS])
    for campaign, figures in _report_rows(campaigns.iterator(chunk_size=REPORT_CSV_CHUNK)):
        writer.writerow(_report_csv_cells(campaign, figures))
    return response


urlpatterns = [
    path("campaigns/", campaign_list, name="campaign_list"),
    path("campaigns/new/", campaign_create, name="campaign_create"),
    path("campaigns/report/", campaign_report, name="campaign_report"),
    path("campaigns/report.csv", campaign_report_csv, name="campaign_report_csv"),
    path("campaigns/<int:pk>/", campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/delete/", campaign_delete, name="campaign_delete"),
    path("campaigns/<int:pk>/members/add/", campaign_member_add, name="campaign_member_add"),
    path(
        "campaigns/<int:pk>/members/add-segment/",
        campaign_members_add_segment,
        name="campaign_members_add_segment",
    ),
    path(
        "campaigns/members/<int:pk>/response/",
        campaign_member_response,
        name="campaign_member_response",
    ),
    path(
        "campaigns/members/<int:pk>/remove/",
        campaign_member_remove,
        name="campaign_member_remove",
    ),
]
