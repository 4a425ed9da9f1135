"""Mailbox pages, for administrators: the list with where each mailbox's polling stands, create,
edit (the password never shown back), delete and poll now."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.admin_services import error_text
from crm.pages import form_errors_from_service
from mail import selectors
from mail.forms import MailboxForm
from mail.models import Mailbox
from mail.services import mailboxes as services

PAGE_SIZE = 50


def _mailbox_or_404(request: HttpRequest, pk: int) -> Mailbox:
    try:
        return selectors.mailbox_get(user=request.user, pk=pk)
    except Mailbox.DoesNotExist as exc:
        raise Http404(_("No such mailbox.")) from exc


@login_required
@permission_required("mail.view_mailbox", raise_exception=True)
def mailbox_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.mailbox_list(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "mail/mailbox_list.html", {"page": page})


def _form_page(request: HttpRequest, *, mailbox: Mailbox | None) -> HttpResponse:
    form = MailboxForm(request.POST or None, instance=mailbox)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in services.MAILBOX_EDITABLE_FIELDS}
        try:
            if mailbox is None:
                saved = services.mailbox_create(actor=request.user, **values)
            else:
                saved = services.mailbox_update(actor=request.user, mailbox=mailbox, **values)
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("Mailbox “%(name)s” saved.") % {"name": saved.name})
            return redirect("mail:mailbox_list")
    return render(request, "mail/mailbox_form.html", {"form": form, "mailbox": mailbox})


@login_required
@permission_required("mail.add_mailbox", raise_exception=True)
def mailbox_create(request: HttpRequest) -> HttpResponse:
    return _form_page(request, mailbox=None)


@login_required
@permission_required("mail.change_mailbox", raise_exception=True)
def mailbox_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _form_page(request, mailbox=_mailbox_or_404(request, pk))


@login_required
@permission_required("mail.delete_mailbox", raise_exception=True)
def mailbox_delete(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = _mailbox_or_404(request, pk)
    if request.method == "POST":
        services.mailbox_delete(actor=request.user, mailbox=mailbox)
        messages.success(request, _("Mailbox “%(name)s” deleted.") % {"name": mailbox.name})
        return redirect("mail:mailbox_list")
    return render(request, "mail/mailbox_confirm_delete.html", {"mailbox": mailbox})


@require_POST
@login_required
@permission_required("mail.change_mailbox", raise_exception=True)
def mailbox_poll(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = _mailbox_or_404(request, pk)
    try:
        services.mailbox_poll_request(actor=request.user, mailbox=mailbox)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            _("Mailbox “%(name)s” is being polled; reload in a moment to see how it went.")
            % {"name": mailbox.name},
        )
    return redirect("mail:mailbox_list")
