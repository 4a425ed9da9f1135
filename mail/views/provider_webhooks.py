"""The providers' webhooks (django-anymail's views), refused outright when no secret is set.

Anymail accepts unauthenticated posts with only a warning when CRM_ANYMAIL_WEBHOOK_SECRET is
unset; anyone could then feed the CRM mail and bounces. Outside DEBUG each webhook answers 403
until the secret is set, which the provider then sends as HTTP basic auth."""

from functools import wraps

from anymail import urls as anymail_urls
from django.conf import settings
from django.http import JsonResponse
from django.urls import URLPattern
from django.views.decorators.csrf import csrf_exempt

UNCONFIGURED_MESSAGE = (
    "This webhook is switched off: set CRM_ANYMAIL_WEBHOOK_SECRET and give the provider a URL "
    "with it as user:password."
)


def webhooks_accept_posts() -> bool:
    return bool((settings.ANYMAIL or {}).get("WEBHOOK_SECRET")) or settings.DEBUG


def _secret_required(view):
    @csrf_exempt
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not webhooks_accept_posts():
            return JsonResponse({"error": UNCONFIGURED_MESSAGE}, status=403)
        return view(request, *args, **kwargs)

    return guarded


urlpatterns = [
    URLPattern(
        pattern.pattern, _secret_required(pattern.callback), pattern.default_args, pattern.name
    )
    for pattern in anymail_urls.urlpatterns
]
