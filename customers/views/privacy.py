"""Privacy actions on one customer, for admins: the JSON export, erasure and their audit trail."""

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.accounts.models import User
from customers.models import Customer
from customers.selectors.customers import customer_get_visible
from customers.selectors.privacy import privacy_request_list_visible
from customers.services.privacy import (
    ERASE_PERMISSION,
    EXPORT_PERMISSION,
    customer_erase,
    customer_personal_data_export,
)

REQUESTS_PER_PAGE = 25


class EraseForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("For example the data subject's request and its date."),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand that erasure cannot be undone."), required=True
    )


def _customer_or_404(user: User, pk: int) -> Customer:
    try:
        return customer_get_visible(user=user, pk=pk)
    except Customer.DoesNotExist as exc:
        raise Http404(_("No such customer.")) from exc


def _privacy_page(
    request: HttpRequest, customer: Customer, erase_form: EraseForm, status: int = 200
) -> HttpResponse:
    requests = privacy_request_list_visible(user=request.user, customer=customer)
    page = Paginator(requests, REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "customers/privacy/customer_privacy.html",
        {
            "customer": customer,
            "erase_form": erase_form,
            "can_erase": request.user.has_perm(ERASE_PERMISSION),
            "page": page,
        },
        status=status,
    )


@login_required
@permission_required(EXPORT_PERMISSION, raise_exception=True)
def customer_privacy(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(request.user, pk)
    return _privacy_page(request, customer, EraseForm())


@login_required
@require_POST
@permission_required(EXPORT_PERMISSION, raise_exception=True)
def customer_privacy_export(request: HttpRequest, pk: int) -> HttpResponse:
    # A POST, not a link: every export is recorded as a privacy request.
    customer = _customer_or_404(request.user, pk)
    data = customer_personal_data_export(actor=request.user, customer=customer)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
    return response


@login_required
@require_POST
@permission_required(ERASE_PERMISSION, raise_exception=True)
def customer_privacy_erase(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer_or_404(request.user, pk)
    form = EraseForm(request.POST)
    if form.is_valid():
        try:
            customer_erase(
                actor=request.user, customer=customer, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("The customer's personal data was erased."))
            return redirect("customers:customer_privacy", pk=customer.pk)
    return _privacy_page(request, customer, form, status=400)


urlpatterns = [
    path("<int:pk>/privacy/", customer_privacy, name="customer_privacy"),
    path("<int:pk>/privacy/export/", customer_privacy_export, name="customer_privacy_export"),
    path("<int:pk>/privacy/erase/", customer_privacy_erase, name="customer_privacy_erase"),
]
