"""Set-aside mail, for administrators: what could not be taken in, open items first; one with
its reason and headers; its raw .eml to download; retry and dismiss."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.admin_services import error_text
from mail import selectors
from mail.models import InboundSetAside
from mail.services import inbound

PAGE_SIZE = 50


def _item_or_404(request: HttpRequest, pk: int) -> InboundSetAside:
    try:
        return selectors.set_aside_get(user=request.user, pk=pk)
    except InboundSetAside.DoesNotExist as exc:
        raise Http404(_("No such message.")) from exc


@login_required
@permission_required("mail.view_inboundsetaside", raise_exception=True)
def set_aside_list(request: HttpRequest) -> HttpResponse:
    open_only = request.GET.get("open") == "1"
    items = selectors.set_aside_list(user=request.user, open_only=open_only)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "mail/set_aside_list.html", {"page": page, "open_only": open_only})


@login_required
@permission_required("mail.view_inboundsetaside", raise_exception=True)
def set_aside_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    return render(
        request,
        "mail/set_aside_detail.html",
        {"item": item, "headers": selectors.set_aside_headers(item=item)},
    )


@login_required
@permission_required("mail.view_inboundsetaside", raise_exception=True)
def set_aside_download(request: HttpRequest, pk: int) -> FileResponse:
    item = _item_or_404(request, pk)
    # Always a download, never shown inline: the message is whatever a stranger sent.
    return FileResponse(
        item.raw.open("rb"),
        as_attachment=True,
        filename=f"set-aside-{item.pk}.eml",
        content_type="message/rfc822",
    )


@require_POST
@login_required
@permission_required("mail.change_inboundsetaside", raise_exception=True)
def set_aside_retry(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    try:
        outcome = inbound.inbound_set_aside_retry(actor=request.user, item=item)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        if outcome.status == inbound.STORED:
            messages.success(request, _("The message was taken in."))
        elif outcome.status == inbound.DUPLICATE:
            messages.success(request, _("The message had already been taken in."))
        else:
            messages.error(
                request,
                _("The message was set aside again: %(detail)s") % {"detail": item.detail},
            )
    return redirect("mail:set_aside_detail", pk=item.pk)


@require_POST
@login_required
@permission_required("mail.change_inboundsetaside", raise_exception=True)
def set_aside_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    inbound.inbound_set_aside_dismiss(actor=request.user, item=item)
    messages.success(request, _("The message was dismissed; its raw copy is kept."))
    return redirect("mail:set_aside_list")
