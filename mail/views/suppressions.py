"""Suppressed addresses, for administrators: the list with a search, and taking an address off
it so mail may go to it again. Providers' reports add addresses; the API and the admin can too."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from crm.accounts.selectors import user_is_admin
from customers.models import Customer
from customers.registry import ProfilePanel
from mail import selectors
from mail.models import SuppressedAddress
from mail.services import suppressions as services

PAGE_SIZE = 50


def _require_admin(request: HttpRequest) -> None:
    if not user_is_admin(request.user):
        raise PermissionDenied


@login_required
@permission_required("mail.view_suppressedaddress", raise_exception=True)
def suppression_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    search = request.GET.get("q", "").strip()
    suppressed = selectors.suppressed_address_list(user=request.user, search=search)
    page = Paginator(suppressed, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "mail/suppression_list.html", {"page": page, "search": search})


@login_required
@permission_required("mail.delete_suppressedaddress", raise_exception=True)
def suppression_remove(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    try:
        suppressed = selectors.suppressed_address_get(user=request.user, pk=pk)
    except SuppressedAddress.DoesNotExist as exc:
        raise Http404(_("No such suppressed address.")) from exc
    if request.method == "POST":
        services.address_unsuppress(actor=request.user, suppressed=suppressed)
        messages.success(
            request,
            _("Mail may go to %(address)s again.") % {"address": suppressed.address},
        )
        return redirect("mail:suppression_list")
    return render(request, "mail/suppression_confirm_remove.html", {"suppressed": suppressed})


SUPPRESSED_SINCE = {
    SuppressedAddress.Reason.BOUNCED: _lazy("Email to this address bounced on %(date)s."),
    SuppressedAddress.Reason.COMPLAINED: _lazy("Our email was marked as spam on %(date)s."),
    SuppressedAddress.Reason.REJECTED: _lazy(
        "The email provider refused to send to this address on %(date)s."
    ),
}


def _day(at) -> str:
    return date_format(timezone.localtime(at), "DATE_FORMAT")


def customer_mail_standing_panel(customer: Customer, user) -> ProfilePanel | None:
    """The "Email delivery" box on the customer's page, shown only when mail cannot reach them:
    their address is suppressed, or they unsubscribed from marketing email."""
    standing = selectors.customer_mail_standing(customer=customer)
    if not standing:
        return None
    rows = []
    if standing.suppressed_reason:
        since = SUPPRESSED_SINCE[standing.suppressed_reason] % {
            "date": _day(standing.suppressed_at)
        }
        rows.append((_("Address"), since))
        if standing.suppressed_detail:
            rows.append((_("Provider's report"), standing.suppressed_detail))
    if standing.consent_withdrawn_at is not None:
        rows.append(
            (
                _("Marketing email"),
                _("Unsubscribed on %(date)s.") % {"date": _day(standing.consent_withdrawn_at)},
            )
        )
    url = ""
    if standing.suppressed_reason and user_is_admin(user):
        url = f"{reverse('mail:suppression_list')}?{urlencode({'q': customer.email})}"
    return ProfilePanel(title=_("Email delivery"), rows=rows, url=url)


urlpatterns = [
    path("suppressions/", suppression_list, name="suppression_list"),
    path("suppressions/<int:pk>/remove/", suppression_remove, name="suppression_remove"),
]
