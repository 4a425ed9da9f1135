from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from customers.models import Customer
from customers.selectors import customers as selectors


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        customer = selectors.customer_get_visible(user=request.user, pk=pk)
    except Customer.DoesNotExist as exc:
        raise Http404(_("No such customer.")) from exc
    return render(request, "customers/customer_detail.html", {"customer": customer})


urlpatterns = [
    path("<int:pk>/", customer_detail, name="customer_detail"),
]
