"""The public support form at /service/support/: anyone may open a ticket without signing in.

Unlike the sales web form it is not embeddable: it is a page of this site, posted from itself,
so it keeps Django's CSRF check and the default frame-ancestors 'none'. It acts for nobody (it
never looks at who is signed in); bots are kept out by a honeypot field and a rate limit per
address.
"""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import translation
from django.views.decorators.http import require_http_methods

from crm.pages import form_errors_from_service
from service.forms_public import TicketPublicForm
from service.services import public as services


def _page(request: HttpRequest, context: dict, *, status: int = 200) -> HttpResponse:
    return render(request, "service/public_form.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def ticket_public_form(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, {"form": TicketPublicForm()})
    if services.ticket_public_rate_limit_reached(ip_address=request.META.get("REMOTE_ADDR")):
        return _page(request, {"limited": True}, status=429)
    form = TicketPublicForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_public_submit(
                data=form.submitted(),
                honeypot=form.cleaned_data.get(services.HONEYPOT_FIELD, ""),
                language=translation.get_language(),
            )
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            # The same page whether the email was known, new, or a bot filled the honeypot.
            return _page(request, {"sent": True})
    return _page(request, {"form": form}, status=400)


urlpatterns = [
    path("support/", ticket_public_form, name="ticket_public_form"),
]
