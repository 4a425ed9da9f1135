"""The user's own signature, added below the mail they send."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from mail import selectors
from mail.forms import SignatureForm
from mail.services.outbound import signature_set


@login_required
@permission_required("mail.change_emailsignature", raise_exception=True)
def signature_edit(request: HttpRequest) -> HttpResponse:
    current = selectors.signature_get(user=request.user)
    form = SignatureForm(request.POST or None, initial={"body": current.body if current else ""})
    if request.method == "POST" and form.is_valid():
        signature_set(user=request.user, body=form.cleaned_data["body"])
        messages.success(request, _("Your signature is saved."))
        return redirect("mail:signature")
    return render(request, "mail/signature_form.html", {"form": form})
