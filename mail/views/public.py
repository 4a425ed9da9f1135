"""The links in the mail the CRM sends, which anyone holding the email may follow without
signing in: unsubscribe (/mail/u/<token>/), the open-counting image (/mail/o/<token>.gif) and
the click-counting redirect (/mail/c/<token>/).

Each token is signed (mail.tokens), so it names only the customer, message and URL it was made
for; a token we did not sign is a 404. The views act for nobody (they never look at who is
signed in), so the session gates let them through.

Unsubscribe answers GET with a page and a button, and unsubscribes on POST only: link scanners
and mail clients' previews fetch every link in a message, and must not unsubscribe anyone. The
POST is also RFC 8058's One-Click unsubscribe, which mail programs send with no cookies and no
CSRF token (body `List-Unsubscribe=One-Click`); it is CSRF-exempt for that reason, and safe to be,
since it changes nothing but the consent its signed URL names."""

import base64

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from crm.security import acts_for_nobody
from mail import selectors, tokens
from mail.services import engagement

# The smallest transparent GIF: 1×1, one transparent colour.
TRANSPARENT_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
ONE_CLICK_BODY = ("List-Unsubscribe", "One-Click")


def _not_found() -> Http404:
    return Http404(_("This link is not valid."))


@acts_for_nobody
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        customer_id, message_id = tokens.unsubscribe_token_read(token)
    except signing.BadSignature as exc:
        raise _not_found() from exc
    customer = selectors.customer_for_unsubscribe(customer_id=customer_id)
    if customer is None:
        raise _not_found()
    context = {"address": customer.email, "token": token}
    if request.method == "POST":
        one_click = request.POST.get(ONE_CLICK_BODY[0]) == ONE_CLICK_BODY[1]
        engagement.customer_unsubscribe(
            customer_id=customer.pk,
            message_id=message_id,
            source=engagement.UnsubscribeSource.ONE_CLICK
            if one_click
            else engagement.UnsubscribeSource.LINK,
        )
        context["done"] = True
    return render(request, "mail/unsubscribe.html", context)


@acts_for_nobody
@require_http_methods(["GET", "HEAD"])
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    try:
        message_id = tokens.open_token_read(token)
    except signing.BadSignature as exc:
        raise _not_found() from exc
    if request.method == "GET":
        engagement.email_open_record(message_id=message_id)
    response = HttpResponse(TRANSPARENT_GIF, content_type="image/gif")
    # Every open reaches us: no cache (the mail client's, a proxy's) answers in our place.
    add_never_cache_headers(response)
    return response


@acts_for_nobody
@never_cache
@require_http_methods(["GET", "HEAD"])
def click(request: HttpRequest, token: str) -> HttpResponse:
    try:
        message_id, url = tokens.click_token_read(token)
    except signing.BadSignature as exc:
        raise _not_found() from exc
    # The signature already keeps this from being an open redirect; the scheme check keeps a
    # signed link from ever leading to javascript: or data: either.
    if not url.lower().startswith(("http://", "https://")):
        raise _not_found()
    if request.method == "GET":
        engagement.email_click_record(message_id=message_id)
    return HttpResponseRedirect(url)


urlpatterns = [
    path("u/<str:token>/", unsubscribe, name="unsubscribe"),
    path("o/<str:token>.gif", open_pixel, name="open"),
    path("c/<str:token>/", click, name="click"),
]
