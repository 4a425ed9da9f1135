"""The "Send email" section of an email campaign's page: starting a mailing, its list with
progress and figures (refreshed by htmx while one is being sent), and cancelling one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sales.forms_campaign_mail import CampaignMailingForm
from sales.models import Campaign, CampaignMailing
from sales.selectors import campaign_mail as selectors
from sales.selectors.campaigns import campaign_get_visible
from sales.services import campaign_mail as services

MAILINGS_PER_PAGE = 10
# While one of these is shown the list asks for itself again every few seconds.
RUNNING = frozenset(services.MAILING_RUNNING)


def _campaign_or_404(request: HttpRequest, pk: int) -> Campaign:
    try:
        return campaign_get_visible(user=request.user, pk=pk)
    except Campaign.DoesNotExist as exc:
        raise Http404(_("No such campaign.")) from exc


def campaign_mailings_context(request: HttpRequest, campaign: Campaign) -> dict:
    """What the section shows: the page of mailings asked for, and whether any is running."""
    page = Paginator(selectors.campaign_mailings_of(campaign=campaign), MAILINGS_PER_PAGE).get_page(
        request.GET.get("mailings_page")
    )
    return {
        "campaign": campaign,
        "mailings": page,
        "mailings_running": any(mailing.status in RUNNING for mailing in page),
    }


def campaign_mail_section(request: HttpRequest, campaign: Campaign) -> dict:
    """The campaign page's context for its "Send email" section (email campaigns only)."""
    if campaign.type != Campaign.Type.EMAIL or not request.user.has_perm(
        "sales.view_campaignmailing"
    ):
        return {}
    context = {"mail_section": True, **campaign_mailings_context(request, campaign)}
    if request.user.has_perm("sales.add_campaignmailing"):
        context["mail_form"] = CampaignMailingForm(auto_id="mailing-%s")
        context["mail_recipient_count"] = selectors.campaign_mail_recipient_count(campaign=campaign)
    return context


@login_required
@permission_required("sales.view_campaignmailing", raise_exception=True)
def campaign_mailings(request: HttpRequest, pk: int) -> HttpResponse:
    """The list of mailings alone, for htmx to swap in."""
    campaign = _campaign_or_404(request, pk)
    return render(
        request, "sales/_campaign_mailings.html", campaign_mailings_context(request, campaign)
    )


@login_required
@permission_required("sales.add_campaignmailing", raise_exception=True)
@require_POST
def campaign_mailing_start(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(request, pk)
    form = CampaignMailingForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("sales:campaign_detail", pk=campaign.pk)
    try:
        services.campaign_mailing_start(actor=request.user, campaign=campaign, **form.cleaned_data)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(
            request, _("The campaign's email is being sent; the list below shows how far it got.")
        )
    return redirect("sales:campaign_detail", pk=campaign.pk)


@login_required
@permission_required("sales.change_campaignmailing", raise_exception=True)
@require_POST
def campaign_mailing_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        mailing = selectors.campaign_mailing_get_visible(user=request.user, pk=pk)
    except CampaignMailing.DoesNotExist as exc:
        raise Http404(_("No such mailing.")) from exc
    try:
        services.campaign_mailing_cancel(actor=request.user, mailing=mailing)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(request, _("The mailing was cancelled."))
    return redirect("sales:campaign_detail", pk=mailing.campaign_id)


urlpatterns = [
    path("campaigns/<int:pk>/mailings/", campaign_mailings, name="campaign_mailings"),
    path(
        "campaigns/<int:pk>/mailings/start/",
        campaign_mailing_start,
        name="campaign_mailing_start",
    ),
    path(
        "campaigns/mailings/<int:pk>/cancel/",
        campaign_mailing_cancel,
        name="campaign_mailing_cancel",
    ),
]
