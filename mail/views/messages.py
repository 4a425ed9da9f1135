"""Reading email: the list of the mail a user may see (through its customer), one email with its
delivery, opens and clicks and attachments, attachment downloads checked the same way, and the
"Email" box on the customer's page.

Received HTML is never rendered: it may carry scripts, tracking images and forged links, so a
message is always shown as its text."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from crm.pages import render_list_page
from customers.models import Customer
from customers.registry import ProfilePanel, record_url
from customers.selectors.customers import CappedPaginator
from mail import selectors
from mail.forms import EmailFilterForm
from mail.models import EmailAttachment, EmailMessage

PAGE_SIZE = 50
PANEL_EMAILS = 5


@login_required
@permission_required("mail.view_emailmessage", raise_exception=True)
def email_list(request: HttpRequest) -> HttpResponse:
    form = EmailFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    emails = selectors.email_list_visible(
        user=request.user,
        direction=filters.get("direction", ""),
        status=filters.get("status", ""),
        search=filters.get("q", ""),
        customer_id=filters.get("customer"),
    )
    page = CappedPaginator(emails, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_list_page(
        request,
        "mail/email_list.html",
        {
            "form": form,
            "page": page,
            "show_addresses": selectors.email_addresses_visible(user=request.user),
        },
    )


@login_required
@permission_required("mail.view_emailmessage", raise_exception=True)
def email_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        message = selectors.email_get_visible(user=request.user, pk=pk)
    except EmailMessage.DoesNotExist as exc:
        raise Http404(_("No such email.")) from exc
    related_url = ""
    if message.related_type_id and message.related_id:
        related_url = record_url(
            model_label=f"{message.related_type.app_label}.{message.related_type.model}",
            pk=message.related_id,
        )
    return render(
        request,
        "mail/email_detail.html",
        {
            "message": message,
            "attachments": selectors.email_attachments(message=message),
            "related_url": related_url,
            "related_label": message.related_type.name if message.related_type_id else "",
            "show_addresses": selectors.email_addresses_visible(user=request.user),
        },
    )


@login_required
@permission_required("mail.view_emailattachment", raise_exception=True)
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """The file, when its email is visible; always a download, never shown in the page."""
    try:
        attachment = selectors.email_attachment_get_visible(user=request.user, pk=pk)
    except EmailAttachment.DoesNotExist as exc:
        raise Http404(_("No such attachment.")) from exc
    try:
        file = attachment.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404(_("The file is missing from storage.")) from exc
    return FileResponse(file, as_attachment=True, filename=attachment.name)


def customer_emails_panel(customer: Customer, user) -> ProfilePanel | None:
    """The "Email" box on the customer's page: their latest mail, and a button to write."""
    if not user.has_perm("mail.view_emailmessage"):
        return None
    emails = selectors.customer_emails_latest(user=user, customer=customer, limit=PANEL_EMAILS)
    return ProfilePanel(
        title=_("Mail"),
        rows=[],
        url=f"{reverse('mail:email_list')}?customer={customer.pk}",
        template="mail/_customer_panel.html",
        context={
            "emails": emails,
            "compose_url": f"{reverse('mail:compose')}?customer={customer.pk}"
            if user.has_perm("mail.add_emailmessage")
            else "",
        },
    )
